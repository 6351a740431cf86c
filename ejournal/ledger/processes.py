"""How ``ejournal`` starts helper processes that open connections of their own (``verify
--jobs``, ``generate --jobs``): never by ``fork``, whose child would share the parent's
connections and their sockets."""

from __future__ import annotations

import multiprocessing
import sys
from multiprocessing.context import ForkServerContext, SpawnContext


def process_context() -> ForkServerContext | SpawnContext:
    """A fork server where there is one, else spawning.

    A new process runs the program's main file again before it takes its task (so that what the
    file defines can be found), and ``ejournal``'s commands take seconds to import. The fork
    server imports every module of ours this process has imported, once; each process forked
    from it finds them imported, and running the main file again costs next to nothing. Spawned,
    each process imports them itself."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    ours = __name__.split(".", 1)[0]
    # Taken when the server starts (the first process): later calls change nothing.
    context.set_forkserver_preload(
        sorted(name for name in sys.modules if name.split(".", 1)[0] == ours)
    )
    return context
