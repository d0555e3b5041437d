"""Jobs end to end: the catalog lock excludes a second run across processes (SQLite and the real
PostgreSQL), two racing `oss20 scheduler` processes run each slot of a job once, and `oss20 jobs run`
of each upkeep job on a seeded data dir gives exactly the expected result; end-of-day backfill
restores a cut day from the simulator's history and validation records the day."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from jobs import eod_backfill, run_job
from oss20.iqfeed.simulator import Simulator
from oss20.market import Market
from oss20.storage.arctic import TickStore
from oss20.storage.catalog import open_catalog
from oss20.storage.journal import Journal
from tests.frames import canonical
from tests.integration.test_gaps import NOW, SESSIONS, settings_for, store_with_cuts
from tests.servers import wait_for

pytestmark = pytest.mark.integration
OSS20 = Path(sys.executable).with_name("oss20")
SYMBOLS = ["AAPL", "KO"]
HOLD = """
import sys
from oss20.storage.catalog import open_catalog
with open_catalog(sys.argv[1]) as catalog, catalog.job_lock("compact", owner="child", ttl=1.0) as lock:
    print(lock.acquired, flush=True)
    sys.stdin.readline()
"""


def oss20(data_dir: Path, *args: str, catalog: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OSS20_DATA_DIR": str(data_dir), "OSS20_CATALOG_URL": catalog or ""}
    return subprocess.run([str(OSS20), *args], env=env, capture_output=True, text=True, timeout=180)


def result(run: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert run.returncode == 0, run.stderr
    return dict(json.loads(run.stdout))


def test_the_lock_excludes_a_second_holder_across_processes(url: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "True"
        with open_catalog(url) as catalog:
            with catalog.job_lock("compact") as lock:
                assert not lock.acquired and lock.holder == "child"
            time.sleep(1.5)  # past the child's ttl: its renewals keep the lock
            with catalog.job_lock("compact") as lock:
                assert not lock.acquired and lock.holder == "child"
            with catalog.job_lock("validate_day") as other:
                assert other.acquired  # one lock per job name
            child.send_signal(signal.SIGKILL)  # a holder that dies without releasing
            child.wait(10)

            def free() -> bool:
                with catalog.job_lock("compact") as lock:
                    return lock.acquired

            wait_for(free, 5.0, "the dead holder's lock to lapse")  # PostgreSQL: at once; SQLite: ttl
            with catalog.job_lock("compact") as mine:
                assert mine.acquired and catalog.job_lock_holder("compact") == (mine.owner, mine.since)
            assert catalog.job_lock_holder("compact") is None
    finally:
        child.kill()
        child.wait(10)


def test_jobs_run_exits_3_naming_the_holder_and_2_on_bad_input(tmp_path: Path) -> None:
    with open_catalog(f"sqlite://{tmp_path / 'catalog.sqlite'}") as catalog:
        with catalog.job_lock("storage_health", owner="nightly-host:42:abc") as lock:
            assert lock.acquired
            held = oss20(tmp_path, "jobs", "run", "storage_health")
        assert catalog.tasks(kind="job:storage_health") == []
    assert held.returncode == 3 and "held by nightly-host:42:abc" in held.stderr
    for args, message in [
        (("nightly",), "unknown job 'nightly'; expected one of eod_backfill"),
        (("compact", "--date", "2025-02-30"), "not a date"),
        (("validate_day", "--date", "2025-01-01"), "2025-01-01 is not an NYSE trading day"),
        (("storage_health", "--date", "2025-01-02"), "job storage_health takes no date"),
    ]:
        bad = oss20(tmp_path, "jobs", "run", *args)
        assert bad.returncode == 2 and message in bad.stderr, bad.stderr
    listed = oss20(tmp_path, "jobs", "list")
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [
        "eod_backfill",
        "eod_reconcile",
        "validate_day",
        "compact",
        "storage_health",
        "prune_journal",
    ]
    assert "0 19 * * *" in listed.stdout


def test_two_racing_schedulers_run_each_slot_once(url: str, tmp_path: Path) -> None:
    TickStore(f"lmdb://{tmp_path / 'arctic'}")  # libraries made before two processes race to make them
    off = {name: None for name in ("eod_backfill", "validate_day", "compact", "prune_journal")}
    with open_catalog(url) as catalog:
        catalog.set_config("schedule", {**off, "storage_health": "* * * * * *"})
    env = {**os.environ, "OSS20_DATA_DIR": str(tmp_path), "OSS20_CATALOG_URL": url}
    schedulers = [
        subprocess.Popen(
            [str(OSS20), "scheduler", "--duration", "6"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    logs = [p.communicate(timeout=120)[1] for p in schedulers]
    assert [p.returncode for p in schedulers] == [0, 0], logs
    with open_catalog(url) as catalog:
        runs = catalog.tasks(kind="job:storage_health", limit=1000)
    slots = [run.params["slot"] for run in runs]
    assert len(slots) >= 3 and len(set(slots)) == len(slots), slots
    assert {run.status for run in runs} == {"done"}
    for log in logs:  # both schedulers fired, and at least one was turned away from a slot
        assert "name=storage_health" in log and "scheduler started" in log
    assert sum(log.count("job skipped") + log.count("slot already run") for log in logs) >= 1, logs


def seed(market: Market, uri: str, pieces: int) -> pd.DataFrame:
    """Two sessions of AAPL and KO stored in ``pieces`` appends each (as a live collector leaves them)."""
    ticks = pd.concat([market.ticks(s, d) for s in SYMBOLS for d in SESSIONS[:2]], ignore_index=True)
    for symbol in SYMBOLS:
        for day in SESSIONS[:2]:
            part = market.ticks(symbol, day)
            for i in range(pieces):  # a store of its own each time: no in-process compaction
                TickStore(uri).merge(part.iloc[i * len(part) // pieces : (i + 1) * len(part) // pieces])
    return canonical(ticks)


def test_health_and_compaction_of_a_seeded_store(market: Market, tmp_path: Path) -> None:
    uri = f"lmdb://{tmp_path / 'arctic'}"
    truth = seed(market, uri, pieces=12)
    store = TickStore(uri)
    store.put_quarantine(market.ticks("KO", SESSIONS[0]).head(3).assign(reason="test reject"))
    lines = pd.DataFrame(
        {"received": pd.to_datetime(["2024-12-30 10:00"]).tz_localize("America/New_York"), "line": ["x,y"]}
    ).assign(reason="unparseable")
    store.put_malformed(pd.concat([lines, lines], ignore_index=True))
    with Journal(tmp_path / "journal") as journal:
        journal.append(market.ticks("AAPL", SESSIONS[2]).head(20))
    journal_bytes = sum(f.stat().st_size for f in (tmp_path / "journal").glob("*.wal"))

    health = result(oss20(tmp_path, "jobs", "run", "storage_health"))
    assert {k: health[k] for k in ("symbols", "days", "symbol_days", "ticks", "fragmented")} == {
        "symbols": 2,
        "days": 2,
        "symbol_days": 4,
        "ticks": len(truth),
        "fragmented": 4,
    }
    assert set(dict(health["fragmented_keys"]).values()) == {12}  # type: ignore[call-overload]
    assert (health["quarantined_ticks"], health["malformed_lines"]) == (3, 2)
    assert (health["journal_files"], health["journal_bytes"]) == (1, journal_bytes)

    compacted = result(oss20(tmp_path, "jobs", "run", "compact", "--date", str(SESSIONS[1])))
    assert compacted == {
        "job": "compact",
        "status": "done",
        "task": compacted["task"],
        "symbol_days": 4,
        "compacted": 4,
        "segments_before": 48,
        "segments_after": 4,
    }
    assert all(store.segments(s, d) == 1 for s in SYMBOLS for d in SESSIONS[:2])
    pd.testing.assert_frame_equal(canonical(store.read_range(SYMBOLS, SESSIONS[0], SESSIONS[1])), truth)
    assert result(oss20(tmp_path, "jobs", "run", "storage_health"))["fragmented"] == 0
    with open_catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}") as catalog:
        (run,) = catalog.tasks(kind="job:compact")
    assert run.status == "done" and run.counters["compacted"] == 4 and run.params["day"] == str(SESSIONS[1])


def test_prune_removes_exactly_the_old_journal_files_after_storing_them(
    market: Market, tmp_path: Path
) -> None:
    parts = {day: market.ticks("AAPL", day).head(50) for day in SESSIONS}
    with Journal(tmp_path / "journal") as journal:  # a collector that died before any checkpoint
        for part in parts.values():
            journal.append(part)
    with open_catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}") as catalog:
        catalog.set_config("journal_keep_days", 1)
    pruned = result(oss20(tmp_path, "jobs", "run", "prune_journal", "--date", str(SESSIONS[2])))
    assert {k: pruned[k] for k in ("in_use", "stored", "deleted", "kept")} == {
        "in_use": 0,
        "stored": 100,
        "deleted": 2,
        "kept": 1,
    }
    assert sorted(p.name for p in (tmp_path / "journal").glob("*.wal")) == [f"{SESSIONS[2]}.wal"]
    stored = TickStore(f"lmdb://{tmp_path / 'arctic'}").read_range(["AAPL"], SESSIONS[0], SESSIONS[2])
    pd.testing.assert_frame_equal(
        canonical(stored), canonical(pd.concat([parts[SESSIONS[0]], parts[SESSIONS[1]]], ignore_index=True))
    )
    with Journal(tmp_path / "journal") as journal:  # the recent day is still pending for the collector
        assert [entry.seq for entry in journal.pending()] == [3]
        busy = result(oss20(tmp_path, "jobs", "run", "prune_journal", "--date", str(SESSIONS[2])))
    assert busy["in_use"] == 1 and busy["deleted"] == 0


def test_eod_backfill_restores_the_day_and_validation_records_it(
    finished_sim: Simulator, market: Market, tmp_path: Path
) -> None:
    settings = settings_for(finished_sim, tmp_path)
    settings.watchlist = "AAPL,KO"
    store_with_cuts(market, settings)
    day = SESSIONS[1]  # AAPL missing, KO's close cut off
    filled = eod_backfill(day, settings, now=NOW)
    assert filled["chunks"] > 0 and filled["failed"] == 0 and filled["stored"] > 0
    truth = canonical(pd.concat([market.ticks(s, day) for s in SYMBOLS], ignore_index=True))
    store = TickStore(settings.resolved_arctic_uri)
    pd.testing.assert_frame_equal(canonical(store.read_range(SYMBOLS, day, day)), truth)

    run = run_job("validate_day", settings, day)
    assert run.status == "done" and run.result["symbol_days"] == 2, run
    with open_catalog(settings.resolved_catalog_url) as catalog:
        assert set(catalog.validation_results(start=day, end=day)["symbol"]) == set(SYMBOLS)
        (task,) = catalog.tasks(kind="job:validate_day")
    assert task.status == "done" and task.counters["symbol_days"] == 2 and task.params["day"] == str(day)
