"""The client side of C2SP tlog-witness: submit a checkpoint, read a witness's latest view.

Plain ``urllib`` with a short timeout: the client runs in the checkpoint schedule's thread, never
in a request, and a witness that does not answer is retried later (``submitter``).
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from ejournal.integrity._b64 import b64encode
from ejournal.integrity.cosignature import CosignatureVerifier
from ejournal.integrity.errors import VerificationError
from ejournal.integrity.note import SIGNATURE_PREFIX, open_note, split_note
from ejournal.witness.protocol import (
    AddCheckpoint,
    MalformedRequestError,
    cosignature_lines,
    decode_size,
)

DEFAULT_TIMEOUT = 5.0


class WitnessError(Exception):
    """A witness did not cosign."""


class WitnessUnavailable(WitnessError):
    """The witness could not be reached, or answered with a server error or nonsense."""


class WitnessConflict(WitnessError):
    """409: the witness holds another size for the log (``size``), or another root at it."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the witness holds size {size}")
        self.size = size


class WitnessRefused(WitnessError):
    """400, 403, 404 or 422: the witness will not cosign this checkpoint as submitted."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


@dataclass(frozen=True, slots=True)
class WitnessEndpoint:
    """A witness the service submits to: its URL prefix and its verifier key."""

    url: str
    verifier: CosignatureVerifier

    @property
    def name(self) -> str:
        return self.verifier.name


def add_checkpoint(
    endpoint: WitnessEndpoint, request: AddCheckpoint, *, timeout: float = DEFAULT_TIMEOUT
) -> str:
    """Submit ``request``; return the witness's valid cosignature line of the checkpoint.

    Raises ``WitnessConflict`` (409), ``WitnessRefused`` (another 4xx), ``WitnessUnavailable``
    (no answer, a 5xx, or a 200 without a valid cosignature by the endpoint's key).
    """
    http = urllib.request.Request(
        endpoint.url.rstrip("/") + "/add-checkpoint", data=request.encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(http, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as e:
        answer = e.read()
        if e.code == 409:
            try:
                raise WitnessConflict(decode_size(answer)) from e
            except MalformedRequestError as bad:
                raise WitnessUnavailable(f"409 without a size: {bad}") from e
        if 400 <= e.code < 500:
            raise WitnessRefused(e.code, answer.decode("utf-8", "replace").strip()) from e
        raise WitnessUnavailable(f"{endpoint.url} answered {e.code}") from e
    except (OSError, ValueError) as e:
        raise WitnessUnavailable(f"{endpoint.url}: {e}") from e
    return _own_cosignature(endpoint, request.note, body)


def _own_cosignature(endpoint: WitnessEndpoint, note: str, body: bytes) -> str:
    """The endpoint's cosignature line among the answer's lines (others are ignored, as C2SP
    asks). Raises ``WitnessUnavailable`` if there is none or it does not verify."""
    try:
        text, _ = split_note(note)
        lines = cosignature_lines(body)
        verified = open_note(text + "\n" + "".join(lines), [endpoint.verifier])
    except (MalformedRequestError, VerificationError) as e:
        raise WitnessUnavailable(f"{endpoint.url}: no valid cosignature: {e}") from e
    signature = verified.signatures[endpoint.name]
    encoded = b64encode(signature.key_id + signature.signature)
    return f"{SIGNATURE_PREFIX}{signature.name} {encoded}\n"


def latest_checkpoints(
    endpoint: WitnessEndpoint, origin: str, *, timeout: float = DEFAULT_TIMEOUT
) -> str:
    """The text of ``GET /checkpoints?origin=…``: the latest checkpoint the witness cosigned for
    each log whose origin starts with ``origin``, as cosigned notes separated by blank lines.

    Raises ``WitnessUnavailable`` if it cannot be read.
    """
    query = urllib.parse.urlencode({"origin": origin})
    try:
        with urllib.request.urlopen(
            f"{endpoint.url.rstrip('/')}/checkpoints?{query}", timeout=timeout
        ) as response:
            return bytes(response.read()).decode("utf-8")
    except (OSError, ValueError) as e:
        raise WitnessUnavailable(f"{endpoint.url}: {e}") from e
