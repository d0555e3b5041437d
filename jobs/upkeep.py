"""Storage upkeep jobs: compact fragmented symbol-days, report storage health, prune the journal."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from oss20.config import Settings
from oss20.schema import TZ
from oss20.storage import keys
from oss20.storage.arctic import ROWS_PER_SEGMENT, TickStore
from oss20.storage.journal import SUFFIX, Journal, JournalCorrupt, JournalError, read_ticks

log = logging.getLogger(__name__)

SEGMENT_THRESHOLD = 10
"""A stored symbol-day in more row slices than this is reported as fragmented by ``storage_health``."""


def today() -> dt.date:
    """Today's date in New York, the date trading days and journal files are named by."""
    return pd.Timestamp.now(tz=TZ).date()


def journal_dir(settings: Settings) -> Path:
    """Where the collector keeps its write-ahead journal (``<data_dir>/journal``)."""
    return settings.data_path / "journal"


def compact(settings: Settings, last: dt.date | None = None) -> dict[str, Any]:
    """Rewrite every stored symbol-day up to ``last`` (default: yesterday) that is made of more row
    slices than its rows need (one per live append) into full segments of ``ROWS_PER_SEGMENT`` rows.

    Today is left alone by default: the collector is appending to it, and a compaction racing an
    append could lose that append. Returns symbol-days seen and compacted, slices before and after.
    """
    last = today() - dt.timedelta(days=1) if last is None else last
    store = TickStore(settings.resolved_arctic_uri)
    seen = compacted = before = after = 0
    for key in store.ticks.list_symbols():
        if keys.parse_tick_key(key).day > last:
            continue
        seen += 1
        plan = store.ticks.compact_data_explain_plan(key, ROWS_PER_SEGMENT)
        before += plan.num_row_slices_before
        if plan.num_row_slices_after < plan.num_row_slices_before:
            store.ticks.compact_data(key, ROWS_PER_SEGMENT, prune_previous_versions=True)
            compacted += 1
            log.info(
                "compacted key=%s slices_before=%d slices_after=%d",
                key,
                plan.num_row_slices_before,
                plan.num_row_slices_after,
            )
        after += plan.num_row_slices_after
    return {"symbol_days": seen, "compacted": compacted, "segments_before": before, "segments_after": after}


def storage_health(settings: Settings, threshold: int = SEGMENT_THRESHOLD) -> dict[str, Any]:
    """A report of what is stored: symbols, trading days, symbol-days and ticks; the symbol-days in
    more than ``threshold`` row slices (``fragmented``: key -> slices); quarantined ticks and
    malformed lines (``quarantine``: key -> rows); journal files and bytes on disk."""
    store = TickStore(settings.resolved_arctic_uri)
    tick_keys = [keys.parse_tick_key(k) for k in store.ticks.list_symbols()]
    ticks = 0
    fragmented: dict[str, int] = {}
    for parsed in tick_keys:
        key = store.key(parsed.symbol, parsed.day)
        ticks += int(store.ticks.get_description(key).row_count)
        slices = store.segments(parsed.symbol, parsed.day)
        if slices > threshold:
            fragmented[key] = slices
    quarantine = {
        key: int(store.quarantine.get_description(key).row_count)
        for key in sorted(store.quarantine.list_symbols())
    }
    malformed = sum(rows for key, rows in quarantine.items() if key.startswith(keys.MALFORMED + "/"))
    files = sorted(journal_dir(settings).glob("*" + SUFFIX))
    return {
        "symbols": len({k.symbol for k in tick_keys}),
        "days": len({k.day for k in tick_keys}),
        "symbol_days": len(tick_keys),
        "ticks": ticks,
        "fragmented": len(fragmented),
        "quarantined_ticks": sum(quarantine.values()) - malformed,
        "malformed_lines": malformed,
        "journal_files": len(files),
        "journal_bytes": sum(f.stat().st_size for f in files),
        "fragmented_keys": fragmented,
        "quarantine": quarantine,
    }


def prune_journal(settings: Settings, keep_days: int, day: dt.date | None = None) -> dict[str, Any]:
    """Delete the collector's journal files of days more than ``keep_days`` before ``day`` (default:
    today), storing first whatever ticks in them never reached ArcticDB (a collector that died
    before its checkpoint); files of recent days with unstored ticks stay for the collector to replay.

    The journal's single-writer lock is taken for the run: while a collector holds it, nothing is
    done (``in_use`` is 1) since the running collector deletes its finished files as it checkpoints.
    Opening the journal also deletes finished files (all entries stored, not the newest), whatever
    their age: those count as deleted too. The newest file always stays.
    """
    if keep_days < 0:
        raise ValueError(f"keep_days must be 0 or more, got {keep_days}")
    directory = journal_dir(settings)
    cutoff = (today() if day is None else day) - dt.timedelta(days=keep_days)
    sizes = {p.name: p.stat().st_size for p in directory.glob("*" + SUFFIX)}
    result = {"in_use": 0, "stored": 0, "deleted": 0, "bytes_freed": 0, "kept": len(sizes)}
    if not sizes:
        return result
    try:
        journal = Journal(directory)
    except JournalCorrupt:
        raise
    except JournalError as exc:
        log.info("journal prune skipped dir=%s reason=%s", directory, exc)
        return {**result, "in_use": 1}
    with journal:
        pending = journal.records(journal.last_seq)
        old = [record for record in pending if record.day < cutoff]
        if old:
            result["stored"] = TickStore(settings.resolved_arctic_uri).merge(read_ticks(old))
        upto = journal.checkpointed
        for record in pending:  # seq order: checkpoint up to the first entry of a recent day
            if record.day >= cutoff:
                break
            upto = record.seq
        if upto > journal.checkpointed:
            journal.checkpoint(upto)
    left = {p.name for p in directory.glob("*" + SUFFIX)}
    gone = [name for name in sizes if name not in left]
    for name in gone:
        log.info("journal file pruned file=%s bytes=%d", name, sizes[name])
    return {**result, "deleted": len(gone), "bytes_freed": sum(sizes[n] for n in gone), "kept": len(left)}
