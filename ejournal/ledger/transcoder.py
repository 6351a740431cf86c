"""An orjson transcoder for stored event payloads.

The stock ``JSONTranscoder`` of eventsourcing uses the stdlib ``json`` module. This one keeps its
wire format for non-JSON types (``{"_type_": name, "_data_": value}``, so the library's transcodings
can be registered unchanged) and lets orjson do the rest. orjson serialises UUIDs, dates and
tuples natively and would lose their types, so values are tagged in one pass before encoding and
untagged in one pass after decoding.
"""

from __future__ import annotations

from datetime import date, time
from enum import Enum
from typing import Any

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    Transcoder,
    Transcoding,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

_PLAIN = frozenset({str, int, bool, float, type(None)})
_CONTAINERS = frozenset({dict, list})


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class TimeAsISO(Transcoding):
    type = time
    name = "time_iso"

    def encode(self, obj: time) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> time:
        return time.fromisoformat(data)


class TupleAsList(Transcoding):
    type = tuple
    name = "tuple"

    def encode(self, obj: tuple[Any, ...]) -> list[Any]:
        return list(obj)

    def decode(self, data: list[Any]) -> tuple[Any, ...]:
        return tuple(data)


class OrjsonTranscoder(Transcoder):
    """Transcoder with the registry interface of ``JSONTranscoder``, backed by orjson."""

    def __init__(self) -> None:
        self.types: dict[type, Transcoding] = {}
        self.names: dict[str, Transcoding] = {}

    def register(self, transcoding: Transcoding) -> None:
        self.types[transcoding.type] = transcoding
        self.names[transcoding.name] = transcoding

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(self._tag(obj))

    def decode(self, data: bytes) -> Any:
        return self._untag(orjson.loads(data))

    def _tag(self, obj: Any) -> Any:
        # Scalars are passed over inline rather than through a call per value: this runs for
        # every value of every event saved.
        kind = type(obj)
        if kind is dict:
            tag = self._tag
            return {
                key: value if type(value) in _PLAIN else tag(value) for key, value in obj.items()
            }
        if kind is list:
            tag = self._tag
            return [value if type(value) in _PLAIN else tag(value) for value in obj]
        if kind in _PLAIN:
            return obj
        transcoding = self.types.get(kind)
        if transcoding is None:
            if isinstance(obj, Enum):
                # Events hold plain values; an enum member is stored as its value.
                return self._tag(obj.value)
            msg = f"Object of type {kind} is not serializable: register a transcoding for it"
            raise TranscodingNotRegisteredError(msg)
        data = transcoding.encode(obj)
        return {
            "_type_": transcoding.name,
            "_data_": data if type(data) in _PLAIN else self._tag(data),
        }

    def _untag(self, obj: Any) -> Any:
        # Scalars are checked inline rather than through a call per value: this runs for every
        # value of every event an aggregate is loaded from.
        kind = type(obj)
        if kind is dict:
            if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
                try:
                    transcoding = self.names[obj["_type_"]]
                except KeyError:
                    msg = f"Data serialized as {obj['_type_']!r} has no registered transcoding"
                    raise TranscodingNotRegisteredError(msg) from None
                return transcoding.decode(self._untag(obj["_data_"]))
            untag = self._untag
            return {
                key: untag(value) if type(value) in _CONTAINERS else value
                for key, value in obj.items()
            }
        if kind is list:
            untag = self._untag
            return [untag(value) if type(value) in _CONTAINERS else value for value in obj]
        return obj


def default_transcoder() -> OrjsonTranscoder:
    """The transcoder every ejournal application uses, with its transcodings registered."""
    transcoder = OrjsonTranscoder()
    for transcoding in (
        UUIDAsHex(),
        DecimalAsStr(),
        DatetimeAsISO(),
        DateAsISO(),
        TimeAsISO(),
        TupleAsList(),
    ):
        transcoder.register(transcoding)
    return transcoder
