"""Event payloads as the read models need them: plain JSON values, IDs as hex text.

The read models store UUIDs as hex, dates and times as ISO text and weights as decimal text, which
is exactly how the ledger's transcoder writes them inside its ``{"_type_": …, "_data_": …}`` tags.
So the fast path parses the stored bytes with orjson and unwraps the tags without building UUID,
date or Decimal objects: three to four times faster than ``mapper.to_domain_event``, which is what
lets a rebuild run at tens of thousands of events a second.

The fast path is taken only where it must agree with the mapper: the event class is at its first
version (no upcasting), the mapper neither decrypts nor decompresses, and every tag is one of the
known ones. Anything else goes through ``mapper.to_domain_event`` (upcasts included) and the
resulting event's values are converted to the same plain form; the tests check that both paths
give the same fields for every event the commands write.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, StoredEvent

Fields = dict[str, Any]

_AS_TEXT = frozenset({"uuid_hex", "date_iso", "time_iso", "decimal_str", "datetime_iso"})
"""Tags whose data is already the text the read models store."""
_CONTAINERS = (dict, list)
_OMITTED = ("originator_id", "originator_version", "timestamp")


class _UnknownTag(Exception):
    """A tag the fast path does not know: the mapper must decode this payload."""


def _plain(value: Any) -> Any:
    """A nested value (a tagged value, a container) in plain form."""
    kind = type(value)
    if kind is dict:
        if "_type_" in value and len(value) == 2 and "_data_" in value:
            name = value["_type_"]
            if name in _AS_TEXT:
                return value["_data_"]
            if name == "tuple":
                return [_plain(v) if type(v) in _CONTAINERS else v for v in value["_data_"]]
            raise _UnknownTag(name)
        return {k: _plain(v) if type(v) in _CONTAINERS else v for k, v in value.items()}
    if kind is list:
        return [_plain(v) if type(v) in _CONTAINERS else v for v in value]
    return value


def _plain_fields(fields: Fields) -> Fields:
    """An event's payload in plain form, in place: most fields are scalars or one tag deep."""
    fields.pop("timestamp", None)
    for name, value in fields.items():
        kind = type(value)
        if kind is dict:
            if value.get("_type_") in _AS_TEXT and len(value) == 2 and "_data_" in value:
                fields[name] = value["_data_"]
            else:
                fields[name] = _plain(value)
        elif kind is list:
            fields[name] = _plain(value)
    return fields


def plain_value(value: Any) -> Any:
    """A decoded value (UUID, date, Decimal, tuple …) in the fast path's plain form."""
    if isinstance(value, UUID):
        return value.hex
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return plain_value(value.value)
    if isinstance(value, tuple | list):
        return [plain_value(v) for v in value]
    if isinstance(value, dict):
        return {k: plain_value(v) for k, v in value.items()}
    return value


class PayloadDecoder:
    """Decodes stored payloads into plain fields, quickly where that is safe."""

    def __init__(self, mapper: Mapper[UUID]) -> None:
        self._mapper = mapper
        self._fast_allowed = mapper.cipher is None and mapper.compressor is None

    def fast_allowed(self, event_class: type) -> bool:
        """Whether payloads of ``event_class`` may skip the mapper (no upcasting to do)."""
        return self._fast_allowed and getattr(event_class, "class_version", 1) == 1

    def decode(
        self, originator_id: Any, version: int, topic: str, state: bytes, fast: bool
    ) -> Fields:
        """The event's own fields (without ID, version and timestamp), in plain form; ``fast``
        if ``fast_allowed`` said so for its class."""
        if fast:
            try:
                fields = orjson.loads(state)
                if "class_version" not in fields:
                    return _plain_fields(fields)
            except _UnknownTag:
                pass
        return self.decode_with_mapper(originator_id, version, topic, state)

    def decode_with_mapper(
        self, originator_id: Any, version: int, topic: str, state: bytes
    ) -> Fields:
        """The slow, always-right path: the library's mapper, then plain form."""
        stored = StoredEvent(
            originator_id=originator_id, originator_version=version, topic=topic, state=state
        )
        event = self._mapper.to_domain_event(stored)
        return {
            name: plain_value(value) for name, value in vars(event).items() if name not in _OMITTED
        }
