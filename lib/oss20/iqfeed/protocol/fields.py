"""The protocol's vocabulary: ports, reply markers and error texts, field names in wire order, and
the frame columns that Level 1 fields and history replies map to (see ../shared/IQFEED_PROTOCOL.md)."""

from __future__ import annotations

import numpy as np

from oss20 import schema

LEVEL1_PORT, LOOKUP_PORT, ADMIN_PORT = 5009, 9100, 9300
LEVEL2_PORT, DERIVATIVE_PORT = 9200, 9400
ENDMSG = "!ENDMSG!"
NO_DATA = "!NO_DATA!"
INVALID_SYMBOL = "Invalid symbol."
SYNTAX_ERROR = "!SYNTAX_ERROR!"
THROTTLED = "Too many simultaneous history requests."
PROTOCOL_VERSIONS = ("6.0", "6.1", "6.2")
DEFAULT_PER_SEND = 500
MAX_LINE = 1 << 20
"""A partial line longer than this (bytes) is dropped as malformed rather than buffered forever."""

ALL_UPDATE_FIELDS: tuple[str, ...] = (
    "Symbol",
    "Most Recent Trade",
    "Most Recent Trade Size",
    "Most Recent Trade Time",
    "Most Recent Trade Date",
    "Most Recent Trade Market Center",
    "Most Recent Trade Conditions",
    "Most Recent Trade Aggressor",
    "Most Recent Trade Day Code",
    "Total Volume",
    "Bid",
    "Bid Size",
    "Bid Time",
    "Bid Market Center",
    "Ask",
    "Ask Size",
    "Ask Time",
    "Ask Market Center",
    "Open",
    "High",
    "Low",
    "Close",
    "Message Contents",
    "TickID",
    "Decimal Precision",
    "Delay",
    "Exchange ID",
    "7 Day Yield",
    "Ask Change",
    "Available Regions",
    "Average Maturity",
    "Bid Change",
    "Change",
    "Change From Open",
    "Close Range 1",
    "Close Range 2",
    "Days to Expiration",
    "Extended Trade",
    "Extended Trade Date",
    "Extended Trade Market Center",
    "Extended Trade Size",
    "Extended Trade Time",
    "Extended Trading Change",
    "Extended Trading Difference",
    "Financial Status Indicator",
    "Fraction Display Code",
    "Last",
    "Last Date",
    "Last Market Center",
    "Last Size",
    "Last Time",
    "Market Capitalization",
    "Market Open",
    "Net Asset Value",
    "Number of Trades Today",
    "Open Interest",
    "Open Range 1",
    "Open Range 2",
    "Percent Change",
    "Percent Off Average Volume",
    "Previous Day Volume",
    "Price-Earnings Ratio",
    "Range",
    "Restricted Code",
    "Settle",
    "Settlement Date",
    "Spread",
    "Tick",
    "Volatility",
    "VWAP",
)
"""Every Level 1 field name (IQFeed spelling): the set pyiqfeed checks ``S,UPDATE FIELDNAMES`` against."""

DEFAULT_UPDATE_FIELDS: tuple[str, ...] = (
    "Symbol",
    "Most Recent Trade",
    "Most Recent Trade Size",
    "Most Recent Trade Time",
    "Most Recent Trade Market Center",
    "Total Volume",
    "Bid",
    "Bid Size",
    "Ask",
    "Ask Size",
    "Open",
    "High",
    "Low",
    "Close",
    "Message Contents",
    "Most Recent Trade Conditions",
)
"""Protocol 6.1's default update fields, in order."""

OSS20_UPDATE_FIELDS: tuple[str, ...] = (
    *DEFAULT_UPDATE_FIELDS,
    "Most Recent Trade Date",
    "TickID",
    "Most Recent Trade Aggressor",
    "Bid Time",
    "Ask Time",
)
"""What our client selects: every LEVEL1_COLUMNS value plus the times that date quote updates."""

FUNDAMENTAL_FIELDS: tuple[str, ...] = (
    "Symbol",
    "Exchange ID",
    "PE",
    "Average Volume",
    "52 Week High",
    "52 Week Low",
    "Calendar Year High",
    "Calendar Year Low",
    "Dividend Yield",
    "Dividend Amount",
    "Dividend Rate",
    "Pay Date",
    "Ex-dividend Date",
    "Current Year EPS",
    "Next Year EPS",
    "Five-year Growth Percentage",
    "Fiscal Year End",
    "Company Name",
    "Root Option Symbol",
    "Percent Held By Institutions",
    "Beta",
    "Leaps",
    "Current Assets",
    "Current Liabilities",
    "Balance Sheet Date",
    "Long-term Debt",
    "Common Shares Outstanding",
    "Split Factor 1",
    "Split Factor 2",
    "Format Code",
    "Precision",
    "SIC",
    "Historical Volatility",
    "Security Type",
    "Listed Market",
    "52 Week High Date",
    "52 Week Low Date",
    "Calendar Year High Date",
    "Calendar Year Low Date",
    "Year End Close",
    "Maturity Date",
    "Coupon Rate",
    "Expiration Date",
    "Strike Price",
    "NAICS",
    "Exchange Root",
    "Option Premium Multiplier",
    "Option Multiple Deliverable",
    "Session Open Time",
    "Session Close Time",
    "Base Currency",
    "Contract Size",
    "Contract Months",
    "Minimum Tick Size",
    "First Delivery Date",
    "FIGI",
    "Security SubType",
)
"""Fundamental (F) message fields in wire order; pyiqfeed reads F lines by position in this order."""

FIELD_COLUMNS: dict[str, str] = {
    "Symbol": "symbol",
    "Most Recent Trade": "price",
    "Most Recent Trade Size": "size",
    "Most Recent Trade Time": "timestamp",
    "Most Recent Trade Date": "timestamp",
    "Most Recent Trade Market Center": "market_center",
    "Most Recent Trade Conditions": "conditions",
    "Most Recent Trade Aggressor": "aggressor",
    "Total Volume": "total_volume",
    "Bid": "bid",
    "Bid Size": "bid_size",
    "Bid Time": "timestamp",
    "Ask": "ask",
    "Ask Size": "ask_size",
    "Ask Time": "timestamp",
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Message Contents": "contents",
    "TickID": "tick_id",
}
"""IQFeed Level 1 field -> the ``schema.LEVEL1_COLUMNS`` column it carries (times feed ``timestamp``)."""

TIME_SOURCES: dict[str, str] = {
    "Most Recent Trade Time": "trade_timestamp",
    "Most Recent Trade Date": "trade_timestamp",
    "Bid Time": "bid_timestamp",
    "Ask Time": "ask_timestamp",
}
"""Optional frame columns ``format_level1`` reads these fields from (else ``timestamp``)."""

INTERVAL_BAR_COLUMNS: schema.Columns = {
    "timestamp": schema.BAR_COLUMNS["timestamp"],
    "symbol": schema.BAR_COLUMNS["symbol"],
    "open": schema.BAR_COLUMNS["open"],
    "high": schema.BAR_COLUMNS["high"],
    "low": schema.BAR_COLUMNS["low"],
    "close": schema.BAR_COLUMNS["close"],
    "total_volume": schema.TICK_COLUMNS["total_volume"],
    "volume": schema.BAR_COLUMNS["volume"],
    "trades": schema.BAR_COLUMNS["trades"],
}
"""An IQFeed interval bar (HIX/HID/HIT reply); ``timestamp`` as the request labelled it."""

DAILY_COLUMNS: schema.Columns = {
    "date": np.dtype("datetime64[ns]"),  # calendar date (midnight, no time zone)
    "symbol": schema.BAR_COLUMNS["symbol"],
    "open": schema.BAR_COLUMNS["open"],
    "high": schema.BAR_COLUMNS["high"],
    "low": schema.BAR_COLUMNS["low"],
    "close": schema.BAR_COLUMNS["close"],
    "volume": schema.BAR_COLUMNS["volume"],
    "open_interest": schema.BAR_COLUMNS["volume"],
}
"""An IQFeed daily, weekly or monthly bar (HDX/HDT/HWX/HMX reply)."""

STATS_FIELDS: tuple[str, ...] = (
    "server_ip",
    "server_port",
    "max_symbols",
    "symbols_watched",
    "clients",
    "seconds_since_update",
    "reconnects",
    "failed_reconnects",
    "connection_time",
    "market_time",
    "status",
    "feed_version",
    "login_id",
    "kb_received",
    "kbs_received",
    "avg_kbs_received",
    "kb_sent",
    "kbs_sent",
    "avg_kbs_sent",
)
"""Admin ``S,STATS`` fields in wire order (keys of ``format_stats``/``parse_stats``)."""
