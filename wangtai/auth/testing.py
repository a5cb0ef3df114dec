"""Logging in without the form, for tests, benchmarks and screenshots: a throwaway user of a role and a
session token for it. AppTest: ``at.session_state[login.TOKEN_KEY] = token``; a browser: the cookie
``wangtai_session`` (``browser_cookie``)."""

import secrets
from pathlib import Path

from wangtai.auth.roles import role as role_of
from wangtai.auth.store import UserStore
from wangtai.paths import DataPaths


def make_user(
    paths: DataPaths, role: str, communities=(), areas=(), username: str | None = None
) -> tuple[str, str]:
    """A new user of ``role``; returns (username, password)."""
    the_role = role_of(role)
    username = username or f"t-{the_role.key}-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(12)
    UserStore(paths).add(username, password, role, communities=communities, areas=areas)
    return username, password


def session_token(paths: DataPaths, role: str, communities=(), areas=()) -> str:
    """A logged-in session of a new user of ``role``, as if its browser had sent the cookie back once
    (not pending: it lives its role's full life, however late a test first uses it)."""
    username, password = make_user(paths, role, communities, areas)
    store = UserStore(paths)
    result = store.login(username, password)
    assert result.ok, result.message
    store.session(result.session_token, touch=False, from_cookie=True)
    return result.session_token


def browser_cookie(token: str, url: str) -> dict:
    from wangtai.ui.login import COOKIE

    return {"name": COOKIE, "value": token, "url": url}


def open_page(
    token: str | None, page: str = "dashboard.py", query: dict | None = None, session: dict | None = None
):
    """An AppTest of ``page`` in a session logged in with ``token`` (None: logged out), with link parameters
    and session keys set first. Opened through the entry, then switched, as a user would."""
    from streamlit.testing.v1 import AppTest

    from wangtai.ui.login import TOKEN_KEY

    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "dashboard.py"), default_timeout=30)
    if token:
        at.session_state[TOKEN_KEY] = token
    for key, value in (query or {}).items():
        at.query_params[key] = value
    for key, value in (session or {}).items():
        at.session_state[key] = value
    at.run()
    if page != "dashboard.py":
        at.switch_page(page)
        at.run()
    return at
