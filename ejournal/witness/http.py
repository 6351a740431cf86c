"""The witness's HTTP interface, on the standard library's threading HTTP server.

    POST /add-checkpoint        C2SP tlog-witness (``witness.Witness.add_checkpoint``)
    GET  /checkpoints?origin=P  the latest cosigned checkpoint of each origin starting with P:
                                the log's note with the witness's cosignature line, one note
                                after another with a blank line between (as ``ejournal
                                export-checkpoints`` writes them)
    GET  /                      the witness's verifier key

A witness serves a few requests a minute per school: the standard library is enough, and it keeps
the web framework (a delivery concern, import-linter) out of this room.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from ejournal.witness.witness import TEXT, Answer, Witness

MAX_BODY = 64 * 1024
"""An add-checkpoint body is a few hundred bytes: a checkpoint and at most 63 hashes."""

_log = logging.getLogger(__name__)


def _handler(witness: Witness) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the specification recommends
        server_version = "ejournal-witness"

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/add-checkpoint":
                self._send(Answer(404, TEXT, b"not found\n"))
                return
            length = self.headers.get("Content-Length", "")
            if not length.isdigit() or int(length) > MAX_BODY:
                self._send(Answer(400, TEXT, b"a Content-Length of at most 64 KiB is required\n"))
                self.close_connection = True
                return
            self._send(witness.add_checkpoint(self.rfile.read(int(length))))

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/checkpoints":
                prefix = parse_qs(url.query).get("origin", [""])[0]
                notes = [c.cosigned_note for c in witness.store.latest_all(prefix)]
                self._send(Answer(200, TEXT, "\n".join(notes).encode("utf-8")))
            elif url.path == "/":
                self._send(Answer(200, TEXT, f"{witness.signer.vkey}\n".encode()))
            else:
                self._send(Answer(404, TEXT, b"not found\n"))

        def _send(self, answer: Answer) -> None:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format: str, *args: object) -> None:
            _log.info("%s %s", self.address_string(), format % args)

    return Handler


def serve_witness(
    witness: Witness, host: str, port: int, *, ready: Callable[[int], None] | None = None
) -> None:
    """Serve ``witness`` on ``host:port`` until interrupted; ``ready(port)`` once listening."""
    with ThreadingHTTPServer((host, port), _handler(witness)) as server:
        server.daemon_threads = True
        if ready is not None:
            ready(server.server_address[1])
        server.serve_forever()
