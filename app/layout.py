"""The one template every dashboard uses: a title, the navigation between pages, and who is signed in."""

from __future__ import annotations

import html

import panel as pn

from app.auth import current_user

PAGES = {
    "market": "Market",
    "explorer": "Data explorer",
    "validation": "Validation",
    "backfill": "Backfill",
}
"""Page slug (the notebook's stem, its URL path) -> the name in the navigation, in menu order."""

ACCENT = "#1f5f8b"


def navigation(current: str) -> pn.pane.HTML:
    """Links to every served page, the current one marked."""
    links = [
        f'<a href="./{slug}" class="oss20-nav{" oss20-nav-current" if slug == current else ""}">{name}</a>'
        for slug, name in PAGES.items()
    ]
    return pn.pane.HTML(
        "<nav>" + "<br>".join(links) + "</nav>",
        stylesheets=[".oss20-nav-current { font-weight: bold; }"],
        name="navigation",
    )


def signed_in() -> pn.pane.HTML:
    """Who is signed in, with a link to sign out (empty when nobody signs in)."""
    user = current_user()
    if user is None:
        return pn.pane.HTML("", name="user")
    return pn.pane.HTML(
        f'signed in as <b>{html.escape(user)}</b> · <a href="./logout">sign out</a>', name="user"
    )


def page(current: str, *main: object, sidebar: tuple[object, ...] = ()) -> pn.template.FastListTemplate:
    """The page ``current`` (a key of ``PAGES``) with ``main`` in its body and ``sidebar`` under the
    navigation; call ``.servable()`` on the result in a dashboard notebook."""
    if current not in PAGES:
        raise ValueError(f"unknown page {current!r}: expected one of {', '.join(PAGES)}")
    return pn.template.FastListTemplate(
        title=f"oss20 · {PAGES[current]}",
        sidebar=[navigation(current), *sidebar, signed_in()],
        main=list(main),
        accent=ACCENT,
        sidebar_width=220,
    )
