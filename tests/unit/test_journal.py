"""The collector's write-ahead journal: exact round trips, durable checkpoints, day files, crash damage."""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oss20.schema import TICK_COLUMNS, TZ, empty_frame
from oss20.storage.journal import HEADER_SIZE, Journal, JournalCorrupt, JournalError

DAY = dt.date(2025, 1, 2)


def ticks(
    n: int, first_id: int = 1, start: str = "2025-01-02 09:30:00", step_us: int = 1_500
) -> pd.DataFrame:
    """``n`` realistic AAPL trades from ``start`` (ET), TickIDs from ``first_id``."""
    rng = np.random.default_rng(first_id)
    i = np.arange(n)
    price = np.round(190.0 + np.cumsum(rng.choice([-0.01, 0.0, 0.01], n)), 2)
    size = rng.choice([1, 10, 50, 100, 200, 500], n).astype(np.int64)
    frame = pd.DataFrame(
        {
            "timestamp": pd.Timestamp(start, tz=TZ) + pd.to_timedelta(i * step_us, unit="us"),
            "symbol": "AAPL",
            "tick_id": first_id + i.astype(np.int64),
            "market_center": (i % 30 + 1).astype(np.int16),
            "price": price,
            "size": size,
            "total_volume": 1_000_000 + np.cumsum(size),
            "bid": price - 0.01,
            "ask": price + 0.01,
            "basis": np.where(i % 11 == 0, "E", "C").astype(object),
            "conditions": np.where(i % 7 == 0, "3D", "").astype(object),
            "aggressor": (i % 3).astype(np.int8),
        }
    )
    return frame.astype(TICK_COLUMNS)


def wal(directory: Path, day: dt.date = DAY) -> Path:
    return directory / f"{day.isoformat()}.wal"


def entries(journal: Journal) -> list[tuple[int, dt.date, int]]:
    return [(e.seq, e.day, len(e.ticks)) for e in journal.pending()]


def test_pending_returns_appended_frames_exactly(tmp_path: Path) -> None:
    frames = [ticks(500), ticks(1, first_id=501, start="2025-01-02 10:00"), ticks(5_000, first_id=502)]
    frames[0].loc[3, "conditions"] = None
    with Journal(tmp_path) as journal:
        seqs = [journal.append(frame) for frame in frames]
        got = list(journal.pending())
    assert seqs == [1, 2, 3]
    assert [(e.seq, e.day) for e in got] == [(1, DAY), (2, DAY), (3, DAY)]
    for entry, frame in zip(got, frames, strict=True):
        pd.testing.assert_frame_equal(entry.ticks, frame, check_exact=True)
        assert isinstance(entry.ticks.index, pd.RangeIndex)


def test_index_is_not_journaled_and_empty_frames_add_nothing(tmp_path: Path) -> None:
    frame = ticks(20)
    with Journal(tmp_path) as journal:
        assert journal.append(empty_frame(TICK_COLUMNS)) == 0
        assert journal.append(frame.iloc[5:15]) == 1
        assert journal.append(empty_frame(TICK_COLUMNS)) == 1
        [entry] = journal.pending()
        assert journal.stats.entries == 1
    pd.testing.assert_frame_equal(entry.ticks, frame.iloc[5:15].reset_index(drop=True))


def test_seq_keeps_increasing_across_reopen(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        journal.append(ticks(10))
        journal.append(ticks(10, first_id=11))
    with Journal(tmp_path) as journal:
        assert journal.last_seq == 2
        assert journal.append(ticks(10, first_id=21)) == 3
        assert [e.seq for e in journal.pending()] == [1, 2, 3]


def test_checkpoint_hides_entries_and_survives_reopen(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        for k in range(4):
            journal.append(ticks(10, first_id=1 + 10 * k))
        journal.checkpoint(2)
        assert journal.checkpointed == 2
        assert [e.seq for e in journal.pending()] == [3, 4]
    assert json.loads((tmp_path / "checkpoint.json").read_text()) == {"seq": 2}
    with Journal(tmp_path) as journal:
        assert (journal.checkpointed, journal.last_seq) == (2, 4)
        assert [e.seq for e in journal.pending()] == [3, 4]
        journal.checkpoint(4)
        assert list(journal.pending()) == []
    with Journal(tmp_path) as journal:
        assert (journal.checkpointed, journal.last_seq) == (4, 4)
        assert journal.append(ticks(10, first_id=41)) == 5


def test_checkpoint_mid_iteration_skips_what_it_covers(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        for k in range(3):
            journal.append(ticks(10, first_id=1 + 10 * k))
        seen = []
        for entry in journal.pending():
            seen.append(entry.seq)
            journal.checkpoint(2)
        assert seen == [1, 3]


@pytest.mark.parametrize(
    ("seq", "message"), [(1, "behind the current checkpoint 2"), (4, "beyond last_seq=3")]
)
def test_checkpoint_cannot_go_backwards_or_ahead(tmp_path: Path, seq: int, message: str) -> None:
    with Journal(tmp_path) as journal:
        for k in range(3):
            journal.append(ticks(10, first_id=1 + 10 * k))
        journal.checkpoint(2)
        with pytest.raises(ValueError, match=message):
            journal.checkpoint(seq)
        journal.checkpoint(2)
        assert journal.checkpointed == 2


def test_files_rotate_by_eastern_date_not_utc(tmp_path: Path) -> None:
    evening = ticks(10, start="2025-01-02 20:00")  # already Jan 3 in UTC
    with Journal(tmp_path) as journal:
        journal.append(ticks(10))
        journal.append(evening)
        journal.append(ticks(10, start="2025-01-03 09:30"))
        assert entries(journal) == [(1, DAY, 10), (2, DAY, 10), (3, dt.date(2025, 1, 3), 10)]
    assert sorted(p.name for p in tmp_path.glob("*.wal")) == ["2025-01-02.wal", "2025-01-03.wal"]


def test_batch_across_midnight_becomes_one_entry_per_day(tmp_path: Path) -> None:
    frame = ticks(10, start="2025-01-02 23:59:59.999996", step_us=1)
    with Journal(tmp_path) as journal:
        assert journal.append(frame) == 2
        got = list(journal.pending())
        assert journal.stats.entries == 2
    assert [(e.seq, e.day) for e in got] == [(1, DAY), (2, dt.date(2025, 1, 3))]
    pd.testing.assert_frame_equal(got[0].ticks, frame.iloc[:4])
    pd.testing.assert_frame_equal(got[1].ticks, frame.iloc[4:].reset_index(drop=True))


def test_append_many_is_one_write_and_fsync_per_day(tmp_path: Path) -> None:
    frames = [ticks(100), ticks(100, first_id=101, start="2025-01-02 23:59:59.9999"), ticks(50, first_id=201)]
    with Journal(tmp_path) as journal:
        before = journal.stats.fsyncs
        assert journal.append_many(frames) == 2
        assert journal.stats.fsyncs - before == 2 + 2  # each day file, and the directory once per new file
        got = list(journal.pending())
    both = pd.concat(frames, ignore_index=True)
    on_day = both["timestamp"].dt.date == DAY
    pd.testing.assert_frame_equal(got[0].ticks, both[on_day].reset_index(drop=True))
    pd.testing.assert_frame_equal(got[1].ticks, both[~on_day].reset_index(drop=True))


def test_pruning_deletes_only_fully_checkpointed_older_files(tmp_path: Path) -> None:
    days = ["2025-01-02", "2025-01-03", "2025-01-06"]
    with Journal(tmp_path) as journal:
        for k, day in enumerate(days):
            journal.append(ticks(10, first_id=1 + 20 * k, start=f"{day} 10:00"))
            journal.append(ticks(10, first_id=11 + 20 * k, start=f"{day} 11:00"))
        journal.checkpoint(3)  # Jan 2 done, Jan 3 half done
        assert sorted(p.stem for p in tmp_path.glob("*.wal")) == days[1:]
        journal.checkpoint(6)  # all done; Jan 6 is the current file
        assert sorted(p.stem for p in tmp_path.glob("*.wal")) == days[2:]
    with Journal(tmp_path) as journal:
        assert (journal.last_seq, journal.checkpointed) == (6, 6)
        assert journal.append(ticks(10, first_id=61, start="2025-01-06 12:00")) == 7


def test_late_tick_for_an_older_day_keeps_global_seq_order(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        journal.append(ticks(10, start="2025-01-02 15:59"))
        journal.append(ticks(10, first_id=11, start="2025-01-03 09:30"))
        journal.append(ticks(1, first_id=21, start="2025-01-02 16:00"))
    with Journal(tmp_path) as journal:
        assert [e.seq for e in journal.pending()] == [1, 2, 3]
        journal.checkpoint(3)
        assert [p.stem for p in tmp_path.glob("*.wal")] == ["2025-01-03"]


TORN = {
    "short-payload": (lambda data: data[:-7], 2),
    "zeroed-end": (lambda data: data[:-200] + bytes(200), 2),
    "garbage": (lambda data: data + b"\x00\x17garbage", 3),
    "partial-header": (lambda data: data + b"OWAL\x01\x00", 3),
}


@pytest.mark.parametrize("damage", TORN)
def test_torn_tail_is_truncated_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    damaged, kept = TORN[damage]
    frames = [ticks(50, first_id=1 + 50 * k) for k in range(3)]
    sizes = []
    with Journal(tmp_path) as journal:
        for frame in frames:
            journal.append(frame)
            sizes.append(wal(tmp_path).stat().st_size)
    wal(tmp_path).write_bytes(damaged(wal(tmp_path).read_bytes()))
    torn = wal(tmp_path).stat().st_size
    with caplog.at_level(logging.WARNING, logger="oss20.storage.journal"), Journal(tmp_path) as journal:
        assert wal(tmp_path).stat().st_size == sizes[kept - 1]
        survivors = list(journal.pending())
        assert journal.last_seq == kept
        assert journal.append(ticks(5, first_id=500)) == kept + 1
        assert [e.seq for e in journal.pending()] == [*range(1, kept + 1), kept + 1]
    for entry, frame in zip(survivors, frames[:kept], strict=True):
        pd.testing.assert_frame_equal(entry.ticks, frame)
    [record] = [r for r in caplog.records if "torn tail" in r.getMessage()]
    assert f"bytes_dropped={torn - sizes[kept - 1]}" in record.getMessage()


def test_damage_before_the_tail_raises_naming_file_and_offset(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        for k in range(3):
            journal.append(ticks(50, first_id=1 + 50 * k))
    data = bytearray(wal(tmp_path).read_bytes())
    data[HEADER_SIZE + 100] ^= 0x01  # inside the first record's payload
    wal(tmp_path).write_bytes(bytes(data))
    with pytest.raises(JournalCorrupt, match=r"2025-01-02\.wal: crc mismatch .* at offset 0;") as caught:
        Journal(tmp_path)
    assert caught.value.offset == 0
    assert wal(tmp_path).stat().st_size == len(data)  # nothing truncated


def test_damaged_length_before_the_tail_is_not_taken_for_a_torn_tail(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        for k in range(3):
            journal.append(ticks(50, first_id=1 + 50 * k))
    data = bytearray(wal(tmp_path).read_bytes())
    data[18:22] = (10**9).to_bytes(4, "little")  # first record's payload length, now past the end
    wal(tmp_path).write_bytes(bytes(data))
    with pytest.raises(JournalCorrupt, match="runs past the end of the file"):
        Journal(tmp_path)


def test_damage_found_while_replaying_raises(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        for k in range(3):
            journal.append(ticks(50, first_id=1 + 50 * k))
        path = wal(tmp_path)
        data = bytearray(path.read_bytes())
        data[HEADER_SIZE + 100] ^= 0x01
        path.write_bytes(bytes(data))
        with pytest.raises(JournalCorrupt, match="crc mismatch"):
            list(journal.pending())


def test_wrong_columns_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        with pytest.raises(KeyError, match=r"lacks columns \['price'\]"):
            journal.append(ticks(10).drop(columns="price"))
        naive = ticks(10)
        naive["timestamp"] = naive["timestamp"].dt.tz_localize(None)
        with pytest.raises(ValueError, match="timezone-naive"):
            journal.append_many([ticks(10), naive])
        assert journal.last_seq == 0 and journal.stats.bytes_written == 0


def test_other_timezones_and_column_orders_are_conformed(tmp_path: Path) -> None:
    frame = ticks(10)
    shuffled = frame[list(reversed(frame.columns))].assign(timestamp=frame["timestamp"].dt.tz_convert("UTC"))
    with Journal(tmp_path) as journal:
        journal.append(shuffled)
        [entry] = journal.pending()
    pd.testing.assert_frame_equal(entry.ticks, frame)


def test_one_writer_per_directory(tmp_path: Path) -> None:
    with Journal(tmp_path), pytest.raises(JournalError, match="open in another Journal or process"):
        Journal(tmp_path)
    with Journal(tmp_path) as journal:
        journal.close()
        with pytest.raises(ValueError, match="closed"):
            journal.append(ticks(1))


def test_without_fsync_nothing_is_synced(tmp_path: Path) -> None:
    with Journal(tmp_path, fsync=False) as journal:
        journal.append(ticks(10))
        journal.checkpoint(1)
        assert journal.stats.fsyncs == 0 and journal.stats.entries == 1
        assert journal.stats.bytes_written == wal(tmp_path).stat().st_size


def test_failed_write_is_undone_and_stops_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(fd: int, parts: list[bytes]) -> int:
        os.write(fd, bytes(parts[0]))
        raise OSError(errno.ENOSPC, "No space left on device")

    with Journal(tmp_path) as journal:
        journal.append(ticks(10))
        size = wal(tmp_path).stat().st_size
        monkeypatch.setattr(os, "writev", disk_full)
        with pytest.raises(OSError, match="No space left"):
            journal.append(ticks(10, first_id=11))
        monkeypatch.undo()
        assert wal(tmp_path).stat().st_size == size and journal.last_seq == 1
        with pytest.raises(JournalError, match="reopen it to recover"):
            journal.append(ticks(10, first_id=11))
    with Journal(tmp_path) as journal:
        assert journal.append(ticks(10, first_id=11)) == 2


def test_group_commit_returns_before_the_fsync_and_syncs_on_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import oss20.storage.journal as journal_module

    disk = threading.Event()  # the disk answers fsyncs only once set
    real_sync = journal_module._sync

    def slow_sync(fd: int) -> None:
        assert disk.wait(10), "fsync never released"
        real_sync(fd)

    monkeypatch.setattr(journal_module, "_sync", slow_sync)
    with Journal(tmp_path, group_commit=True) as journal:
        seqs = [journal.append(ticks(50, first_id=1 + 50 * i)) for i in range(40)]
        assert seqs == list(range(1, 41))
        assert journal.synced_seq == 0 and not journal.wait_synced(1, timeout=0.05)
        disk.set()
        assert journal.wait_synced(40, timeout=10) and journal.synced_seq == 40
        journal.append(ticks(5, first_id=5_000))
    assert journal.synced_seq == 41  # close waited for the last fsync
    with Journal(tmp_path) as reopened:
        assert [n for _, _, n in entries(reopened)] == [50] * 40 + [5]


def test_a_failed_background_fsync_stops_the_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import oss20.storage.journal as journal_module

    def failing(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(journal_module, "_sync", failing)
    with Journal(tmp_path, group_commit=True) as journal:
        seq = journal.append(ticks(10))
        with pytest.raises(JournalError, match="Input/output error"):
            journal.wait_synced(seq, timeout=10)
        with pytest.raises(JournalError, match="reopen it to recover"):
            journal.append(ticks(10, first_id=11))
        assert journal.synced_seq == 0
