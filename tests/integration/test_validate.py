"""Validation end to end: a collector on a sick simulated feed, then tiers 1-4 over what it stored.

Each line fault the simulator injects must be flagged by the right tier at the right place, the
feed's bars come over real sockets (HIT/HDT), and the results land in the catalog (SQLite and the
real PostgreSQL), on the bus and in the cache.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import oss20
from oss20.bus import InProcessBus, ValidationEvent
from oss20.collection import Collector, CollectorOptions
from oss20.config import Settings
from oss20.iqfeed.faults import FaultPlan
from oss20.iqfeed.simulator import Simulator
from oss20.market import Market
from oss20.storage.arctic import TickStore
from oss20.storage.cache import MemoryCache
from oss20.storage.catalog import open_catalog
from oss20.validate import read_metadata, run
from tests.conftest import DAY, endpoint, simulator
from tests.servers import postgres_schema

pytestmark = pytest.mark.integration
SYMBOLS = ("AAPL", "KO")
OSS20 = Path(sys.executable).with_name("oss20")


def feed_settings(sim: Simulator, root: Path, catalog_url: str = "") -> Settings:
    return Settings(
        data_dir=str(root),
        catalog_url=catalog_url,
        level1_port=sim.ports["level1"],
        lookup_port=sim.ports["lookup"],
        admin_port=sim.ports["admin"],
    )


async def collect(collector: Collector, market: Market) -> None:
    """Run until every true tick of the day is stored, or 90 s: what validation sees either way."""
    expected = {s: len(market.ticks(s, DAY)) for s in SYMBOLS}
    run_task = asyncio.create_task(collector.run())
    try:
        async with asyncio.timeout(90):
            while not all(collector.store.count(s, DAY) >= n for s, n in expected.items()):
                await asyncio.sleep(0.2)
    except TimeoutError:
        warnings.warn(f"not all stored after 90 s: {missing(collector, market)}", stacklevel=1)
    finally:
        collector.stop()
        await run_task


def missing(collector: Collector, market: Market) -> dict[str, object]:
    """Per symbol: stored and true counts, and the first true ticks not stored (time, venue, TickID)."""
    out: dict[str, object] = {"counts": collector.counts.as_dict()}
    for symbol in SYMBOLS:
        stored = collector.store.read(symbol, DAY)
        truth = market.ticks(symbol, DAY)
        keys = set(zip(stored["market_center"], stored["tick_id"], strict=True))
        lost = truth[[k not in keys for k in zip(truth["market_center"], truth["tick_id"], strict=True)]]
        out[symbol] = (
            len(stored),
            len(truth),
            lost[["timestamp", "market_center", "tick_id"]].head(5).to_dict("records"),
        )
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        yield ""
    else:
        with postgres_schema() as url:
            yield url


def test_each_injected_fault_is_flagged_by_its_tier_in_place(
    market: Market, tmp_path: Path, catalog_url: str
) -> None:
    faults = FaultPlan(duplicate_rate=0.01, bad_price_rate=0.003, malformed_rate=0.003, off_price_rate=0.01)
    sim = simulator(market, speed=2400, start=dt.time(15, 0), faults=faults)
    bus, cache = InProcessBus(), MemoryCache()
    events = bus.subscribe(kinds=["validation"])
    with sim.running():
        settings = feed_settings(sim, tmp_path, catalog_url)
        options = CollectorOptions(flush_every=0.2, stall_after=2.0)
        collector = Collector(SYMBOLS, settings, options, endpoint(sim))
        asyncio.run(collect(collector, market))
        reports = run(SYMBOLS, DAY, DAY, settings, bus=bus, cache=cache)
    by_symbol = {r.symbol: r for r in reports}
    assert sorted(by_symbol) == sorted(SYMBOLS) and all(r.day == DAY for r in reports)
    store = TickStore(settings.resolved_arctic_uri)
    duplicates = bad_prints = 0
    for symbol, report in by_symbol.items():
        checks = {(x.tier, x.check): x for x in report.results}
        kept = store.quarantined(symbol, DAY)
        quarantine = checks[(1, "quarantine")]
        garbled = len(store.malformed(DAY))
        assert (
            quarantine.metrics["quarantined"] == len(kept)
            and quarantine.metrics["malformed_lines"] == garbled
        )
        assert quarantine.status == ("warn" if len(kept) or garbled else "pass")
        duplicates += quarantine.metrics.get("duplicate", 0)
        stored = store.read(symbol, DAY)
        truth = market.ticks(symbol, DAY)
        merged = stored.merge(truth, on=["market_center", "tick_id"], suffixes=("", "_true"), how="left")
        wrong = np.flatnonzero(~np.isclose(merged["price"], merged["price_true"]))
        flagged = checks[(2, "bad_prints")].rows.tolist()
        bad_prints += len(flagged)
        qualified = stored["basis"].isin(["C", "E"]).to_numpy()
        prints = np.flatnonzero(qualified)  # a true print between two bad ones looks like the bad one
        at = np.searchsorted(prints, wrong[qualified[wrong]])
        around = set(prints[np.clip(np.r_[at - 1, at + 1], 0, len(prints) - 1)].tolist())
        assert set(flagged) <= set(wrong.tolist()) | around, (
            "only bad prints (or their neighbours) are flagged"
        )
        if qualified[wrong].any():
            assert checks[(2, "bad_prints")].status == "fail" and flagged, symbol
            minutes = {start for start, _ in checks[(3, "minute_bars")].ranges}
            assert {stored["timestamp"].iloc[i].floor("min") for i in flagged} <= minutes
        assert checks[(1, "duplicates")].status == "pass", "duplicates were quarantined, not stored"
        assert checks[(4, "storage_layout")].status == "pass"
        keys = set(zip(stored["market_center"], stored["tick_id"], strict=True))
        lost = truth[[k not in keys for k in zip(truth["market_center"], truth["tick_id"], strict=True)]]
        mismatched = {start for start, _ in checks[(3, "minute_bars")].ranges}
        assert {t.floor("min") for t in lost["timestamp"]} <= mismatched, "a tick not stored shows in tier 3"
        if lost.empty:
            assert checks[(4, "holes")].status == "pass"
        if len(kept) or qualified[wrong].any():
            assert report.score < 100, symbol
        assert read_metadata(symbol, DAY, 1, settings)["count"].iloc[0] == len(stored)
    assert duplicates > 0, "the feed's repeated lines were quarantined and reported by tier 1"
    assert bad_prints > 0, "the feed's off prices were stored and caught by tier 2"
    catalog = open_catalog(settings.resolved_catalog_url)
    try:
        rows = catalog.validation_results(start=DAY, end=DAY)
    finally:
        catalog.close()
    assert len(rows) == sum(len(r.results) for r in reports)
    mine = {(r.symbol, x.tier, x.check): x.status for r in reports for x in r.results}
    assert (
        dict(zip(zip(rows["symbol"], rows["tier"], rows["check"], strict=True), rows["status"], strict=True))
        == mine
    )
    got = [e for e in events.drain() if isinstance(e, ValidationEvent)]
    assert len(got) == len(rows) and {e.symbol for e in got} == set(SYMBOLS)
    status = cache.validation_status("AAPL")
    assert (
        status is not None and status["day"] == DAY.isoformat() and status["score"] == by_symbol["AAPL"].score
    )


def test_cli_validates_a_clean_day_and_refuses_bad_input(market: Market, tmp_path: Path) -> None:
    sim = simulator(market, start=dt.time(20, 0))
    with sim.running():
        settings = feed_settings(sim, tmp_path)
        for symbol in SYMBOLS:
            TickStore(settings.resolved_arctic_uri).merge(market.ticks(symbol, DAY))
        env = {
            **os.environ,
            "OSS20_DATA_DIR": str(tmp_path),
            "OSS20_LEVEL1_PORT": str(sim.ports["level1"]),
            "OSS20_LOOKUP_PORT": str(sim.ports["lookup"]),
            "OSS20_ADMIN_PORT": str(sim.ports["admin"]),
        }
        ok = subprocess.run(
            [OSS20, "validate", *SYMBOLS, "--start", str(DAY)], env=env, capture_output=True, timeout=120
        )
        assert ok.returncode == 0, ok.stderr.decode()[-2000:]
        rows = [line for line in ok.stdout.decode().splitlines() if "2025-01-02 │" in line]
        assert len(rows) == len(SYMBOLS) and all("│   100 │ pass" in row for row in rows), rows
        bad = subprocess.run([OSS20, "validate", "AA/PL", "--start", str(DAY)], env=env, capture_output=True)
        assert bad.returncode == 2 and b"AA/PL" in bad.stderr and b"Traceback" not in bad.stderr
        inverted = subprocess.run(
            [OSS20, "validate", "AAPL", "--start", "2025-01-03", "--end", "2025-01-02"],
            env=env,
            capture_output=True,
        )
        assert inverted.returncode == 2 and b"after" in inverted.stderr
    frame = pd.DataFrame(open_catalog(settings.resolved_catalog_url).validation_results(start=DAY, end=DAY))
    assert set(frame["symbol"]) == set(SYMBOLS) and set(frame["status"]) == {"pass"}


def test_quality_frame_and_a_feed_that_cannot_be_reached(market: Market, tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path), lookup_port=free_port())
    TickStore(settings.resolved_arctic_uri).merge(market.ticks("KO", DAY))
    frame = oss20.quality("KO", DAY, settings=settings)
    assert list(frame.columns) == ["symbol", "day", "tier", "check", "status", "metrics", "details", "score"]
    assert set(frame["tier"]) == {1, 2, 3, 4} and set(frame["symbol"]) == {"KO"}
    tier3 = frame[frame["tier"] == 3]
    assert set(tier3["status"]) == {"warn"} and all(
        "could not be asked" in d["message"] for d in tier3["details"]
    )
    assert (frame.loc[frame["tier"] != 3, "status"] != "fail").all()
    assert frame["score"].iloc[0] == 100 - 3 * int((frame["status"] == "warn").sum()), "warnings only"
    with pytest.raises(ValueError, match="before it starts"):
        oss20.quality("KO", "2025-01-03", "2025-01-02", settings=settings)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
