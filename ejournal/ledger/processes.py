"""How ``ejournal`` starts helper processes that open connections of their own (``verify
--jobs``, ``generate --jobs``): never by ``fork``, whose child would share the parent's
connections and their sockets."""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import ForkServerContext, SpawnContext


def process_context(*preload: str) -> ForkServerContext | SpawnContext:
    """A fork server where there is one (it imports the program once, with the ``preload``
    modules, and forks each process from that clean state: ``ejournal``'s commands take seconds
    to import), else spawning (each process imports it again)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # Taken when the server starts (the first process): later calls change nothing.
    context.set_forkserver_preload(["__main__", *preload])
    return context
