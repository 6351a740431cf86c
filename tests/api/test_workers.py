"""``ejournal serve --workers N`` (``api.workers``): each worker listens on a socket of its own, so
that connections opened together spread over the workers; a worker that dies is replaced;
SIGTERM stops them all; a taken address, or a worker that cannot start, is a clear error. Workers
die with their supervisor, however it dies, and a worker is not ready while nothing projects.

No clause: how the service is run. The processes are real (spawned by a real ``ejournal serve``
on a SQLite file), and which worker holds a connection is read from /proc.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ejournal import commands as c
from ejournal.identity.vault import VAULT_KEY_VARIABLE, new_key
from ejournal.ledger.actor import SYSTEM_ACTOR
from ejournal.ledger.application import Ledger
from tests.api.processes import (
    HOST,
    alive,
    children_of,
    free_port,
    holders,
    listeners,
    parent_of,
    serve,
    stop,
    wait_for,
    workers_of,
)

WORKERS = 3
STALL_VARIABLE = "EJOURNAL_PROJECTOR_STALL_SECONDS"


def _serve(
    tmp_path: Path,
    port: int,
    workers: int,
    vault_key: str,
    environ: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    return serve(
        _database(tmp_path), port, workers, {VAULT_KEY_VARIABLE: vault_key, **(environ or {})}
    )


def _database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'served.db'}"


def _get_health(client: socket.socket) -> bytes:
    client.sendall(f"GET /health HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
    response = b""
    while not response.endswith(b'{"status":"ok"}'):
        chunk = client.recv(4096)
        assert chunk, f"the server closed the connection after {response!r}"
        response += chunk
    return response


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """A server with ``WORKERS`` workers, each listening: (supervisor pid, port)."""
    port = free_port()
    server = _serve(tmp_path_factory.mktemp("workers"), port, WORKERS, new_key())
    try:
        wait_for(lambda: listeners(port) == WORKERS, f"{WORKERS} listening sockets")
        yield server.pid, port
    finally:
        stop(server)


def test_connections_opened_together_spread_over_every_worker(served: tuple[int, int]) -> None:
    supervisor, port = served
    # Opened before any is served, as a proxy's pool or the benchmark opens them. With one
    # shared socket the first worker to wake took them all; hashed over three sockets, forty
    # connections miss a worker with probability 3 x (2/3)^40, about 2e-7.
    clients = [socket.create_connection((HOST, port)) for _ in range(40)]
    try:
        for client in clients:
            assert _get_health(client).startswith(b"HTTP/1.1 200")
        workers = workers_of(supervisor)
        held = holders(port, clients, workers)
        assert sum(held.values()) == len(clients)
        assert set(held) == workers and len(workers) == WORKERS, held
    finally:
        for client in clients:
            client.close()


def test_a_worker_that_dies_is_replaced(served: tuple[int, int]) -> None:
    supervisor, port = served
    workers = workers_of(supervisor)
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    wait_for(
        lambda: (
            victim not in workers_of(supervisor)
            and len(workers_of(supervisor)) == WORKERS
            and listeners(port) == WORKERS
        ),
        "a new worker listening",
    )
    assert httpx.get(f"http://{HOST}:{port}/health", timeout=10).json() == {"status": "ok"}


def test_sigterm_stops_the_supervisor_and_every_worker(tmp_path: Path) -> None:
    port = free_port()
    server = _serve(tmp_path, port, 2, new_key())
    try:
        wait_for(lambda: listeners(port) == 2, "2 listening sockets")
        workers = workers_of(server.pid)
        assert len(workers) == 2
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=40) == 0
        assert listeners(port) == 0
        assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    finally:
        stop(server)


def test_a_taken_address_is_refused_before_any_worker_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = _serve(tmp_path, port, 2, new_key())
        try:
            _, stderr = server.communicate(timeout=60)
        finally:
            stop(server)
    assert server.returncode == 2
    assert f"cannot listen on {HOST}:{port}: Address already in use" in stderr
    assert "Started server process" not in stderr


def test_a_worker_that_cannot_start_stops_the_supervisor(tmp_path: Path) -> None:
    # A malformed vault key: every worker's start fails the same way, so none is started again.
    server = _serve(tmp_path, free_port(), 2, "not-a-key")
    try:
        _, stderr = server.communicate(timeout=60)
    finally:
        stop(server)
    assert server.returncode == 2
    assert f"{VAULT_KEY_VARIABLE} is not base64" in stderr  # the worker's own report
    assert "error: a worker exited with 1 before it started serving" in stderr


def test_workers_die_with_a_killed_supervisor_and_the_address_is_free_again(
    tmp_path: Path,
) -> None:
    # `kill -9` of the supervisor left both workers serving, with no projector, on the address a
    # new server then could not take ("address already in use") until they were killed by hand.
    port = free_port()
    vault_key = new_key()
    server = _serve(tmp_path, port, 2, vault_key)
    children: set[int] = set()
    try:
        wait_for(lambda: listeners(port) == 2, "2 listening sockets")
        children = children_of(server.pid)
        assert len(workers_of(server.pid) & children) == 2
        server.kill()
        server.wait(timeout=10)
        wait_for(
            lambda: not [pid for pid in children if alive(pid)],
            "every process of the supervisor gone",
            timeout=2.0,
        )
        assert listeners(port) == 0
    finally:
        stop(server)
        for pid in children:  # orphans the code under test left: this test's own processes
            if alive(pid) and parent_of(pid) != server.pid:
                os.kill(pid, signal.SIGKILL)
    again = _serve(tmp_path, port, 2, vault_key)
    try:
        wait_for(lambda: listeners(port) == 2 or again.poll() is not None, "a new server")
        assert again.poll() is None, again.communicate()[1]
        assert httpx.get(f"http://{HOST}:{port}/health", timeout=10).json() == {"status": "ok"}
    finally:
        stop(again)


AGAIN = {"ready": True, "database": True, "projector": True, "lag": 0}


def _ready(port: int) -> httpx.Response:
    return httpx.get(f"http://{HOST}:{port}/ready", timeout=10)


def test_a_worker_is_not_ready_while_its_supervisor_projects_nothing(tmp_path: Path) -> None:
    # The workers only serve; the supervisor projects. A worker reads from the database whether
    # the read models follow the ledger: here the supervisor is stopped (SIGSTOP), an event is
    # recorded, and the read models stand still behind it.
    port = free_port()
    server = _serve(tmp_path, port, 2, new_key(), {STALL_VARIABLE: "0.5"})
    try:
        wait_for(lambda: listeners(port) == 2, "2 listening sockets")
        wait_for(lambda: _ready(port).status_code == 200, "ready")
        os.kill(server.pid, signal.SIGSTOP)
        try:
            ledger = Ledger(database_url=_database(tmp_path))
            try:
                c.handle(c.RegisterSchool(actor=SYSTEM_ACTOR, name="СОШ № 1"), ledger)
            finally:
                ledger.close()
            # Each worker times the stall from when it first saw the lag: the body is the one
            # that said 503 (the next request may reach the other worker, not yet sure).
            refusals: list[httpx.Response] = []

            def refused() -> bool:
                response = _ready(port)
                if response.status_code == 503:
                    refusals.append(response)
                return bool(refusals)

            wait_for(refused, "not ready", timeout=20)
            body = refusals[0].json()
            assert body["database"] is True and body["projector"] is False, body
            assert body["lag"] >= 1, body
        finally:
            os.kill(server.pid, signal.SIGCONT)
        # Ready again once the supervisor has projected the event: on every worker, lag 0.
        wait_for(lambda: _ready(port).json() == AGAIN, "ready again", timeout=20)
        assert [_ready(port).json() for _ in range(4)] == [AGAIN] * 4
    finally:
        stop(server)
