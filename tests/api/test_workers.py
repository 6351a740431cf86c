"""``ejournal serve --workers N`` (``api.workers``): each worker listens on a socket of its own, so
that connections opened together spread over the workers; a worker that dies is replaced;
SIGTERM stops them all; a taken address, or a worker that cannot start, is a clear error.

No clause: how the service is run. The processes are real (spawned by a real ``ejournal serve``
on a SQLite file), and which worker holds a connection is read from /proc.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from ejournal.identity.vault import VAULT_KEY_VARIABLE, new_key

HOST = "127.0.0.1"
WORKERS = 3
LISTENING = "0A"
"""The TCP state LISTEN in /proc/net/tcp."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _serve(tmp_path: Path, port: int, workers: int, vault_key: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from ejournal.cli.main import main; main()",
            "serve",
            "--database-url",
            f"sqlite:///{tmp_path / 'served.db'}",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
        ],
        env={**os.environ, VAULT_KEY_VARIABLE: vault_key},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _workers_of(supervisor: int) -> set[int]:
    """The supervisor's worker processes (not multiprocessing's resource tracker)."""
    found = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if parent == supervisor and b"spawn_main" in command:
            found.add(int(entry))
    return found


def _tcp_table() -> list[tuple[int, int, str, str]]:
    """(local port, remote port, state, socket inode) of every IPv4 TCP socket."""
    rows = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(address.split(":")[1], 16) for address in fields[1:3])
        rows.append((local, remote, fields[3], fields[9]))
    return rows


def _listeners(port: int) -> int:
    return sum(1 for local, _, state, _ in _tcp_table() if local == port and state == LISTENING)


def _holders(port: int, clients: list[socket.socket], workers: set[int]) -> Counter[int]:
    """Worker → how many of ``clients`` it holds the server side of."""
    client_ports = {client.getsockname()[1] for client in clients}
    served = {
        inode
        for local, remote, _, inode in _tcp_table()
        if local == port and remote in client_ports
    }
    held: Counter[int] = Counter()
    for worker in workers:
        for fd in os.listdir(f"/proc/{worker}/fd"):
            try:
                target = os.readlink(f"/proc/{worker}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in served:
                held[worker] += 1
    return held


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _get_health(client: socket.socket) -> bytes:
    client.sendall(f"GET /health HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
    response = b""
    while not response.endswith(b'{"status":"ok"}'):
        chunk = client.recv(4096)
        assert chunk, f"the server closed the connection after {response!r}"
        response += chunk
    return response


def _stop(server: subprocess.Popen[str]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """A server with ``WORKERS`` workers, each listening: (supervisor pid, port)."""
    port = _free_port()
    server = _serve(tmp_path_factory.mktemp("workers"), port, WORKERS, new_key())
    try:
        _wait_for(lambda: _listeners(port) == WORKERS, f"{WORKERS} listening sockets")
        yield server.pid, port
    finally:
        _stop(server)


def test_connections_opened_together_spread_over_every_worker(served: tuple[int, int]) -> None:
    supervisor, port = served
    # Opened before any is served, as a proxy's pool or the benchmark opens them. With one
    # shared socket the first worker to wake took them all; hashed over three sockets, forty
    # connections miss a worker with probability 3 x (2/3)^40, about 2e-7.
    clients = [socket.create_connection((HOST, port)) for _ in range(40)]
    try:
        for client in clients:
            assert _get_health(client).startswith(b"HTTP/1.1 200")
        workers = _workers_of(supervisor)
        held = _holders(port, clients, workers)
        assert sum(held.values()) == len(clients)
        assert set(held) == workers and len(workers) == WORKERS, held
    finally:
        for client in clients:
            client.close()


def test_a_worker_that_dies_is_replaced(served: tuple[int, int]) -> None:
    supervisor, port = served
    workers = _workers_of(supervisor)
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    _wait_for(
        lambda: (
            victim not in _workers_of(supervisor)
            and len(_workers_of(supervisor)) == WORKERS
            and _listeners(port) == WORKERS
        ),
        "a new worker listening",
    )
    assert httpx.get(f"http://{HOST}:{port}/health", timeout=10).json() == {"status": "ok"}


def test_sigterm_stops_the_supervisor_and_every_worker(tmp_path: Path) -> None:
    port = _free_port()
    server = _serve(tmp_path, port, 2, new_key())
    try:
        _wait_for(lambda: _listeners(port) == 2, "2 listening sockets")
        workers = _workers_of(server.pid)
        assert len(workers) == 2
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=40) == 0
        assert _listeners(port) == 0
        assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    finally:
        _stop(server)


def test_a_taken_address_is_refused_before_any_worker_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = _serve(tmp_path, port, 2, new_key())
        try:
            _, stderr = server.communicate(timeout=60)
        finally:
            _stop(server)
    assert server.returncode == 2
    assert f"cannot listen on {HOST}:{port}: Address already in use" in stderr
    assert "Started server process" not in stderr


def test_a_worker_that_cannot_start_stops_the_supervisor(tmp_path: Path) -> None:
    # A malformed vault key: every worker's start fails the same way, so none is started again.
    server = _serve(tmp_path, _free_port(), 2, "not-a-key")
    try:
        _, stderr = server.communicate(timeout=60)
    finally:
        _stop(server)
    assert server.returncode == 2
    assert f"{VAULT_KEY_VARIABLE} is not base64" in stderr  # the worker's own report
    assert "error: a worker exited with 1 before it started serving" in stderr
