"""IQFeed's reference tables on the lookup port (SLM, SST, STC, SSC, SNC), as the simulator serves them.

Each table answers one line per entry, fields separated by commas with a trailing comma, then
``!ENDMSG!,``. Line layouts follow DTN's descriptions (unconfirmed, see IQFEED_PROTOCOL.md):
SLM id, short name, long name, group id, group name; SST id, short name, long name; STC id
(decimal; the feed shows it as two hex digits), short name, long name; SSC/SNC code, description.
"""

from __future__ import annotations

from oss20.market import MARKET_CENTERS, SECURITY_TYPE_EQUITY, TRADE_CONDITIONS

TABLES = ("SLM", "SST", "STC", "SSC", "SNC")

_TRF_GROUP = (19, 20, 21)
_SECURITY_TYPES = {SECURITY_TYPE_EQUITY: ("EQUITY", "Equity"), 2: ("IEOPTION", "Index/Equity Option")}
_SIC = {"3571": "ELECTRONIC COMPUTERS", "6021": "NATIONAL COMMERCIAL BANKS", "2086": "BOTTLED SOFT DRINKS"}
_NAICS = {"334111": "Electronic Computer Manufacturing", "522110": "Commercial Banking"}


def rows(table: str) -> list[tuple[str, ...]]:
    """The entries of one reference table; a ``ValueError`` names the tables there are."""
    if table == "SLM":
        return [
            (str(code), _short(name), name, *(("2", "TRF") if code in _TRF_GROUP else ("1", "EQUITY")))
            for code, name in MARKET_CENTERS.items()
        ]
    if table == "SST":
        return [(str(code), short, long) for code, (short, long) in _SECURITY_TYPES.items()]
    if table == "STC":
        return [(str(int(code, 16)), _short(name), name) for code, name in sorted(TRADE_CONDITIONS.items())]
    if table == "SSC":
        return list(_SIC.items())
    if table == "SNC":
        return list(_NAICS.items())
    raise ValueError(f"no reference table {table!r}; there are {', '.join(TABLES)}")


def format_table(table: str) -> bytes:
    """The full reply to a reference-table request: its lines, then ``!ENDMSG!,``."""
    lines = [",".join(row) + ",\n" for row in rows(table)]
    return ("".join(lines) + "!ENDMSG!,\n").encode("latin-1")


def _short(name: str) -> str:
    return name.split(" (")[0].upper().replace(" ", "")
