"""How a lookup (port 9100) reply is framed: every line starts with the request's ``RID,`` and
the reply ends with ``RID,!ENDMSG!,``. Builders for the end and error lines, and the client's
tools to pick one request's lines out of a socket buffer shared with other requests."""

from __future__ import annotations

import re
from dataclasses import dataclass

from oss20.iqfeed.protocol._text import check_text


@dataclass(frozen=True)
class SplitReply:
    """``split_reply`` result: this request's complete lines, everything else, and whether it ended."""

    mine: bytes
    rest: bytes
    done: bool


def request_prefix(request_id: str) -> bytes:
    """The ``RID,`` that starts every line of a lookup reply; empty when the request had no id."""
    return check_text(request_id, "request id") + b"," if request_id else b""


def format_end(request_id: str) -> bytes:
    """The ``RID,!ENDMSG!,`` line that ends every lookup reply."""
    return request_prefix(request_id) + b"!ENDMSG!,\n"


def format_history_error(request_id: str, text: str) -> bytes:
    """``RID,E,<text>,`` followed by the end line (pyiqfeed waits for it)."""
    return (
        request_prefix(request_id) + b"E," + check_text(text, "error text") + b",\n" + format_end(request_id)
    )


def strip_request_id(data: bytes, request_id: str) -> bytes:
    """Request ``request_id``'s complete lines from ``data`` with the ``RID,`` prefix removed.

    Other requests' lines are dropped; the ``parse_*`` functions read the result (they accept
    lines with or without the RequestID).
    """
    if not request_id:
        return data
    mine = split_reply(data if data.endswith(b"\n") else data + b"\n", request_id).mine
    prefix = request_id.encode("latin-1") + b","
    return mine[len(prefix) :].replace(b"\n" + prefix, b"\n") if mine else b""


def split_reply(data: bytes, request_id: str) -> SplitReply:
    """Take request ``request_id``'s complete lines out of a lookup-socket buffer.

    ``mine`` holds its lines (data, error and the end line) in order; ``rest`` keeps everything
    else in order (other requests' lines, lines after our end line, a partial last line) for the
    caller to keep buffering; ``done`` says the end line was seen. Feed the concatenated ``mine``
    parts to ``parse_*`` once ``done``.
    """
    cut = data.rfind(b"\n") + 1
    complete, partial = data[:cut], data[cut:]
    prefix = request_id.encode("latin-1") + b","
    end_line = re.search(rb"(?:^|\n)" + re.escape(prefix) + rb"!ENDMSG!,?\r?\n", complete)
    if end_line is not None:
        region, after = complete[: end_line.end()], complete[end_line.end() :] + partial
    else:
        region, after = complete, partial
    lines = region.count(b"\n")
    ours = region.count(b"\n" + prefix) + (1 if region.startswith(prefix) else 0)
    if ours == lines:
        return SplitReply(region, after, end_line is not None)
    mine: list[bytes] = []
    others: list[bytes] = []
    for line in region.splitlines(keepends=True):
        (mine if line.startswith(prefix) else others).append(line)
    return SplitReply(b"".join(mine), b"".join(others) + after, end_line is not None)
