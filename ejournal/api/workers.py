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
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import threading
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event
from typing import Any

import uvicorn

STOP_SECONDS = 30.0
"""How long stopping waits for a worker to finish its requests before it is killed."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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
            target=_worker, args=(app, host, port, access_log, ready), name="ejournal-worker"
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


def _worker(app: str, host: str, port: int, access_log: bool, ready: Event) -> None:
    family, address = _address(host, port)
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind(address)
    config = uvicorn.Config(
        app, factory=True, host=host, port=port, log_level="info", access_log=access_log
    )
    _ReportingServer(config, ready).run(sockets=[listener])


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
