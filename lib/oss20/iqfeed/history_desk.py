"""The simulator's lookup desk: answers IQFeed history requests from the synthetic market.

Pure given the market and the simulated clock's ``now``: the live day is cut at ``now`` so
that history never shows a tick the live stream has not yet sent, and history agrees with
the live stream tick for tick. Tick history depth follows DTN's rules (about 180 calendar
days, 8 while the market is open); interval and daily bars reach back years.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from oss20 import calendar
from oss20.iqfeed import protocol
from oss20.market import Market

TICK_DEPTH_CLOSED = dt.timedelta(days=180)
TICK_DEPTH_OPEN = dt.timedelta(days=8)
INTERVAL_DEPTH_LAST = 365
"""Calendar days an HIX request ("the last N bars") looks back at most."""
PERIODS = {"HWX": "W-FRI", "HMX": "M"}
"""pandas periods of weekly and monthly bars; each is labelled by its last session (unconfirmed)."""


class NoData(Exception):
    """The request is valid but nothing matches (IQFeed's !NO_DATA!)."""


class HistoryDesk:
    """Turns parsed history requests into reply bytes, as IQConnect's lookup port would."""

    def __init__(self, market: Market) -> None:
        self.market = market

    def reply(self, request: protocol.HistoryRequest, now: pd.Timestamp, protocol_version: str) -> bytes:
        """The full reply (data lines or an error line, then !ENDMSG!) to one request."""
        rid = request.request_id
        if not self.market.knows(request.symbol):
            return protocol.format_history_error(rid, protocol.INVALID_SYMBOL)
        try:
            if isinstance(request, protocol.TickRequest):
                body = protocol.format_tick_history(rid, self.ticks(request, now), protocol_version)
            elif isinstance(request, protocol.IntervalRequest):
                body = protocol.format_interval_bars(rid, self.interval_bars(request, now), protocol_version)
            else:
                body = protocol.format_daily(rid, self.daily(request, now), protocol_version)
        except NoData:
            return protocol.format_history_error(rid, protocol.NO_DATA)
        return body + protocol.format_end(rid)

    def ticks(self, request: protocol.TickRequest, now: pd.Timestamp) -> pd.DataFrame:
        """Trades for an HTX, HTD or HTT request, ordered as the request's direction asks."""
        earliest = (now - tick_depth(now)).normalize()
        begin, end = _window(request, now)
        begin = max(begin, earliest) if begin is not None else earliest
        days = calendar.sessions(begin.date(), end.date())
        if request.kind == "HTX":
            frame = self._last_ticks(request.symbol, days, now, request.max_points or 0)
        else:
            frames = [self._day_ticks(request.symbol, d, now) for d in days]
            frame = _concat(frames)
            stamps = frame["timestamp"]
            frame = frame[(stamps >= begin) & (stamps <= end)]
        frame = _time_filter(frame, request.begin_filter, request.end_filter)
        return _limit_and_order(frame, request.max_points, request.direction)

    def interval_bars(self, request: protocol.IntervalRequest, now: pd.Timestamp) -> pd.DataFrame:
        """Interval bars (seconds, trades or volume) ending at or before ``now``."""
        begin, end = _window(request, now)
        if begin is None:
            begin = (now - pd.Timedelta(days=INTERVAL_DEPTH_LAST)).normalize()
        frames: list[pd.DataFrame] = []
        have = 0
        for day in reversed(calendar.sessions(begin.date(), min(end, now).date())):
            bars = self.market.interval_bars(request.symbol, day, request.interval, request.interval_type)
            if request.label_at_beginning:
                bars = _label_at_beginning(bars, request.interval, request.interval_type)
            frames.insert(0, bars[_bar_end(bars, request) <= now])
            have += len(frames[0])
            if request.kind == "HIX" and request.max_points and have >= request.max_points:
                break
        frame = _concat(frames)
        if request.kind != "HIX":
            stamps = frame["timestamp"]
            frame = frame[(stamps >= begin) & (stamps <= end)]
        frame = _time_filter(frame, request.begin_filter, request.end_filter)
        return _limit_and_order(frame, request.max_points, request.direction)

    def daily(self, request: protocol.DailyRequest, now: pd.Timestamp) -> pd.DataFrame:
        """Daily (HDX, HDT), weekly (HWX) or monthly (HMX) bars of completed sessions."""
        last = now.date()
        if calendar.is_session(last) and now < calendar.session(last).close:
            last = calendar.previous_session(last)
        if request.kind == "HDT":
            first = request.begin.date() if request.begin is not None else last - dt.timedelta(days=365)
            last = min(last, request.end.date()) if request.end is not None else last
        else:
            days_per_bar = {"HDX": 1.5, "HWX": 7, "HMX": 31}[request.kind]
            first = last - dt.timedelta(days=int(days_per_bar * (request.max_points or 250)) + 7)
        if first > last:
            raise NoData
        frame = self.market.daily(request.symbol, first, last)
        if request.kind in PERIODS:
            frame = _by_period(frame, PERIODS[request.kind])
        return _limit_and_order(frame, request.max_points, request.direction)

    def _day_ticks(self, symbol: str, day: dt.date, now: pd.Timestamp) -> pd.DataFrame:
        ticks = self.market.ticks(symbol, day)
        if day < now.date():
            return ticks
        stamps = ticks["timestamp"].to_numpy(dtype="datetime64[ns]").view(np.int64)
        cut = int(np.searchsorted(stamps, now.value, side="right"))
        return ticks.iloc[:cut]

    def _last_ticks(self, symbol: str, days: list[dt.date], now: pd.Timestamp, count: int) -> pd.DataFrame:
        frames: list[pd.DataFrame] = []
        have = 0
        for day in reversed(days):
            frames.insert(0, self._day_ticks(symbol, day, now))
            have += len(frames[0])
            if count and have >= count:
                break
        return _concat(frames)


def tick_depth(now: pd.Timestamp) -> dt.timedelta:
    """How far back tick history reaches at ``now``: 8 days while the market is open, else 180."""
    day = now.date()
    if calendar.is_session(day):
        s = calendar.session(day)
        if s.open <= now < s.close:
            return TICK_DEPTH_OPEN
    return TICK_DEPTH_CLOSED


def _window(
    request: protocol.TickRequest | protocol.IntervalRequest, now: pd.Timestamp
) -> tuple[pd.Timestamp | None, pd.Timestamp]:
    """The [begin, end] a request covers; HxD counts calendar days back, today included."""
    if request.days is not None:
        begin = (now - pd.Timedelta(days=max(request.days, 1) - 1)).normalize()
        return begin, now
    end = min(request.end, now) if request.end is not None else now
    return request.begin, end


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    if not frames:
        raise NoData
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _time_filter(frame: pd.DataFrame, begin: dt.time | None, end: dt.time | None) -> pd.DataFrame:
    if begin is None and end is None:
        return frame
    stamps = frame["timestamp"].dt
    seconds = stamps.hour * 3600 + stamps.minute * 60 + stamps.second
    keep = np.ones(len(frame), dtype=bool)
    if begin is not None:
        keep &= (seconds >= begin.hour * 3600 + begin.minute * 60 + begin.second).to_numpy()
    if end is not None:
        keep &= (seconds <= end.hour * 3600 + end.minute * 60 + end.second).to_numpy()
    return frame[keep]


def _limit_and_order(frame: pd.DataFrame, max_points: int | None, direction: int) -> pd.DataFrame:
    """Keep the newest ``max_points`` rows; direction 0 lists newest first, 1 oldest first."""
    if frame.empty:
        raise NoData
    if max_points:
        frame = frame.iloc[-max_points:]
    if direction == 0:
        frame = frame.iloc[::-1]
    return frame.reset_index(drop=True)


def _by_period(daily: pd.DataFrame, period: str) -> pd.DataFrame:
    """Weekly or monthly bars from daily ones: first open, highest high, lowest low, last close."""
    key = pd.PeriodIndex(pd.to_datetime(daily["date"]), freq=period)
    grouped = daily.groupby(key, sort=True)
    return grouped.agg(
        date=("date", "last"),
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        volume=("volume", "sum"),
        open_interest=("open_interest", "last"),
    ).reset_index(drop=True)


def _bar_end(frame: pd.DataFrame, request: protocol.IntervalRequest) -> pd.Series:
    if request.label_at_beginning and request.interval_type == "s":
        return frame["timestamp"] + pd.Timedelta(seconds=request.interval)
    return frame["timestamp"]


def _label_at_beginning(bars: pd.DataFrame, interval: int, interval_type: str) -> pd.DataFrame:
    """Relabel time bars by their start; trade and volume bars have no fixed span and keep theirs."""
    if interval_type != "s":
        return bars
    return bars.assign(timestamp=bars["timestamp"] - pd.Timedelta(seconds=interval))
