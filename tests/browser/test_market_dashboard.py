"""The market dashboard in real headless Chromium: it loads, its live values change, and the
collector's health shows it running and storing."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page

from app.runtime import DEMO_WATCHLIST

pytestmark = pytest.mark.browser


def cells(page: Page, column: str) -> list[str]:
    """The text of one column of the watchlist, row by row (its table is drawn inside shadow DOM)."""
    return page.locator(f'.oss20-watchlist td[data-field="{column}"]').all_inner_texts()


def indicator(page: Page, title: str, timeout: float = 60.0) -> str:
    """The value a health number shows under ``title`` (its title and value share a parent; other
    elements with the same text, such as a table header, do not), once the page has drawn it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for element in page.get_by_text(title, exact=True).all():
            lines = element.evaluate("e => e.parentElement ? e.parentElement.innerText : ''").splitlines()
            if len(lines) == 2 and lines[0] == title:
                return lines[1]
        page.wait_for_timeout(250)
    raise AssertionError(f"no number titled {title!r} on the page")


def test_the_watchlist_loads_and_its_prices_move(served: str, browser: Browser, artifacts: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(served + "/")  # the index is the market page
    page.locator('.oss20-watchlist td[data-field="symbol"]').first.wait_for(timeout=30_000)
    assert cells(page, "symbol") == list(DEMO_WATCHLIST)
    deadline = time.monotonic() + 30
    while not all(cells(page, "last")) or "NaN" in " ".join(cells(page, "last")):
        assert time.monotonic() < deadline, f"no prices arrived: {cells(page, 'last')}"
        page.wait_for_timeout(250)
    first = cells(page, "last") + cells(page, "volume")
    deadline = time.monotonic() + 20
    while cells(page, "last") + cells(page, "volume") == first:
        assert time.monotonic() < deadline, "the live values did not change"
        page.wait_for_timeout(250)
    assert page.get_by_text("collector:").first.inner_text().startswith("collector: running")
    assert int(indicator(page, "stored").replace(",", "")) > 0
    page.screenshot(path=artifacts / "market.png", full_page=True)
    page.close()


def source_rows(page: Page, name: str) -> tuple[int, float]:
    """Rows and latest time of a named Bokeh data source as the browser holds it (what the chart draws)."""
    script = f"""() => {{
        const time = Bokeh.documents[0].get_model_by_name('{name}').data.time;
        return [time.length, time.length ? time[time.length - 1] : 0];
    }}"""
    rows, latest = page.evaluate(script)
    return int(rows), float(latest)


def test_the_chart_streams_candles_and_trades_and_health_shows_the_services(
    served: str, browser: Browser
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(served + "/market")
    page.locator(".bk-Canvas, canvas").first.wait_for(timeout=30_000)
    deadline = time.monotonic() + 30
    while source_rows(page, "oss20-live-bars")[0] < 2 or source_rows(page, "oss20-live-trades")[0] == 0:
        assert time.monotonic() < deadline, "no candles or trades reached the chart"
        page.wait_for_timeout(250)
    bars, trades = source_rows(page, "oss20-live-bars"), source_rows(page, "oss20-live-trades")
    deadline = time.monotonic() + 20
    while source_rows(page, "oss20-live-bars") == bars or source_rows(page, "oss20-live-trades") == trades:
        assert time.monotonic() < deadline, f"the chart stopped streaming: {bars} bars, {trades} trades"
        page.wait_for_timeout(250)
    for service, detail in (("redis", "in-process"), ("catalog", "sqlite schema"), ("arcticdb", "libraries")):
        line = page.get_by_text(f"{service}: ").first
        line.wait_for(timeout=20_000)
        deadline = time.monotonic() + 20
        while "probing" in line.inner_text():
            assert time.monotonic() < deadline, f"{service} was never probed"
            page.wait_for_timeout(250)
        assert line.inner_text().startswith(f"{service}: up") and detail in line.inner_text()
    collect = page.locator('.tabulator-cell[tabulator-field="kind"]', has_text="collect").first
    collect.wait_for(timeout=20_000)
    statuses = page.locator('.tabulator-cell[tabulator-field="status"]').all_inner_texts()
    assert "running" in statuses
    assert float(indicator(page, "latency p99 ms")) > 0
    page.close()


def test_a_websocket_from_a_foreign_origin_is_refused(served: str) -> None:
    where = urlsplit(served)
    answers = {}
    for origin in ("http://evil.example", served):
        request = (
            f"GET /market/ws HTTP/1.1\r\nHost: {where.netloc}\r\nOrigin: {origin}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
        with socket.create_connection((where.hostname, where.port), timeout=10) as conn:
            conn.sendall(request.encode())
            answers[origin] = conn.recv(200).decode(errors="replace").splitlines()[0]
    assert " 403 " in answers["http://evil.example"], answers
    assert " 101 " in answers[served], answers
