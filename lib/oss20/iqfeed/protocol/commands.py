"""Client commands: builders for the streaming and admin commands, and ``parse_command`` for all.

Command scheme (``parse_command``): ``w/t/r/f<SYM>`` -> ``Command("w", ("SYM",))``; ``T`` ->
``Command("T", ())``; ``S,NAME,a,b`` -> ``Command("S,NAME", ("a", "b"))`` (NAME upper-cased);
lookup requests ``HTX,a,b`` -> ``Command("HTX", ("a", "b"))``, empty fields kept. History
requests are built by ``requests.format_request``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from oss20.iqfeed.protocol._text import CONTROL_CHARS, check_text, command_line
from oss20.iqfeed.protocol.errors import ProtocolError
from oss20.iqfeed.protocol.fields import ALL_UPDATE_FIELDS


@dataclass(frozen=True)
class Command:
    """One client command: ``verb`` as in the module docstring, ``args`` the remaining fields."""

    verb: str
    args: tuple[str, ...] = ()


def _arg(text: str, what: str) -> str:
    if not text or "," in text or CONTROL_CHARS.search(text) or " " in text:
        raise ValueError(f"{what} {text!r} must be non-empty, without commas, spaces or control characters")
    return text


def cmd_set_protocol(version: str) -> bytes:
    """``S,SET PROTOCOL,<version>``: the first command on every connection."""
    return command_line("S", "SET PROTOCOL", _arg(version, "protocol version"))


def cmd_watch(symbol: str) -> bytes:
    """``w<SYM>``: watch trades and quotes."""
    return command_line("w" + _arg(symbol, "symbol"))


def cmd_trades_only(symbol: str) -> bytes:
    """``t<SYM>``: watch trades only."""
    return command_line("t" + _arg(symbol, "symbol"))


def cmd_unwatch(symbol: str) -> bytes:
    """``r<SYM>``: remove a watch."""
    return command_line("r" + _arg(symbol, "symbol"))


def cmd_refresh(symbol: str) -> bytes:
    """``f<SYM>``: send the fundamentals and summary again."""
    return command_line("f" + _arg(symbol, "symbol"))


def cmd_unwatch_all() -> bytes:
    """``S,UNWATCH ALL``."""
    return command_line("S", "UNWATCH ALL")


def cmd_request_watches() -> bytes:
    """``S,REQUEST WATCHES`` (answered by ``S,WATCHES,...``)."""
    return command_line("S", "REQUEST WATCHES")


def cmd_select_fields(fields: Sequence[str]) -> bytes:
    """``S,SELECT UPDATE FIELDS,...`` (Symbol is implied and left out)."""
    names = [f for f in fields if f != "Symbol"]
    unknown = [f for f in names if f not in ALL_UPDATE_FIELDS]
    if unknown:
        raise ValueError(f"unknown Level 1 fields {unknown}; see ALL_UPDATE_FIELDS")
    return command_line("S", "SELECT UPDATE FIELDS", *names)


def cmd_set_client_name(name: str) -> bytes:
    """``S,SET CLIENT NAME,<name>`` (shows in admin client stats)."""
    return command_line("S", "SET CLIENT NAME", check_text(name, "client name").decode("latin-1"))


def cmd_connect() -> bytes:
    """``S,CONNECT`` (streaming and admin ports)."""
    return command_line("S", "CONNECT")


def cmd_clientstats(on: bool) -> bytes:
    """``S,CLIENTSTATS ON`` / ``S,CLIENTSTATS OFF`` (admin port: a line per connected client, or not)."""
    return command_line("S", "CLIENTSTATS ON" if on else "CLIENTSTATS OFF")


def cmd_timestamps(on: bool) -> bytes:
    """``S,TIMESTAMPSON`` / ``S,TIMESTAMPSOFF``."""
    return command_line("S", "TIMESTAMPSON" if on else "TIMESTAMPSOFF")


def cmd_system(*fields: str) -> bytes:
    """Any other S command, e.g. ``cmd_system("REQUEST CURRENT UPDATE FIELDNAMES")``."""
    return command_line("S", *(check_text(f, "command field").decode("latin-1") for f in fields))


_VERB = re.compile(r"[A-Z][A-Z0-9]{1,3}")


def parse_command(line: bytes | str) -> Command:
    """One client command (line end optional) -> ``Command``; ProtocolError on anything else."""
    text = line.decode("latin-1") if isinstance(line, bytes | bytearray) else line
    text = text.rstrip("\r\n")
    if not text:
        raise ProtocolError("empty command")
    if CONTROL_CHARS.search(text):
        raise ProtocolError(f"command {text!r} contains control characters")
    head = text[0]
    if head in "wtrf":
        symbol = text[1:]
        if not symbol or "," in symbol or " " in symbol:
            raise ProtocolError(f"command {text!r}: expected {head}<SYMBOL> with a symbol and no commas")
        return Command(head, (symbol,))
    if text == "T":
        return Command("T")
    fields = text.split(",")
    if fields[0] == "S":
        if len(fields) < 2 or not fields[1].strip():
            raise ProtocolError(f"command {text!r}: expected S,<NAME>[,args]")
        return Command("S," + fields[1].strip().upper(), tuple(fields[2:]))
    if _VERB.fullmatch(fields[0]):
        return Command(fields[0], tuple(fields[1:]))
    raise ProtocolError(
        f"unrecognised command {text!r}: expected w/t/r/f<SYMBOL>, T, S,<NAME>,... "
        "or a request such as HTX,..."
    )
