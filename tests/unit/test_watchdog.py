"""The watchdog's pure judgement: the feed's state from admin lines, sick spells, per-symbol stalls."""

from __future__ import annotations

import numpy as np
import pytest

from oss20.iqfeed import protocol as P
from oss20.watchdog import Change, FeedHealth, GapWatch


def stats(connected: bool, reconnects: int) -> P.FeedState:
    line = P.format_stats({"status": connected, "reconnects": reconnects, "server_port": 5009})
    state = P.feed_state(line)
    assert state is not None
    return state


UP, DOWN = P.FeedState(True), P.FeedState(False)


def test_feed_state_reads_stats_and_server_messages() -> None:
    line = P.format_stats({"status": False, "reconnects": 3})
    assert b",Not Connected," in line
    assert P.feed_state(line) == P.FeedState(False, 3)
    assert P.feed_state(line.decode().rstrip("\n").split(",")) == P.FeedState(False, 3)
    assert P.feed_state(b"S,SERVER DISCONNECTED\r\n") == DOWN
    assert P.feed_state(("S", "SERVER RECONNECT FAILED")) == DOWN
    assert P.feed_state("S,SERVER CONNECTED") == UP
    assert P.feed_state(b"S,CURRENT PROTOCOL,6.2") is None
    assert P.feed_state(b"T,20250102 10:00:00") is None
    with pytest.raises(P.ProtocolError):
        P.feed_state(b"S,STATS,127.0.0.1,5009,500,3,2,0,many,0,,,Connected")


def test_admin_commands_are_as_real_clients_send_them() -> None:
    assert P.cmd_clientstats(False) == b"S,CLIENTSTATS OFF\r\n"
    assert P.parse_command(P.cmd_clientstats(True)).verb == "S,CLIENTSTATS ON"


def test_not_connected_is_a_spell_that_ends_when_connected_again() -> None:
    health = FeedHealth()
    assert health.observe(stats(True, 0)) is Change.NONE
    assert health.observe(stats(False, 0)) is Change.SICK and health.sick
    assert health.observe(DOWN) is Change.NONE, "the same spell seen on the Level 1 port"
    assert health.observe(stats(False, 0)) is Change.NONE
    assert health.observe(stats(True, 1)) is Change.RECOVERED and not health.sick
    assert health.observe(stats(True, 1)) is Change.NONE
    assert health.spells == 1


def test_a_spell_seen_on_level1_first_is_not_counted_again_by_the_stats() -> None:
    health = FeedHealth()
    health.observe(stats(True, 4))
    assert health.observe(DOWN) is Change.SICK
    assert health.observe(UP) is Change.RECOVERED
    assert health.observe(stats(True, 5)) is Change.NONE, "the rise is that spell's reconnect"
    assert health.spells == 1


def test_a_reconnect_between_two_stats_is_a_blip() -> None:
    health = FeedHealth()
    assert health.observe(stats(True, 0)) is Change.NONE, "the first count is a baseline, not a rise"
    assert health.observe(stats(True, 1)) is Change.BLIP
    assert health.observe(stats(True, 1)) is Change.NONE
    assert health.observe(stats(True, 2)) is Change.BLIP
    assert health.spells == 2 and not health.sick


def test_an_interruption_noted_elsewhere_explains_the_rise() -> None:
    health = FeedHealth()
    health.observe(stats(True, 0))
    health.noted()
    assert health.observe(stats(True, 1)) is Change.NONE
    assert health.observe(stats(True, 2)) is Change.BLIP, "a note explains one stats interval only"


def test_a_feed_first_seen_not_connected_is_sick_until_connected() -> None:
    health = FeedHealth()
    assert health.observe(stats(False, 0)) is Change.SICK
    assert health.observe(UP) is Change.RECOVERED


def feed(gaps: GapWatch, symbol: str, every: float, until: float, start: float = 0.0) -> float:
    for now in np.arange(start, until, every):
        gaps.seen([symbol], float(now))
    return float(now)


def test_a_symbol_silent_far_past_its_usual_gap_is_named_once_per_doubling() -> None:
    gaps = GapWatch(floor=1.0, factor=4.0, warmup=8)
    last = feed(gaps, "AAPL", 0.1, 5.0)
    assert gaps.limit("AAPL") == 1.0, "4 x 0.1 s is under the floor"
    assert gaps.silent(last + 0.9) == []
    assert gaps.silent(last + 1.1) == ["AAPL"]
    assert gaps.silent(last + 1.5) == [], "named again only past twice the limit"
    assert gaps.silent(last + 2.1) == ["AAPL"]
    assert gaps.silent(last + 4.1) == ["AAPL"]
    gaps.seen(["AAPL"], last + 5.0)
    assert gaps.silent(last + 6.1) == ["AAPL"], "speaking again resets the doubling"
    assert max(gaps._gaps["AAPL"]) < 1.0, "the gap ending a named silence is not learned"


def test_each_symbol_is_judged_by_its_own_gaps() -> None:
    gaps = GapWatch(floor=1.0, factor=4.0, quantile=0.95, warmup=8)
    feed(gaps, "AAPL", 0.1, 60.0)
    feed(gaps, "KO", 3.0, 60.0)
    assert gaps.limit("KO") == pytest.approx(12.0)
    assert gaps.silent(62.0) == ["AAPL"], "KO's last update was 5 s ago, within its 12 s"
    assert "KO" not in gaps.silent(68.9)
    assert "KO" in gaps.silent(69.1)


def test_a_high_quantile_ignores_a_few_long_gaps() -> None:
    gaps = GapWatch(floor=0.5, factor=3.0, quantile=0.9, keep=100, warmup=8)
    stamps = np.cumsum([0.2] * 95 + [30.0] * 5)
    for now in stamps:
        gaps.seen(["MSFT"], float(now))
    assert gaps.limit("MSFT") == pytest.approx(0.6)


def test_an_unlearned_symbol_is_judged_cautiously() -> None:
    gaps = GapWatch(floor=1.0, factor=4.0, warmup=16)
    last = feed(gaps, "KO", 0.1, 1.0)
    assert gaps.limit("KO") == 4.0, "factor x floor until warmed up"
    assert gaps.silent(last + 3.9) == [] and gaps.silent(last + 4.1) == ["KO"]
    gaps.seen(["MSFT"], 0.0)
    gaps.seen(["MSFT"], 2.5)
    assert gaps.limit("MSFT") == 10.0, "factor x its longest gap when that is above the floor"


def test_restart_learns_no_gap_across_an_outage() -> None:
    gaps = GapWatch(floor=1.0, warmup=4)
    last = feed(gaps, "AAPL", 0.1, 2.0)
    gaps.restart(last + 30.0)
    gaps.seen(["AAPL"], last + 30.1)
    assert max(gaps._gaps["AAPL"]) < 0.2
    assert gaps.silent(last + 30.9) == [], "silence counts from the restart"
    assert gaps.silent(last + 31.2) == ["AAPL"]


def test_a_symbol_silent_from_its_watch_on_is_named() -> None:
    gaps = GapWatch(floor=1.0, factor=4.0)
    gaps.expect(["KO"], 10.0)
    gaps.seen(["AAPL"], 11.0)
    gaps.expect(["KO", "AAPL"], 12.0)
    assert gaps.silent(13.9) == [] and gaps.silent(14.1) == ["KO"]
    assert gaps.silent(15.1) == ["AAPL"], "AAPL was seen at 11, not re-expected at 12"


def test_bad_settings_say_what_is_expected() -> None:
    with pytest.raises(ValueError, match="floor > 0"):
        GapWatch(floor=0)
    with pytest.raises(ValueError, match="quantile"):
        GapWatch(quantile=1.5)
