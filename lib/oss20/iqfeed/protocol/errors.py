"""What can go wrong on the wire: commands we refuse (ProtocolError) and lines we skip (Malformed)."""

from __future__ import annotations

from dataclasses import dataclass


class ProtocolError(ValueError):
    """A command or request field that does not follow the protocol; the message says which."""


@dataclass(frozen=True)
class Malformed:
    """A line that could not be parsed (without its line end) and why."""

    line: bytes
    reason: str
