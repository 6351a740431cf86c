"""The throttle across server processes (п. 4.1): a real ``ejournal serve --workers 2`` on
PostgreSQL, many wrong passwords for a fresh login sent at once over connections spread over both
workers: no more passwords are checked than the policy allows, and every other attempt is refused
with 429 and ``Retry-After``.

The throttle once read the count and recorded the failure in two steps: twenty attempts at once
were all checked (the policy allows three). Which worker holds each connection is read from /proc,
as in ``test_workers``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from ejournal.identity.credentials import ThrottlePolicy
from ejournal.identity.vault import VAULT_KEY_VARIABLE, new_key
from tests.api.processes import (
    HOST,
    free_port,
    holders,
    listeners,
    serve,
    stop,
    wait_for,
    workers_of,
)

WORKERS = 2
ATTEMPTS = 60


@pytest.fixture
def served(postgres_url: str, tmp_path: Path) -> Iterator[tuple[int, int]]:
    """``ejournal serve --workers 2`` on a fresh PostgreSQL database: (supervisor pid, port)."""
    port = free_port()
    environ = {VAULT_KEY_VARIABLE: new_key()}
    server = serve(postgres_url, port, WORKERS, environ, output=subprocess.DEVNULL, cwd=tmp_path)
    try:
        wait_for(lambda: listeners(port) == WORKERS, f"{WORKERS} listening sockets")
        yield server.pid, port
    finally:
        stop(server)


def _response(client: socket.socket) -> tuple[int, dict[str, str]]:
    """The status and headers of one HTTP/1.1 response (its body read by Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(4096)
        assert chunk, f"the server closed the connection after {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    while len(body) < int(headers.get("content-length", "0")):
        body += client.recv(4096)
    return int(status_line.split()[1]), headers


def _checks_allowed(policy: ThrottlePolicy, elapsed: float) -> int:
    """The most password checks a fresh login from one address may have in ``elapsed`` seconds:
    the free ones, then one each time its lane's wait has passed."""
    lane, checks, waited = (
        policy.per_login_and_source,
        policy.per_login_and_source.free_attempts,
        0.0,
    )
    while True:
        waited += lane.delay(checks) / timedelta(seconds=1)
        if waited > elapsed:
            return checks
        checks += 1


def test_parallel_wrong_passwords_on_two_workers_are_checked_as_the_policy_allows(
    served: tuple[int, int],
) -> None:
    # п. 4.1
    supervisor, port = served
    body = json.dumps({"login": "fresh.login", "password": "a wrong password"}).encode()
    request = (
        f"POST /auth/login HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    # Every connection opened before any is used: hashed over the workers' sockets.
    clients = [socket.create_connection((HOST, port), timeout=60) for _ in range(ATTEMPTS)]
    answers: list[tuple[int, dict[str, str]]] = []
    start = threading.Barrier(ATTEMPTS)

    def attempt(client: socket.socket) -> None:
        start.wait()
        client.sendall(request)
        answers.append(_response(client))

    try:
        threads = [threading.Thread(target=attempt, args=(client,)) for client in clients]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        elapsed = time.monotonic() - began
        held = holders(port, clients, workers_of(supervisor))
    finally:
        for client in clients:
            client.close()
    assert len(answers) == ATTEMPTS
    assert len(held) == WORKERS, f"the attempts did not reach both workers: {held}"
    statuses = Counter(status for status, _ in answers)
    assert set(statuses) <= {401, 429}, statuses
    policy = ThrottlePolicy()
    checked = statuses[401]
    assert policy.per_login_and_source.free_attempts <= checked
    assert checked <= _checks_allowed(policy, elapsed), (statuses, elapsed)
    for status, headers in answers:
        if status == 429:
            assert 1 <= int(headers["retry-after"]) <= policy.longest_wait.total_seconds()
