"""A PostgreSQL server of a test's own, to stop and start again: a server of a region that goes
down while the others go on (issue 24, item 6).

Made with PostgreSQL's own ``initdb`` and ``pg_ctl`` in a temporary directory, owned and run by
the ``postgres`` user (PostgreSQL refuses to run as root), listening on 127.0.0.1 at a free port
with trust authentication. Only this test uses it, so stopping it disturbs no other test.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

BIN = Path("/usr/lib/postgresql/15/bin")


def unavailable() -> str | None:
    """Why this machine cannot run a server of a test's own, or None."""
    if not (BIN / "initdb").exists():
        return f"no PostgreSQL 15 programs in {BIN}"
    if os.geteuid() != 0:
        return "running a server as user postgres needs root"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no user postgres"
    return None


class OwnServer:
    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            str(BIN / "pg_ctl"),
            "-D",
            str(self.folder / "data"),
            "-o",
            options,
            "-l",
            str(self.folder / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._as_postgres(
            str(BIN / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop"
        )

    def database(self) -> str:
        """A new database on the server; its URL."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute('CREATE DATABASE "own"')
        return self.url.rsplit("/", 1)[0] + "/own"


@contextmanager
def own_server() -> Iterator[OwnServer]:
    folder = Path(tempfile.mkdtemp(prefix="ejournal-own-server-"))
    shutil.chown(folder, "postgres", "postgres")
    server = OwnServer(folder, _free_port())
    try:
        server._as_postgres(
            str(BIN / "initdb"),
            "-D",
            str(folder / "data"),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
        )
        server.start()
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # stopped already
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
