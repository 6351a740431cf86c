"""Worker processes for ``ejournal serve --workers N``, each listening on a socket of its own.

uvicorn's workers share one listening socket, and the worker that wakes first accepts every
connection waiting. On the benchmark its eight keep-alive connections landed on two of the four
workers (five and three, or seven and one), and a worker holding seven connections is held to one
core by its interpreter lock. A reverse proxy's small pool of upstream connections lands the same
way. Here each worker binds its own socket with ``SO_REUSEPORT`` and the kernel spreads new
connections over the workers by a hash of their addresses.

The supervisor starts the workers, starts again one that dies, and stops them all (SIGTERM, so
that each finishes the requests it has) on SIGINT or SIGTERM. A worker that exits before it has
started serving stops the supervisor with ``ServeError``: its next start would fail the same
way.

Workers die with their supervisor, however it ends (``kill -9`` included): a worker left behind
would go on serving with no projector (the supervisor runs it) and keep the address from the next
server ("address already in use"). See ``_die_with``.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event
from typing import Any

import uvicorn

STOP_SECONDS = 30.0
"""How long stopping waits for a worker to finish its requests before it is killed."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
ORPHAN_SECONDS = 1.0
"""How long a worker whose supervisor has died may take to finish its requests before it exits."""
ORPHANED = 70
"""The exit status of a worker that outlived its supervisor (EX_SOFTWARE)."""
_PR_SET_PDEATHSIG = 1
"""prctl(2): the signal this process gets when its parent exits (Linux)."""

log = logging.getLogger("ejournal.api")


class ServeError(RuntimeError):
    """The address is taken, or a worker exited before it started serving (its log says why)."""


def serve_workers(app: str, *, host: str, port: int, workers: int, access_log: bool = True) -> None:
    """Serve the ASGI app factory ``app`` ("module:function") on ``host``:``port`` with
    ``workers`` processes until SIGINT or SIGTERM; ``access_log``: uvicorn logs each request.
    Raises ``ServeError``."""
    port = _free_port(host, port)
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()
    handlers = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}
    running: list[tuple[SpawnProcess, Event]] = []

    def start() -> tuple[SpawnProcess, Event]:
        ready = context.Event()
        process = context.Process(
            target=_worker,
            args=(app, host, port, access_log, ready, os.getpid()),
            name="ejournal-worker",
        )
        process.start()
        return process, ready

    try:
        running += [start() for _ in range(workers)]
        while not stop.wait(0.5):
            for n, (process, ready) in enumerate(running):
                if process.exitcode is None:
                    continue
                if not ready.is_set():
                    raise ServeError(
                        f"a worker exited with {process.exitcode} before it started serving"
                    )
                running[n] = start()
    finally:
        for process, _ in running:
            process.terminate()
        for process, _ in running:
            process.join(STOP_SECONDS)
            if process.exitcode is None:
                process.kill()
                process.join()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def _free_port(host: str, port: int) -> int:
    """``port``, or a free one for 0, after checking that nothing listens there. The workers'
    sockets would otherwise join another server's ``SO_REUSEPORT`` group without a word."""
    family, address = _address(host, port)
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as e:
            raise ServeError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e
        return int(probe.getsockname()[1])


def _worker(
    app: str, host: str, port: int, access_log: bool, ready: Event, supervisor: int
) -> None:
    _die_with(supervisor)
    family, address = _address(host, port)
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind(address)
    config = uvicorn.Config(
        app, factory=True, host=host, port=port, log_level="info", access_log=access_log
    )
    _ReportingServer(config, ready).run(sockets=[listener])


def _die_with(supervisor: int) -> None:
    """End this worker when the process ``supervisor`` ends, however it ends.

    Two ways, each covering what the other misses:

    - Linux's parent-death signal (``prctl(PR_SET_PDEATHSIG)``): the kernel sends SIGTERM the
      moment the supervisor exits, even while this process is busy. It is set only now, after
      the start: if the supervisor died before, no signal comes, but this process has another
      parent by then, which ``getppid`` shows. (It follows the thread that started the worker:
      the supervisor starts them all from its main thread.)
    - A pipe: multiprocessing's sentinel of the parent, whose other end only the supervisor
      holds, reads as closed once it has exited, whenever that was (before this line too). A
      thread waits on it, sends SIGTERM, and ends the process after ``ORPHAN_SECONDS`` if
      uvicorn has not finished its requests by then. This is also the way off Linux.

    On SIGTERM uvicorn stops listening and finishes the requests it has, so that a write that
    was recorded is answered.
    """
    _parent_death_signal(signal.SIGTERM)
    if os.getppid() != supervisor:
        log.error("the supervisor %d exited before this worker started", supervisor)
        os._exit(ORPHANED)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(
            target=_exit_when_closed, args=(parent.sentinel,), name="ejournal-orphan", daemon=True
        ).start()


def _parent_death_signal(sig: int) -> None:
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        log.warning("prctl(PR_SET_PDEATHSIG) failed: %s", os.strerror(ctypes.get_errno()))


def _exit_when_closed(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    log.error("the supervisor has exited: this worker stops")
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(ORPHAN_SECONDS)
    os._exit(ORPHANED)


def _address(host: str, port: int) -> tuple[socket.AddressFamily, Any]:
    """The address family and socket address to bind ``host``:``port`` (IPv4 or IPv6)."""
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    return family, address


class _ReportingServer(uvicorn.Server):
    """A uvicorn server that tells the supervisor when it has started serving."""

    def __init__(self, config: uvicorn.Config, ready: Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._ready.set()
