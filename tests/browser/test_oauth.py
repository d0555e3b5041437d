"""OAuth login, end to end in headless Chromium: ``oss20 serve`` with ``OSS20_OAUTH_PROVIDER=generic``
pointed (through ``OSS20_OAUTH_EXTRA_PARAMS`` and ``OSS20_OAUTH_REDIRECT_URI``) at a minimal OAuth2
authorization server this test runs on loopback. Opening the market page sends the browser through
the provider's /authorize and back to Panel's /login with a code and the state; Panel trades the code
for a token and reads the user's JSON, and the page opens signed in as that user. The role still comes
from the catalog: a user added there as admin gets the admin actions, a user the catalog does not
know is a viewer without them. A forged state or an unknown code is refused with no login cookie
set, and /health answers without a login."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser.conftest import ROOT, free_port, serving

pytestmark = pytest.mark.browser
CLIENT_ID = "oss20-dashboards"
CLIENT_SECRET = secrets.token_urlsafe(16)
ADMIN = "ada@example.com"
"""Known to the provider and added to the catalog as admin."""
STRANGER = "sam@example.com"
"""Known to the provider only: the catalog gives nobody it does not know more than viewer."""


@dataclass
class Provider:
    """A minimal OAuth2 authorization server (authorization-code grant): ``/authorize`` sends the
    browser back to the client's redirect URI with a one-use code and the client's state, ``/token``
    trades that code (with the client's secret) for an access token, ``/user`` answers the token's
    user as JSON. ``user`` is who signs in next; ``tamper`` forges the next redirect's ``code`` or
    ``state``."""

    url: str = ""
    user: str = ADMIN
    tamper: str = ""
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)


def provider_handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def reply(self, status: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def refuse(self, status: int, error: str, why: str) -> None:
            provider.refused.append(why)
            self.reply(status, {"error": error, "error_description": why})

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path == "/authorize":
                self.authorize(query)
            elif url.path == "/user":
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if token not in provider.tokens:
                    return self.refuse(401, "invalid_token", "unknown access token")
                email = provider.tokens[token]
                self.reply(200, {"email": email, "login": email.split("@")[0], "name": email})
            else:
                self.reply(404, {"error": "not_found"})

        def authorize(self, query: dict[str, str]) -> None:
            if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                return self.refuse(400, "invalid_request", f"unknown client or response type: {query}")
            code, state = secrets.token_urlsafe(16), query["state"]
            provider.codes[code] = (provider.user, query["redirect_uri"])
            if provider.tamper == "code":
                code = "forged-" + code
            elif provider.tamper == "state":
                state = state[:-4] + "AAAA"
            provider.tamper = ""
            back = urllib.parse.urlencode({"code": code, "state": state})
            self.send_response(302)
            self.send_header("Location", f"{query['redirect_uri']}?{back}")
            self.end_headers()

        def do_POST(self) -> None:
            if self.path != "/token":
                return self.reply(404, {"error": "not_found"})
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
                return self.refuse(401, "invalid_client", "wrong client id or secret")
            grant = provider.codes.pop(form.get("code", ""), None)  # a code is good once
            if form.get("grant_type") != "authorization_code" or grant is None:
                return self.refuse(400, "invalid_grant", "unknown or used authorization code")
            user, redirect_uri = grant
            if form.get("redirect_uri") != redirect_uri:
                return self.refuse(400, "invalid_grant", "redirect_uri differs from the authorize request")
            token = secrets.token_urlsafe(24)
            provider.tokens[token] = user
            self.reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})

    return Handler


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    """The stub provider on a free loopback port, in a thread."""
    state = Provider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), provider_handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="oauth-stub", daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def served(provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``oss20 serve`` with the generic OAuth provider pointed at the stub; ADMIN is an admin in
    its catalog (added with ``oss20 users add``, as an operator would)."""
    data = tmp_path_factory.mktemp("oauth")
    env = {**os.environ, "OSS20_DATA_DIR": str(data), "OSS20_NEW_PASSWORD": secrets.token_urlsafe(12)}
    oss20 = str(Path(sys.executable).with_name("oss20"))
    subprocess.run([oss20, "users", "add", ADMIN, "--role", "admin"], env=env, cwd=ROOT, check=True)
    port = free_port()
    params = {"AUTHORIZE_URL": f"{provider.url}/authorize", "TOKEN_URL": f"{provider.url}/token"}
    oauth = {
        "OSS20_OAUTH_PROVIDER": "generic",
        "OSS20_OAUTH_KEY": CLIENT_ID,
        "OSS20_OAUTH_SECRET": CLIENT_SECRET,
        "OSS20_OAUTH_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "OSS20_OAUTH_REDIRECT_URI": f"http://127.0.0.1:{port}/login",
        "OSS20_OAUTH_EXTRA_PARAMS": json.dumps({**params, "USER_URL": f"{provider.url}/user"}),
    }
    with serving(data, data / "panel.log", port, **oauth) as base:
        yield base


def sign_in(browser: Browser, base: str, hops: list[str] | None = None) -> tuple[BrowserContext, Page]:
    """A fresh browser opening the market page (no cookies: the provider is asked); the documents
    it requests on the way, redirects included, are added to ``hops``."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    if hops is not None:
        page.on("request", lambda r: hops.append(r.url) if r.resource_type == "document" else None)
    page.goto(base + "/market", timeout=90_000)
    return context, page


def cookie(context: BrowserContext, name: str) -> str:
    """The value a (Tornado v2 signed) cookie carries: ``2|1:0|len:time|len:name|len:base64|sig``."""
    (signed,) = [c["value"] for c in context.cookies() if c["name"] == name]
    return base64.b64decode(signed.strip('"').split("|")[4].split(":", 1)[1]).decode()


def logged_in(context: BrowserContext) -> bool:
    return any(c["name"] == "user" for c in context.cookies())


def test_health_answers_without_a_login(served: str) -> None:
    with urllib.request.urlopen(served + "/health", timeout=10) as reply:
        assert reply.url == served + "/health", "no redirect to the provider"


def test_the_provider_signs_in_the_catalogs_admin_who_gets_the_admin_actions(
    served: str, provider: Provider, browser: Browser, artifacts: Path
) -> None:
    provider.user = ADMIN
    hops: list[str] = []
    context, page = sign_in(browser, served, hops)
    page.get_by_role("button", name="Save setting").wait_for(timeout=90_000)
    paths = [urllib.parse.urlsplit(url)._replace(query="").geturl() for url in hops]
    assert paths == [
        served + "/market",
        served + "/login",  # Panel's login sends the browser to the provider with its state
        provider.url + "/authorize",
        served + "/login",  # back with the code, traded for a token and the user's JSON
        served + "/market",
    ], hops
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(hops[3]).query).keys() == {"code", "state"}
    (token,) = [t for t, user in provider.tokens.items() if user == ADMIN]
    kept = cookie(context, "access_token")
    assert token not in kept and kept.startswith("gAAAA"), "the token is kept Fernet-encrypted"
    assert logged_in(context)
    assert page.get_by_text("signed in as").first.inner_text().startswith(f"signed in as {ADMIN}")
    assert page.get_by_role("button", name="Validate the live day").count() == 1
    page.screenshot(path=artifacts / "oauth-admin.png")
    context.close()


def test_a_user_the_catalog_does_not_know_is_a_viewer(
    served: str, provider: Provider, browser: Browser
) -> None:
    provider.user = STRANGER
    context, page = sign_in(browser, served)
    page.get_by_text("Administration needs the admin role; you are a").wait_for(timeout=90_000)
    assert page.get_by_text("signed in as").first.inner_text().startswith(f"signed in as {STRANGER}")
    assert page.get_by_role("button", name="Validate the live day").count() == 0
    assert page.get_by_role("button", name="Save setting").count() == 0
    context.close()


@pytest.mark.parametrize(
    ("tamper", "shown"),
    [("state", "OAuth state mismatch"), ("code", "unknown or used authorization code")],
)
def test_a_forged_state_or_code_is_refused(
    served: str, provider: Provider, browser: Browser, tamper: str, shown: str
) -> None:
    provider.user, provider.tamper = ADMIN, tamper
    context, page = sign_in(browser, served)
    page.get_by_text(shown).first.wait_for(timeout=30_000)
    assert "/login?code=" in page.url
    assert not logged_in(context), "no login cookie is set"
    assert page.get_by_role("button", name="Save setting").count() == 0
    if tamper == "code":
        assert provider.refused[-1] == shown, "the provider was asked and said no"
    if tamper == "code":
        assert provider.refused[-1] == shown, "the provider was asked and said no"
    context.close()
