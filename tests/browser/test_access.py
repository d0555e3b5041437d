"""Access to the served dashboards: login against the catalog's users, roles, /health and /metrics."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from playwright.sync_api import Browser, Page

from oss20.config import Settings
from oss20.storage.catalog import open_catalog
from tests.browser.conftest import serving

pytestmark = pytest.mark.browser

USERS = {"ada": ("admin-secret", "admin"), "val": ("viewer-secret", "viewer")}


class Served(NamedTuple):
    base: str
    catalog_url: str


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The dashboards over a data dir whose catalog holds an admin and a viewer."""
    data = tmp_path_factory.mktemp("guarded")
    url = Settings(data_dir=str(data)).resolved_catalog_url
    with open_catalog(url) as catalog:
        for name, (password, role) in USERS.items():
            catalog.set_user(name, password, role)
    with serving(data, tmp_path_factory.mktemp("log") / "panel.log") as base:
        yield Served(base, url)


def login(browser: Browser, base: str, user: str, password: str) -> Page:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(base + "/market")
    page.wait_for_url("**/login**")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    return page


def test_a_wrong_password_is_rejected_and_no_page_is_served(guarded: Served, browser: Browser) -> None:
    for user, password in (("ada", "admin-secreT"), ("nobody", "admin-secret")):
        page = login(browser, guarded.base, user, password)
        page.get_by_text("Invalid username or password").wait_for(timeout=10_000)
        assert "/login" in page.url
        page.goto(guarded.base + "/market")
        page.wait_for_url("**/login**")
        page.close()


def test_a_viewer_sees_no_admin_action_and_an_admin_runs_the_validation_job(
    guarded: Served, browser: Browser, artifacts: Path
) -> None:
    viewer = login(browser, guarded.base, "val", USERS["val"][0])
    viewer.get_by_text("Administration needs the admin role; you are a").wait_for(timeout=60_000)
    assert viewer.get_by_text("signed in as").first.inner_text().startswith("signed in as val")
    assert viewer.get_by_role("button", name="Validate the live day").count() == 0
    assert viewer.get_by_role("button", name="Save setting").count() == 0
    viewer.close()
    admin = login(browser, guarded.base, "ada", USERS["ada"][0])
    save = admin.get_by_role("button", name="Save setting")
    save.wait_for(timeout=60_000)
    admin.get_by_label("Key").fill("history_per_second")
    admin.get_by_label("Value (JSON)").fill("40")
    admin.get_by_label("Value (JSON)").press("Enter")
    save.click(timeout=90_000)  # a loaded machine's Chromium can take long to hit-test a live page
    admin.get_by_text("Saved history_per_second = 40.").wait_for(timeout=60_000)
    admin.get_by_role("button", name="Validate the live day").click()
    admin.get_by_text("symbol-days of").wait_for(timeout=60_000)
    admin.screenshot(path=artifacts / "market-admin.png")
    admin.close()
    with open_catalog(guarded.catalog_url) as catalog:
        assert catalog.get_config("history_per_second") == 40
        assert len(catalog.validation_results()) > 0


def test_health_and_metrics_answer_without_login(guarded: Served) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(guarded.base + "/health", timeout=5) as reply:
                health = json.loads(reply.read())
            break
        except urllib.error.HTTPError as exc:
            assert time.monotonic() < deadline, f"/health stayed {exc.code}: {exc.read()[:500]!r}"
            time.sleep(0.5)
    assert health["status"] == "ok"
    assert {name: s["up"] for name, s in health["services"].items()} == {
        "redis": True,
        "catalog": True,
        "arcticdb": True,
    }
    assert "secret" not in json.dumps(health)
    with urllib.request.urlopen(guarded.base + "/metrics", timeout=5) as reply:
        metrics = reply.read().decode()
    assert "oss20_dashboard_sessions" in metrics and "oss20_ticks_received_total" in metrics
