"""What the backfill dashboard shows, as plain frames: the coverage grid, the gap list, the chunks at
work or failed, the history-request budget in use, and the history of backfill runs.

Pure functions over gaps, stored days and catalog tasks, but for ``stored_days`` (the I/O edge: which
symbol-days hold ticks, which 1-minute bars). No Panel here: notebooks and tests call them directly.

Coverage of a symbol-session is one of ``STATES``:

- ``full``: no gap (everything the calendar and the feed's bars expect is stored);
- ``partial``: some ticks stored, gaps that tick history still reaches;
- ``missing``: no ticks stored, and tick history still reaches the session;
- ``unreachable``: gaps that tick history no longer reaches (only bars could fill them);
- ``bar-only``: no ticks stored but 1-minute bars are, or every gap is ``bar-only`` (out of tick
  history's reach, the feed's 1-minute and daily bars filled instead by ``oss20.backfill.bars``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from oss20 import calendar
from oss20.backfill.chunks import Chunk
from oss20.backfill.executor import KIND
from oss20.backfill.gaps import BAR_ONLY, MISSING_SESSION, Gap, gaps_frame
from oss20.bar_engine.spec import BarSpec
from oss20.schema import TZINFO
from oss20.storage.arctic import TickStore, library
from oss20.storage.bar_store import BarStore
from oss20.storage.catalog import TaskRecord

STATES = ("full", "partial", "bar-only", "missing", "unreachable")
"""Coverage states of a symbol-session, best first (their order is the heatmap's colour order)."""
STATE_COLOURS = {
    "full": "#2ca02c",
    "partial": "#ffbf00",
    "bar-only": "#7f7fff",
    "missing": "#d62728",
    "unreachable": "#7f7f7f",
}
GRID_COLUMNS = ["symbol", "session", "state", "gaps", "expected_trades"]
GAP_COLUMNS = ["symbol", "session", "start", "end", "minutes", "expected_trades", "reason", "reachable"]
CHUNK_COLUMNS = [
    "task",
    "symbol",
    "session",
    "start",
    "end",
    "status",
    "attempts",
    "expected",
    "received",
    "stored",
    "updated",
    "error",
]
RUN_COLUMNS = ["started", "owner", "chunks", "done", "failed", "active", "attempts", "stored", "seconds"]
RUN_GAP = pd.Timedelta(seconds=5)
"""Tasks of one owner recorded less than this apart belong to one run (``record`` writes a run's
chunks in one go; the catalog keeps no run id)."""
BUDGET_WINDOW = pd.Timedelta(seconds=10)
"""How far back ``budget_in_use`` counts requests."""
MINUTE_BARS = BarSpec.parse("1min")


def stored_days(
    uri: str, symbols: Sequence[str], first: dt.date, last: dt.date
) -> tuple[dict[str, set[dt.date]], dict[str, set[dt.date]]]:
    """(sessions holding ticks, sessions holding 1-minute bars) per symbol, from ``first`` to ``last``,
    in the ArcticDB at ``uri``."""
    ticks, bars = TickStore(uri), BarStore(uri)
    minute_bars = library(uri, MINUTE_BARS.library)
    days = calendar.sessions(first, last)
    with_ticks = {s: {d for d in ticks.days(s) if first <= d <= last} for s in symbols}
    with_bars = {s: {d for d in days if minute_bars.has_symbol(bars.key(s, d, MINUTE_BARS))} for s in symbols}
    return with_ticks, with_bars


def state_of(gaps: Sequence[Gap], has_ticks: bool, has_bars: bool) -> str:
    """The coverage state (one of ``STATES``) of a session with ``gaps``.

    >>> state_of([], has_ticks=True, has_bars=False)
    'full'
    >>> state_of([], has_ticks=False, has_bars=True)  # nothing expected: quiet or not begun
    'full'
    """
    if not gaps:
        return "full"
    if (not has_ticks and has_bars) or all(g.reason == BAR_ONLY for g in gaps):
        return "bar-only"
    if not all(g.reachable for g in gaps):
        return "unreachable"
    if not has_ticks or any(g.reason == MISSING_SESSION for g in gaps):
        return "missing"
    return "partial"


def coverage_grid(
    symbols: Sequence[str],
    sessions: Sequence[dt.date],
    gaps: Iterable[Gap],
    tick_days: Mapping[str, set[dt.date]],
    bar_days: Mapping[str, set[dt.date]],
) -> pd.DataFrame:
    """One row per symbol and session (``GRID_COLUMNS``): its state, number of gaps and the trades
    they miss (0 when the feed was not asked). ``session`` is an ISO date, so the heatmap's axis is
    categorical."""
    by_cell: dict[tuple[str, dt.date], list[Gap]] = {}
    for gap in gaps:
        by_cell.setdefault((gap.symbol, gap.session), []).append(gap)
    rows = []
    for symbol in symbols:
        for day in sessions:
            cell = by_cell.get((symbol, day), [])
            state = state_of(cell, day in tick_days.get(symbol, set()), day in bar_days.get(symbol, set()))
            expected = sum(g.expected_trades or 0 for g in cell)
            rows.append((symbol, day.isoformat(), state, len(cell), expected))
    return pd.DataFrame(rows, columns=GRID_COLUMNS)


def gap_rows(gaps: Iterable[Gap]) -> pd.DataFrame:
    """The gap list as shown (``GAP_COLUMNS``): times as New York HH:MM, the session as an ISO date,
    ``expected_trades`` 0 when the feed was not asked."""
    frame = gaps_frame(gaps)
    return pd.DataFrame(
        {
            "symbol": frame["symbol"],
            "session": [d.isoformat() for d in frame["session"]],
            "start": frame["start"].dt.tz_convert(TZINFO).dt.strftime("%H:%M"),
            "end": frame["end"].dt.tz_convert(TZINFO).dt.strftime("%H:%M"),
            "minutes": ((frame["end"] - frame["start"]).dt.total_seconds() // 60).astype("int64"),
            "expected_trades": frame["expected_trades"].fillna(0).astype("int64"),
            "reason": frame["reason"],
            "reachable": frame["reachable"],
        },
        columns=GAP_COLUMNS,
    )


def task_chunk(task: TaskRecord) -> Chunk:
    """The chunk a backfill task was recorded for (what a retry runs again)."""
    if task.kind != KIND or task.window_start is None or task.window_end is None or len(task.symbols) != 1:
        raise ValueError(f"task {task.task_id} is not a backfill chunk (kind {task.kind!r}, {task.symbols})")
    expected = task.params.get("expected_trades")
    return Chunk(
        task.symbols[0],
        dt.date.fromisoformat(str(task.params["session"])),
        pd.Timestamp(task.window_start).tz_convert(TZINFO),
        pd.Timestamp(task.window_end).tz_convert(TZINFO),
        dt.date.fromisoformat(str(task.params["deadline"])),
        None if expected is None else int(expected),
        str(task.params.get("reason", "")),
    )


def _local(stamp: dt.datetime, pattern: str) -> str:
    return pd.Timestamp(stamp).tz_convert(TZINFO).strftime(pattern)


def chunk_rows(tasks: Iterable[TaskRecord]) -> pd.DataFrame:
    """One row per backfill task (``CHUNK_COLUMNS``), as given; ``task`` is the whole task id."""
    rows = [
        (
            t.task_id,
            ",".join(t.symbols),
            str(t.params.get("session", "")),
            "" if t.window_start is None else _local(t.window_start, "%H:%M"),
            "" if t.window_end is None else _local(t.window_end, "%H:%M"),
            t.status,
            t.attempts,
            int(t.params.get("expected_trades") or 0),
            int(t.counters.get("received", 0)),
            int(t.counters.get("stored", 0)),
            _local(t.updated_at, "%Y-%m-%d %H:%M:%S"),
            t.error or "",
        )
        for t in tasks
        if t.kind == KIND
    ]
    return pd.DataFrame(rows, columns=CHUNK_COLUMNS)


@dataclass(frozen=True)
class BudgetUse:
    """History requests per second the backfill sent lately against the shared budget's rate."""

    requests: int
    """Chunk attempts (one tick request each, at least) in the window."""
    rate: float
    """``requests`` per second of the window."""
    limit: float
    """The budget's rate (``settings.history_rate``)."""

    @property
    def share(self) -> float:
        """``rate`` as a fraction of ``limit`` (above 1 means over budget)."""
        return self.rate / self.limit


def budget_in_use(
    tasks: Iterable[TaskRecord], now: pd.Timestamp, limit: float, window: pd.Timedelta = BUDGET_WINDOW
) -> BudgetUse:
    """The request rate of backfill tasks touched within ``window`` before ``now`` (tz-aware).

    Each attempt of a chunk sends one tick request through the shared budget (the client's own
    retries on a throttle reply come on top, so this is a lower bound); a task counts its attempts
    when it was last updated inside the window.
    """
    since = now - window
    requests = sum(t.attempts for t in tasks if t.kind == KIND and pd.Timestamp(t.updated_at) >= since)
    return BudgetUse(requests, requests / window.total_seconds(), limit)


def runs(tasks: Iterable[TaskRecord]) -> list[list[TaskRecord]]:
    """Backfill tasks grouped into runs, oldest run first, each in the order it was recorded: the
    tasks of one owner recorded within ``RUN_GAP`` of each other."""
    chosen = sorted(
        (t for t in tasks if t.kind == KIND),
        key=lambda t: (str(t.params.get("owner", "")), pd.Timestamp(t.created_at), t.task_id),
    )
    grouped: list[list[TaskRecord]] = []
    for task in chosen:
        last = grouped[-1][-1] if grouped else None
        if (
            last is None
            or last.params.get("owner") != task.params.get("owner")
            or pd.Timestamp(task.created_at) - pd.Timestamp(last.created_at) > RUN_GAP
        ):
            grouped.append([])
        grouped[-1].append(task)
    return sorted(grouped, key=lambda run: pd.Timestamp(run[0].created_at))


def run_history(tasks: Iterable[TaskRecord]) -> pd.DataFrame:
    """Backfill runs, newest first (``RUN_COLUMNS``), with their counts, ticks stored and seconds
    from the first record to the last update."""
    rows = []
    for run in reversed(runs(tasks)):
        started = pd.Timestamp(run[0].created_at)
        finished = max(pd.Timestamp(t.updated_at) for t in run)
        statuses = [t.status for t in run]
        rows.append(
            (
                started.tz_convert(TZINFO).strftime("%Y-%m-%d %H:%M:%S"),
                str(run[0].params.get("owner", "")),
                len(run),
                statuses.count("done"),
                statuses.count("failed"),
                statuses.count("pending") + statuses.count("running"),
                sum(t.attempts for t in run),
                sum(int(t.counters.get("stored", 0)) for t in run),
                round((finished - started).total_seconds(), 1),
            )
        )
    return pd.DataFrame(rows, columns=RUN_COLUMNS)
