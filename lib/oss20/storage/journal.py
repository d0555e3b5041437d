"""Write-ahead journal for the collector: every acknowledged tick batch is on disk before it is stored.

The collector appends each validated batch (written and fsync'd) before acknowledging it, writes what
it buffered to ArcticDB about once a second, then calls ``checkpoint(seq)``; on start it re-stores
``pending()``. Storage merges on tick identity, so replaying an entry twice is harmless; losing one is not.

Layout: ``<dir>/<YYYY-MM-DD>.wal`` per trading day (the ET date of the ticks), ``<dir>/checkpoint.json``
holding ``{"seq": n}``, and ``<dir>/journal.lock`` held by the one process that writes. A record is::

    magic b"OWAL" | version u16 | seq u64 | day ordinal u32 | payload length u32 | crc32 u32 | payload

with the payload an Arrow IPC stream of the entry's ticks. The CRC covers the header fields before it as
well as the payload, so a flipped bit in a seq or a length is caught like one in a price. Each append
writes one record per day file, so only a file's last record can be torn by a crash: a bad suffix with no
valid record after it is truncated on open; anything else bad raises JournalCorrupt.
"""

from __future__ import annotations

import bisect
import datetime as dt
import fcntl
import itertools
import json
import logging
import os
import struct
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc

from oss20 import schema
from oss20.tick_arrays import TickArrays

log = logging.getLogger(__name__)

MAGIC = b"OWAL"
VERSION = 1
SUFFIX = ".wal"
CHECKPOINT = "checkpoint.json"
LOCK = "journal.lock"

_HEAD = struct.Struct("<4sHQII")  # magic, version, seq, day ordinal, payload length
_CRC = struct.Struct("<I")
HEADER_SIZE = _HEAD.size + _CRC.size
_SCAN_CHUNK = 1 << 20
_NAT = np.iinfo(np.int64).min
_sync = getattr(os, "fdatasync", os.fsync)
_EPOCH = dt.date(1970, 1, 1)


class JournalError(Exception):
    """The journal cannot be used: held by another process, or a write failed and it must be reopened."""


class JournalCorrupt(JournalError):
    """A record before a file's end is damaged: replaying past it would silently lose acknowledged ticks."""

    def __init__(self, path: Path, offset: int, reason: str) -> None:
        super().__init__(
            f"{path}: {reason} at offset {offset}; refusing to replay past damage that is not a torn tail. "
            "Move the file aside and backfill the days it held from the feed's history."
        )
        self.path = path
        self.offset = offset


@dataclass(frozen=True, eq=False)
class JournalEntry:
    """One appended batch for one trading day, as ``schema.TICK_COLUMNS`` with a RangeIndex."""

    seq: int
    day: dt.date
    ticks: pd.DataFrame


@dataclass
class JournalStats:
    """What this process wrote: record bytes, entries, and fsync calls (files, directory, checkpoint)."""

    bytes_written: int = 0
    entries: int = 0
    fsyncs: int = 0


class _Loc(NamedTuple):
    seq: int
    day: dt.date
    offset: int
    length: int


class JournalRecord(NamedTuple):
    """Where one entry lies on disk: enough for another process to read it (``read_records``)."""

    path: str
    seq: int
    day: dt.date
    offset: int
    length: int


@dataclass
class _DayFile:
    path: Path
    size: int
    last_seq: int
    fd: int | None = None


def _arrow_type(dtype: Any) -> pa.DataType:
    """The Arrow type a ``schema`` dtype round-trips through."""
    if isinstance(dtype, pd.DatetimeTZDtype):
        return pa.timestamp(dtype.unit, tz=str(dtype.tz))
    if dtype is object:
        return pa.string()
    return pa.from_numpy_dtype(np.dtype(dtype))


_NAMES = list(schema.TICK_COLUMNS)
_DTYPES = [pd.api.types.pandas_dtype(dtype) for dtype in schema.TICK_COLUMNS.values()]
_SCHEMA = pa.schema([(name, _arrow_type(dtype)) for name, dtype in schema.TICK_COLUMNS.items()])


class Journal:
    """Append-only, fsync'd, day-rotated log of tick batches with a durable checkpoint.

    Example::

        with Journal(settings.data_path / "journal") as journal:
            for entry in journal.pending():
                store(entry.ticks)
            seq = journal.append(batch)  # on disk: acknowledge the batch
            ...
            journal.checkpoint(seq)  # everything up to seq is in ArcticDB
    """

    def __init__(self, directory: str | Path, *, fsync: bool = True, group_commit: bool = False) -> None:
        """Open (or create) the journal in ``directory``, recovering a torn tail.

        With ``group_commit`` an append returns once its record is written (it survives the process
        being killed) and a background thread fsyncs every record written meanwhile in one go
        (``synced_seq``, ``wait_synced``): a power cut can lose the last few milliseconds, which the
        collector gets back from the feed's history. Without it every append fsyncs before returning.
        """
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.stats = JournalStats()
        self._fsync = fsync
        self._mutex = threading.Lock()
        self._checkpointing = threading.Lock()  # one checkpoint write at a time, outside ``_mutex``
        self._synced = threading.Condition(self._mutex)
        self._unsynced: set[int] = set()  # descriptors written since their last fsync
        self._syncing = False
        self._syncer: threading.Thread | None = None
        self._failed: OSError | None = None
        self._lock_fd: int | None = _lock(self.directory / LOCK)
        try:
            self._checkpointed = self._read_checkpoint()
            self._files: dict[dt.date, _DayFile] = {}
            locs: list[_Loc] = []
            for path in sorted(self.directory.glob("*" + SUFFIX)):
                day = _day_of(path)
                file_locs, size = self._recover(path, day)
                self._files[day] = _DayFile(path, size, file_locs[-1].seq if file_locs else 0)
                locs.extend(file_locs)
            locs.sort()
            _check_unique(locs, self._files)
            self._last_seq = max([self._checkpointed, *(f.last_seq for f in self._files.values())])
            self._synced_seq = self._last_seq
            self._pending = [loc for loc in locs if loc.seq > self._checkpointed]
            self._prune()
        except BaseException:
            self.close()
            raise
        if group_commit and fsync:
            self._syncer = threading.Thread(target=self._sync_loop, name="oss20-journal-sync", daemon=True)
            self._syncer.start()
        log.info(
            "journal opened dir=%s files=%d last_seq=%d checkpointed=%d pending=%d",
            self.directory,
            len(self._files),
            self._last_seq,
            self._checkpointed,
            len(self._pending),
        )

    @property
    def last_seq(self) -> int:
        """The seq of the newest entry ever appended (0 for a new journal)."""
        return self._last_seq

    @property
    def synced_seq(self) -> int:
        """Every entry with seq <= this is on disk (fsync'd); equals ``last_seq`` without group commit."""
        return self._synced_seq

    def wait_synced(self, seq: int, timeout: float | None = None) -> bool:
        """Wait until entry ``seq`` is fsync'd; False on timeout. Raises JournalError if a sync failed."""
        with self._synced:
            done = self._synced.wait_for(lambda: self._synced_seq >= seq or self._failed is not None, timeout)
            self._check_writable()
            return done

    @property
    def checkpointed(self) -> int:
        """Every entry with seq <= this is stored; ``pending()`` yields the rest."""
        return self._checkpointed

    def append(self, ticks: pd.DataFrame | TickArrays) -> int:
        """Write ``ticks`` durably (one entry per ET date) and return the last seq assigned.

        A frame is conformed to ``schema.TICK_COLUMNS`` (KeyError names missing columns); empty
        ticks add nothing and return ``last_seq``. When this returns, the ticks survive a crash.
        """
        return self.append_many([ticks])

    def append_many(self, parts: Sequence[pd.DataFrame | TickArrays]) -> int:
        """Group commit: ``append`` of every part, with one write+fsync per day file."""
        with self._mutex:
            self._check_writable()
            by_day: dict[dt.date, list[pa.RecordBatch]] = {}
            for part in parts:
                ticks = _arrays(part)
                if len(ticks) == 0:
                    continue
                batch = _to_batch(ticks)
                for day, mask in _days(ticks):
                    by_day.setdefault(day, []).append(batch if mask is None else batch.filter(mask))
            for day in sorted(by_day):
                self._write(day, _serialize(by_day[day]))
            return self._last_seq

    def checkpoint(self, seq: int) -> None:
        """Record durably that every entry with seq <= ``seq`` is stored, then delete finished day files.

        Appends from other threads go on while the checkpoint file is written and fsync'd.
        """
        with self._checkpointing:
            with self._mutex:
                self._check_open()
                if seq < self._checkpointed:
                    raise ValueError(
                        f"checkpoint seq={seq} is behind the current checkpoint {self._checkpointed}; "
                        "checkpoints only move forward"
                    )
                if seq > self._last_seq:
                    raise ValueError(
                        f"checkpoint seq={seq} is beyond last_seq={self._last_seq}; "
                        "only appended entries can be checkpointed"
                    )
                if seq == self._checkpointed:
                    return
            self._write_checkpoint(seq)
            with self._mutex:
                self._checkpointed = seq
                del self._pending[: bisect.bisect_right(self._pending, seq, key=lambda loc: loc.seq)]
                self._prune()

    def pending(self) -> Iterator[JournalEntry]:
        """Entries with seq > ``checkpointed``, in seq order across day files, read and CRC-checked lazily."""
        records = self.records(self._last_seq)
        return read_records(r for r in records if r.seq > self._checkpointed)

    def records(self, upto: int) -> list[JournalRecord]:
        """The locations of the unchecked entries with seq <= ``upto``, in seq order.

        A writer in another process reads them (``read_records``) and stores them; once it has,
        the owner calls ``checkpoint(upto)``. Written entries are readable before their fsync.
        """
        with self._mutex:
            self._check_open()
            return [
                JournalRecord(str(self._files[loc.day].path), loc.seq, loc.day, loc.offset, loc.length)
                for loc in self._pending
                if self._checkpointed < loc.seq <= upto
            ]

    def close(self) -> None:
        """Fsync what is written, close the day files and release the directory; closing twice is harmless."""
        syncer, self._syncer = getattr(self, "_syncer", None), None
        if syncer is not None:
            with self._synced:
                self._synced.notify_all()
            syncer.join()
        with self._mutex:
            for f in getattr(self, "_files", {}).values():
                if f.fd is not None:
                    os.close(f.fd)
                    f.fd = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._lock_fd is None:
            raise ValueError(f"journal {self.directory} is closed")

    def _check_writable(self) -> None:
        self._check_open()
        if self._failed is not None:
            raise JournalError(
                f"journal {self.directory} failed to write ({self._failed}); reopen it to recover"
            ) from self._failed

    def _write(self, day: dt.date, payload: pa.Buffer) -> None:
        """Append one record for ``day`` with one write and one fsync; on failure undo it and stop."""
        seq = self._last_seq + 1
        head = _HEAD.pack(MAGIC, VERSION, seq, day.toordinal(), payload.size)
        crc = _CRC.pack(zlib.crc32(payload, zlib.crc32(head)))
        f, fd = self._day_file(day)
        try:
            _write_all(fd, [head, crc, payload])
            if self._fsync and self._syncer is None:
                _sync(fd)
                self.stats.fsyncs += 1
        except OSError as exc:
            self._failed = exc
            try:
                os.ftruncate(fd, f.size)
            except OSError:
                log.exception("journal undo failed file=%s size=%d", f.path, f.size)
            raise
        self._pending.append(_Loc(seq, day, f.size, payload.size))
        f.size += HEADER_SIZE + payload.size
        f.last_seq = self._last_seq = seq
        self.stats.entries += 1
        self.stats.bytes_written += HEADER_SIZE + payload.size
        if self._syncer is None:
            self._synced_seq = seq
        else:
            self._unsynced.add(fd)
            self._synced.notify_all()

    def _sync_loop(self) -> None:
        """Group commit: fsync every descriptor written since the last round, outside the lock."""
        while True:
            with self._synced:
                self._synced.wait_for(lambda: self._unsynced or self._syncer is None)
                if not self._unsynced:
                    return
                fds, target = list(self._unsynced), self._last_seq
                self._unsynced.clear()
                self._syncing = True
            try:
                for fd in fds:
                    _sync(fd)
            except OSError as exc:
                log.error("journal fsync failed dir=%s error=%r", self.directory, exc)
                with self._synced:
                    self._failed, self._syncing = exc, False
                    self._synced.notify_all()
                return
            with self._synced:
                self._synced_seq = max(self._synced_seq, target)
                self._syncing = False
                self.stats.fsyncs += len(fds)
                self._synced.notify_all()

    def _day_file(self, day: dt.date) -> tuple[_DayFile, int]:
        """The day file and its append descriptor, created (directory entry made durable) on first use."""
        f = self._files.get(day)
        if f is None:
            f = self._files[day] = _DayFile(self.directory / f"{day.isoformat()}{SUFFIX}", 0, 0)
        if f.fd is None:
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
            f.fd = os.open(f.path, flags, 0o644)
            if f.size == 0:
                self._sync_directory()
        return f, f.fd

    def _prune(self) -> None:
        """Delete day files older than the newest whose entries are all checkpointed."""
        newest = max(self._files, default=None)
        self._synced.wait_for(lambda: not self._syncing)  # never close a descriptor under an fsync
        for day, f in list(self._files.items()):
            if day != newest and f.last_seq <= self._checkpointed:
                if f.fd is not None:
                    os.close(f.fd)
                f.path.unlink()
                del self._files[day]
                log.info("journal pruned file=%s last_seq=%d", f.path.name, f.last_seq)

    def _read_checkpoint(self) -> int:
        path = self.directory / CHECKPOINT
        try:
            seq = json.loads(path.read_bytes())["seq"]
        except FileNotFoundError:
            return 0
        except (ValueError, KeyError, TypeError) as exc:
            raise JournalCorrupt(path, 0, f"unreadable checkpoint ({exc!r})") from exc
        if not isinstance(seq, int) or seq < 0:
            raise JournalCorrupt(path, 0, f"checkpoint seq={seq!r} is not a non-negative integer")
        return seq

    def _write_checkpoint(self, seq: int) -> None:
        """Replace checkpoint.json atomically: temp file, fsync, rename, fsync the directory."""
        path = self.directory / CHECKPOINT
        tmp = path.with_name(CHECKPOINT + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            _write_all(fd, [json.dumps({"seq": seq}).encode()])
            if self._fsync:
                os.fsync(fd)
                self.stats.fsyncs += 1
        finally:
            os.close(fd)
        os.replace(tmp, path)
        self._sync_directory()

    def _sync_directory(self) -> None:
        if not self._fsync:
            return
        fd = os.open(self.directory, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self.stats.fsyncs += 1

    def _recover(self, path: Path, day: dt.date) -> tuple[list[_Loc], int]:
        """The records of one day file and its good length, truncating a torn tail.

        Headers are walked; records from the last checkpointed one on are CRC-checked too, so a
        damaged pending entry is found now, and a seq flipped below the checkpoint cannot hide one.
        """
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        try:
            size = os.fstat(fd).st_size
            locs, end, problem = _walk(fd, size, day)
            if problem is not None and _valid_record_from(fd, end, size):
                raise JournalCorrupt(path, end, problem)
            first = max(bisect.bisect_right(locs, self._checkpointed, key=lambda loc: loc.seq) - 1, 0)
            for i in range(first, len(locs)):
                reason = _verify(fd, locs[i])
                if reason is None:
                    continue
                if i < len(locs) - 1 or problem is not None:
                    raise JournalCorrupt(path, locs[i].offset, reason)
                end, problem = locs.pop().offset, reason
            if end < size:
                log.warning(
                    "journal torn tail truncated file=%s offset=%d bytes_dropped=%d reason=%r",
                    path.name,
                    end,
                    size - end,
                    problem,
                )
                os.ftruncate(fd, end)
                if self._fsync:
                    os.fsync(fd)
                    self.stats.fsyncs += 1
            return locs, end
        finally:
            os.close(fd)


def _lock(path: Path) -> int:
    """Hold an exclusive lock on ``path`` for this process: one writer per journal directory."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise JournalError(
            f"journal {path.parent} is open in another Journal or process; one writer per directory"
        ) from None
    return fd


def _day_of(path: Path) -> dt.date:
    try:
        return dt.date.fromisoformat(path.stem)
    except ValueError:
        raise JournalCorrupt(path, 0, "unexpected file name, expected <YYYY-MM-DD>.wal") from None


def _check_unique(locs: list[_Loc], files: dict[dt.date, _DayFile]) -> None:
    """Seqs are global: the same one in two records means two writers or a damaged header."""
    for a, b in itertools.pairwise(locs):
        if a.seq == b.seq:
            raise JournalCorrupt(files[b.day].path, b.offset, f"seq {b.seq} also in {files[a.day].path.name}")


def _conform(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` if it already has the tick columns and dtypes, else ``schema.conform``."""
    if list(frame.columns) == _NAMES and all(a == b for a, b in zip(frame.dtypes, _DTYPES, strict=True)):
        return frame
    try:
        return schema.conform(frame, schema.TICK_COLUMNS)
    except (TypeError, ValueError) as exc:
        got = {name: str(dtype) for name, dtype in frame.dtypes.items()}
        raise ValueError(f"ticks do not conform to schema.TICK_COLUMNS ({exc}); got dtypes {got}") from exc


def _arrays(ticks: pd.DataFrame | TickArrays) -> TickArrays:
    return ticks if isinstance(ticks, TickArrays) else TickArrays.from_frame(_conform(ticks))


def _to_batch(ticks: TickArrays) -> pa.RecordBatch:
    """Ticks as one Arrow record batch, column by column without pandas metadata."""
    arrays = []
    for field in _SCHEMA:
        column = ticks[field.name]
        if pa.types.is_timestamp(field.type):
            arrays.append(pa.array(column).view(field.type))
        elif pa.types.is_string(field.type):
            try:
                arrays.append(pa.array(column, type=field.type, from_pandas=True))
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise ValueError(f"column {field.name!r} must hold str values: {exc}") from None
        else:
            arrays.append(pa.array(column, type=field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=_SCHEMA)


def _days(ticks: TickArrays) -> list[tuple[dt.date, np.ndarray | None]]:
    """The ET dates the ticks fall on, each with a row mask (None when all rows share one date)."""
    ns = ticks["timestamp"]
    if int(ns.min()) == _NAT:
        raise ValueError(
            f"{int((ns == _NAT).sum())} ticks have no timestamp (NaT); every tick needs its time"
        )
    days = ticks.wall_ns() // schema.NS_PER_DAY
    first, last = int(days.min()), int(days.max())
    if first == last:
        return [(_EPOCH + dt.timedelta(days=first), None)]
    return [(_EPOCH + dt.timedelta(days=int(day)), days == day) for day in np.unique(days)]


def _serialize(batches: list[pa.RecordBatch]) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, _SCHEMA) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return sink.getvalue()


def _write_all(fd: int, parts: list[Any]) -> None:
    """One writev for the whole record; finish with write() in the rare case it comes back short."""
    total = sum(memoryview(part).nbytes for part in parts)
    done = os.writev(fd, parts)
    if done < total:
        rest = memoryview(b"".join(bytes(part) for part in parts))[done:]
        while rest:
            rest = rest[os.write(fd, rest) :]


def _walk(fd: int, size: int, day: dt.date) -> tuple[list[_Loc], int, str | None]:
    """Follow the headers of a day file: its records, where they stop, and why if before the end."""
    locs: list[_Loc] = []
    offset = 0
    while offset < size:
        if size - offset < HEADER_SIZE:
            return locs, offset, f"partial header of {size - offset} bytes"
        magic, version, seq, ordinal, length = _HEAD.unpack(os.pread(fd, _HEAD.size, offset))
        reason = _header_problem(magic, version, offset, length, size)
        if reason is None and ordinal != day.toordinal():
            reason = f"record for day ordinal {ordinal} in the file of {day}"
        if reason is None and locs and seq <= locs[-1].seq:
            reason = f"seq {seq} after seq {locs[-1].seq}"
        if reason is not None:
            return locs, offset, reason
        locs.append(_Loc(seq, day, offset, length))
        offset += HEADER_SIZE + length
    return locs, offset, None


def _header_problem(magic: bytes, version: int, offset: int, length: int, size: int) -> str | None:
    if magic != MAGIC:
        return f"bad magic {magic!r}"
    if version != VERSION:
        return f"unsupported format version {version} (this code reads {VERSION})"
    if offset + HEADER_SIZE + length > size:
        return f"record of {length} bytes runs past the end of the file ({size} bytes)"
    return None


def _verify(fd: int, loc: _Loc) -> str | None:
    """Why the record at ``loc`` fails its CRC, or None if it is intact."""
    raw = os.pread(fd, HEADER_SIZE + loc.length, loc.offset)
    return _crc_problem(raw)


def _crc_problem(raw: bytes) -> str | None:
    (crc,) = _CRC.unpack_from(raw, _HEAD.size)
    actual = zlib.crc32(memoryview(raw)[HEADER_SIZE:], zlib.crc32(memoryview(raw)[: _HEAD.size]))
    return None if actual == crc else f"crc mismatch (stored {crc:#010x}, computed {actual:#010x})"


def _valid_record_from(fd: int, start: int, size: int) -> bool:
    """Whether a whole record with a good CRC begins at or after ``start``: data a torn tail cannot hold."""
    for chunk_at in range(start, size, _SCAN_CHUNK):
        chunk = os.pread(fd, _SCAN_CHUNK + len(MAGIC) - 1, chunk_at)
        hit = chunk.find(MAGIC)
        while hit != -1:
            offset = chunk_at + hit
            if size - offset >= HEADER_SIZE:
                magic, version, _, _, length = _HEAD.unpack(os.pread(fd, _HEAD.size, offset))
                whole = _header_problem(magic, version, offset, length, size) is None
                if whole and _crc_problem(os.pread(fd, HEADER_SIZE + length, offset)) is None:
                    return True
            hit = chunk.find(MAGIC, hit + 1)
    return False


def read_records(records: Iterable[JournalRecord]) -> Iterator[JournalEntry]:
    """The entries at ``records`` (from ``Journal.records``), each read and CRC-checked; any process."""
    for record, table in _tables(records):
        yield JournalEntry(record.seq, record.day, _conform(table.to_pandas()))


def read_ticks(records: Sequence[JournalRecord]) -> pd.DataFrame:
    """The ticks of all ``records`` as one frame, converted from Arrow once (a writer's whole flush)."""
    tables = [table for _, table in _tables(records)]
    if not tables:
        return schema.empty_frame(schema.TICK_COLUMNS)
    return _conform(pa.concat_tables(tables).to_pandas())


def _tables(records: Iterable[JournalRecord]) -> Iterator[tuple[JournalRecord, pa.Table]]:
    fds: dict[str, int] = {}
    try:
        for record in records:
            if record.path not in fds:
                fds[record.path] = os.open(record.path, os.O_RDONLY | os.O_CLOEXEC)
            loc = _Loc(record.seq, record.day, record.offset, record.length)
            yield record, _read(fds[record.path], Path(record.path), loc)
    finally:
        for fd in fds.values():
            os.close(fd)


def _read(fd: int, path: Path, loc: _Loc) -> pa.Table:
    """The ticks of the record at ``loc``, after checking its header and CRC."""
    raw = os.pread(fd, HEADER_SIZE + loc.length, loc.offset)
    if len(raw) < HEADER_SIZE + loc.length:
        raise JournalCorrupt(path, loc.offset, f"file ends {HEADER_SIZE + loc.length - len(raw)} bytes early")
    magic, version, seq, ordinal, length = _HEAD.unpack_from(raw)
    if (magic, version, seq, ordinal, length) != (MAGIC, VERSION, loc.seq, loc.day.toordinal(), loc.length):
        raise JournalCorrupt(path, loc.offset, f"header changed since open (seq {seq}, expected {loc.seq})")
    reason = _crc_problem(raw)
    if reason is not None:
        raise JournalCorrupt(path, loc.offset, reason)
    return pa.ipc.open_stream(pa.py_buffer(memoryview(raw)[HEADER_SIZE:])).read_all()
