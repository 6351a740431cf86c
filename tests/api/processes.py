"""Real ``ejournal serve`` processes for the tests that need them: starting and stopping one, and
reading from /proc which processes it has and which sockets they hold."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path

HOST = "127.0.0.1"
LISTENING = "0A"
"""The TCP state LISTEN in /proc/net/tcp."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def serve(
    database_url: str,
    port: int,
    workers: int,
    environ: Mapping[str, str],
    *,
    output: int | None = subprocess.PIPE,
    cwd: Path | None = None,
) -> subprocess.Popen[str]:
    """``ejournal serve --workers N`` on ``database_url``, as an operator starts it."""
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from ejournal.cli.main import main; main()",
            "serve",
            "--database-url",
            database_url,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
        ],
        env={**os.environ, **environ},
        stdout=output,
        stderr=output,
        text=True,
        cwd=cwd,
    )


def stop(server: subprocess.Popen[str]) -> None:
    """SIGTERM, as an operator stops it; killed if it does not stop within 40 s."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def processes() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def workers_of(supervisor: int) -> set[int]:
    """The supervisor's worker processes (not multiprocessing's resource tracker)."""
    found = set()
    for pid in processes():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if parent_of(pid) == supervisor and b"spawn_main" in command:
            found.add(pid)
    return found


def children_of(supervisor: int) -> set[int]:
    """Every process the supervisor started: its workers and multiprocessing's resource tracker."""
    return {pid for pid in processes() if parent_of(pid) == supervisor}


def alive(pid: int) -> bool:
    """Running, or stopped: not gone, and not a zombie that no one has reaped yet."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def tcp_table() -> list[tuple[int, int, str, str]]:
    """(local port, remote port, state, socket inode) of every IPv4 TCP socket."""
    rows = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(address.split(":")[1], 16) for address in fields[1:3])
        rows.append((local, remote, fields[3], fields[9]))
    return rows


def listeners(port: int) -> int:
    return sum(1 for local, _, state, _ in tcp_table() if local == port and state == LISTENING)


def holders(port: int, clients: list[socket.socket], workers: set[int]) -> Counter[int]:
    """Worker → how many of ``clients`` it holds the server side of."""
    client_ports = {client.getsockname()[1] for client in clients}
    served = {
        inode for local, remote, _, inode in tcp_table() if local == port and remote in client_ports
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


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
