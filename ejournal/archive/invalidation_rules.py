"""The rules of п. 4.4 inside a school-year archive (``data/invalidation.json``).

The rules (breach reports, session invalidations) live in the system log, not in the year's log;
the summary sheets leave out what they invalidate. So the bag carries them: each rule event's
payload with a receipt (C2SP tlog-proof) of its entry in the system log under a signed
checkpoint. ``invalidation_rules_json`` writes that file from the database;
``read_invalidation_rules`` checks each receipt and payload digest with the given checkpoint keys
before the verifier applies the rules to the year's entries.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from uuid import UUID

from ejournal.archive.errors import ArchiveError
from ejournal.integrity.bagit import PAYLOAD_DIR
from ejournal.integrity.errors import DocumentMismatchError, VerificationError
from ejournal.integrity.leaf import decode_leaf
from ejournal.integrity.note import Verifier
from ejournal.integrity.receipt import Receipt, verify_receipt
from ejournal.ledger.database import Database
from ejournal.ledger.invalidation import RULE_TOPICS, Rule, rule_events, rules_from_events
from ejournal.ledger.logs import SYSTEM_LOG
from ejournal.ledger.proofs import NotProvableError, prove_event
from ejournal.ledger.replay import uuid_bytes

INVALIDATION_JSON = "invalidation.json"
INVALIDATION_FORMAT = "ejournal-invalidation-rules/1"


def invalidation_rules_json(
    database: Database, verifiers: Sequence[Verifier], origin: str
) -> bytes | None:
    """``invalidation.json``: every rule event of п. 4.4 with its payload and a receipt of its
    entry in the system log; None if there is none. Raises ``ArchiveError`` if a rule event is
    not yet covered by a signed checkpoint of the system log."""
    rows = rule_events(database)
    if not rows:
        return None
    events = []
    for oid, version, _, state in rows:
        try:
            receipt = prove_event(
                database,
                UUID(bytes=uuid_bytes(oid)),
                int(version),
                verifiers=verifiers,
                origin=origin,
            )
        except NotProvableError as e:
            raise ArchiveError(f"п. 4.4 rule event: {e}") from e
        payload = base64.b64encode(bytes(state)).decode("ascii")
        events.append({"receipt": receipt.encode(), "payload": payload})
    document = {"format": INVALIDATION_FORMAT, "log": SYSTEM_LOG, "events": events}
    return json.dumps(document, indent=1).encode("utf-8") + b"\n"


def read_invalidation_rules(
    root: Path, verifiers: Sequence[Verifier], origin: str
) -> tuple[Rule, ...]:
    """The rules of an archive's ``invalidation.json`` (none if it has none), each proven by its
    receipt under a checkpoint signed by one of ``verifiers``. Raises ``DocumentMismatchError``
    naming the first rule event that does not verify."""
    path = root / PAYLOAD_DIR / INVALIDATION_JSON
    if not path.exists():
        return ()
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DocumentMismatchError(
            f"the п. 4.4 rules cannot be read: {e}", where=f"{PAYLOAD_DIR}/{INVALIDATION_JSON}"
        ) from e
    return rules_from_document(data, verifiers, origin, where=f"{PAYLOAD_DIR}/{INVALIDATION_JSON}")


def rules_from_document(
    data: bytes, verifiers: Sequence[Verifier], origin: str, *, where: str
) -> tuple[Rule, ...]:
    """The rules of an ``invalidation.json`` document (an archive's, or one written by
    ``ejournal prove --rules-out`` for ``verify-proof --rules``), each proven by its receipt.
    Raises ``DocumentMismatchError`` (``where`` names the document) as ``read_invalidation_rules``
    does."""
    try:
        document = json.loads(data)
        items = [
            (i["receipt"], base64.b64decode(i["payload"], validate=True))
            for i in document["events"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DocumentMismatchError(f"the п. 4.4 rules are malformed: {e!r}", where=where) from e
    events = []
    for number, (text, payload) in enumerate(items):
        try:
            verified = verify_receipt(
                Receipt.decode(text), verifiers, origin=f"{origin}/{SYSTEM_LOG}"
            )
            leaf = decode_leaf(verified.leaf)
        except (VerificationError, ValueError) as e:
            raise DocumentMismatchError(
                f"rule event {number}: its receipt does not verify: {e}", where=where
            ) from e
        if leaf.topic not in RULE_TOPICS or hashlib.sha256(payload).digest() != leaf.payload_sha256:
            raise DocumentMismatchError(
                f"rule event {number}: the payload is not the one its entry commits to",
                where=where,
            )
        events.append((leaf.index, leaf.originator_id.hex, leaf.topic, payload))
    events.sort()
    return rules_from_events((oid, topic, payload) for _, oid, topic, payload in events)
