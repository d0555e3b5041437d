"""The IQFeed wire protocol as pure functions: format what IQConnect sends, parse what it sends back.

The simulator formats with the ``format_*`` functions and reads client commands with
``parse_command``/``parse_history_request``; the client builds commands with ``cmd_*`` and
``format_request`` and parses the streams with ``Level1Parser`` and ``parse_tick_history``/
``parse_interval_bars``/``parse_daily``. No sockets, no asyncio, no I/O. The wire format is
../shared/IQFEED_PROTOCOL.md; frames carry the columns of ``oss20.schema``.

Modules: ``fields`` (ports, markers, field names), ``errors``, ``commands`` (client commands),
``requests`` (history request values, both directions), ``messages`` (S/T/E/n/F lines),
``level1`` (Q/P lines, ``Level1Parser``), ``history`` (history data lines), ``framing`` (reply
ends, errors, per-request splitting), ``admin`` (``S,STATS``). Hot paths run the numba kernels
of ``_kernels`` over whole buffers; prices round-trip exactly, so ``parse(format(frame))``
reproduces every value and dtype.
"""

from oss20.iqfeed.protocol.admin import format_stats, parse_stats
from oss20.iqfeed.protocol.commands import (
    Command,
    cmd_connect,
    cmd_refresh,
    cmd_request_watches,
    cmd_select_fields,
    cmd_set_client_name,
    cmd_set_protocol,
    cmd_system,
    cmd_timestamps,
    cmd_trades_only,
    cmd_unwatch,
    cmd_unwatch_all,
    cmd_watch,
    parse_command,
)
from oss20.iqfeed.protocol.errors import Malformed, ProtocolError
from oss20.iqfeed.protocol.fields import (
    ADMIN_PORT,
    ALL_UPDATE_FIELDS,
    DEFAULT_PER_SEND,
    DEFAULT_UPDATE_FIELDS,
    DERIVATIVE_PORT,
    ENDMSG,
    FIELD_COLUMNS,
    FUNDAMENTAL_FIELDS,
    INVALID_SYMBOL,
    LEVEL1_PORT,
    LEVEL2_PORT,
    LOOKUP_PORT,
    MAX_LINE,
    NO_DATA,
    OSS20_UPDATE_FIELDS,
    PROTOCOL_VERSIONS,
    STATS_FIELDS,
    SYNTAX_ERROR,
    THROTTLED,
    TIME_SOURCES,
)
from oss20.iqfeed.protocol.framing import (
    SplitReply,
    format_end,
    format_history_error,
    split_reply,
    strip_request_id,
)
from oss20.iqfeed.protocol.history import (
    HistoryReply,
    format_daily,
    format_interval_bars,
    format_tick_history,
    parse_daily,
    parse_interval_bars,
    parse_tick_history,
)
from oss20.iqfeed.protocol.level1 import Level1Batch, Level1Parser, format_level1
from oss20.iqfeed.protocol.messages import (
    format_error,
    format_fundamental,
    format_system,
    format_timestamp,
    format_unknown_symbol,
)
from oss20.iqfeed.protocol.requests import (
    HISTORY_VERBS,
    DailyRequest,
    HistoryRequest,
    IntervalRequest,
    TickRequest,
    format_request,
    has_request_id,
    parse_history_request,
    request_id_of,
    request_id_position,
)

__all__ = [
    "ADMIN_PORT",
    "ALL_UPDATE_FIELDS",
    "DEFAULT_PER_SEND",
    "DEFAULT_UPDATE_FIELDS",
    "DERIVATIVE_PORT",
    "ENDMSG",
    "FIELD_COLUMNS",
    "FUNDAMENTAL_FIELDS",
    "HISTORY_VERBS",
    "INVALID_SYMBOL",
    "LEVEL1_PORT",
    "LEVEL2_PORT",
    "LOOKUP_PORT",
    "MAX_LINE",
    "NO_DATA",
    "OSS20_UPDATE_FIELDS",
    "PROTOCOL_VERSIONS",
    "STATS_FIELDS",
    "SYNTAX_ERROR",
    "THROTTLED",
    "TIME_SOURCES",
    "Command",
    "DailyRequest",
    "HistoryReply",
    "HistoryRequest",
    "IntervalRequest",
    "Level1Batch",
    "Level1Parser",
    "Malformed",
    "ProtocolError",
    "SplitReply",
    "TickRequest",
    "cmd_connect",
    "cmd_refresh",
    "cmd_request_watches",
    "cmd_select_fields",
    "cmd_set_client_name",
    "cmd_set_protocol",
    "cmd_system",
    "cmd_timestamps",
    "cmd_trades_only",
    "cmd_unwatch",
    "cmd_unwatch_all",
    "cmd_watch",
    "format_daily",
    "format_end",
    "format_error",
    "format_fundamental",
    "format_history_error",
    "format_interval_bars",
    "format_level1",
    "format_request",
    "format_stats",
    "format_system",
    "format_tick_history",
    "format_timestamp",
    "format_unknown_symbol",
    "has_request_id",
    "parse_command",
    "parse_daily",
    "parse_history_request",
    "parse_interval_bars",
    "parse_stats",
    "parse_tick_history",
    "request_id_of",
    "request_id_position",
    "split_reply",
    "strip_request_id",
]
