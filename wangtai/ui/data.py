"""Cached query calls: one Runner per data directory, results keyed on (name, params, data version).

Pages call ``run`` (or ``scoped`` for the shared filter). A failing query shows a clear Chinese error
and returns an empty frame — never a traceback.
"""

import functools
import logging
import os
from pathlib import Path

import pandas as pd
import streamlit as st

from wangtai import settings
from wangtai.paths import DataPaths
from wangtai.runner import QueryError, Runner
from wangtai.ui import format as fmt

log = logging.getLogger(__name__)


def data_paths() -> DataPaths:
    """The data directory (``WANGTAI_DATA_DIR``), resolved once per value: pages ask for it dozens of times
    per run, and resolving is a file-system call each time."""
    return _paths(str(settings.get("data_dir")), os.getcwd())


@functools.lru_cache(maxsize=16)
def _paths(value: str, cwd: str) -> DataPaths:
    return DataPaths.from_env()


@st.cache_resource(show_spinner=False)
def _runner(root: str) -> Runner:
    return Runner(DataPaths(Path(root)))


def runner() -> Runner:
    return _runner(str(data_paths().root))


def runner_for(root: str) -> Runner:
    """The runner of a data directory (the same one the pages use), for the server's background thread."""
    return _runner(root)


def data_version() -> str:
    """What the warehouse holds now; a new batch changes it, so cached results refresh at once."""
    try:
        from wangtai.staging import data_version as staging_version

        return str(staging_version(data_paths()))
    except Exception:  # the version is only a cache key; fall back to "always fresh"
        log.exception("data_version failed")
        return "unknown"


@st.cache_data(show_spinner=False, max_entries=512, ttl=60)  # ttl: "today"/"last hour" move with the clock
def _cached(root: str, name: str, params: tuple, version: str) -> pd.DataFrame:
    return _runner(root).run(name, dict(params))


def run(name: str, **params) -> pd.DataFrame:
    """Run a named query (None parameters are left out = no filter) as the logged-in user.

    Access is enforced here, on every call, whatever the page, the URL or the session asked for
    (wangtai.auth.scope): no user → nothing; a role without person lists gets no list and no person
    columns; a user restricted to some communities has the community/片区 parameters forced into their
    scope (another community's code → nothing) and rows naming other communities removed."""
    from wangtai.auth import scope as access
    from wangtai.ui import login

    principal = login.require()
    if principal is None:
        log.warning("query %s refused: nobody is logged in", name)
        return pd.DataFrame()
    try:
        access.check_query(principal.role, name)
        declared = _declared(name)
        scope = _scope(principal)
        params = access.force_params(scope, declared, {k: v for k, v in params.items() if v is not None})
        frame = _run_unchecked(name, **params)
        return access.strip_people(principal.role, access.filter_rows(scope, frame, params, declared))
    except access.Refused as refused:
        log.info("query %s refused for %s: %s", name, principal.username, refused)
        return pd.DataFrame()


def _declared(name: str) -> set[str]:
    try:
        return set(runner().spec(name).params)
    except Exception:  # an unknown or broken query file: _run_unchecked shows the error
        return set()


def user_scope():
    """The logged-in user's community scope, against every community (the one ``run`` enforces); None
    when nobody is logged in."""
    from wangtai.ui import login

    principal = login.require()
    return None if principal is None else _scope(principal)


def _scope(principal):
    from wangtai.auth.scope import scope_for

    if principal.role.all_communities:
        return scope_for(principal.user, pd.DataFrame())
    return scope_for(principal.user, _run_unchecked("communities"))


def _run_unchecked(name: str, **params) -> pd.DataFrame:
    """The cached query call, without access checks: only ``run`` calls it. On failure: st.error, empty."""
    bound = tuple(sorted((k, v) for k, v in params.items() if v is not None))
    try:
        return _cached(str(data_paths().root), name, bound, data_version())
    except QueryError as error:
        log.warning("query %s failed: %s", name, error)
        message = getattr(error, "message", str(error))
        st.error(
            f"查询「{name}」失败：{fmt.md(message)}。请在「数据状态」页查看各数据源，或联系运维人员。",
            icon="⚠️",
        )
        detail = getattr(error, "detail", "")
        if detail:
            st.caption(f"技术细节：{fmt.md(detail[:300])}")
    except Exception as error:  # never a traceback on screen
        log.exception("query %s crashed", name)
        st.error(
            f"查询「{name}」出错（{type(error).__name__}）：{fmt.md(error)}。详细信息见服务器日志。", icon="⚠️"
        )
    return pd.DataFrame()


def scoped(name: str, filters, **params) -> pd.DataFrame:
    """Run a metric query under the shared 片区/社区 filter."""
    return run(name, **filters.params, **params)


def first_row(frame: pd.DataFrame) -> dict:
    """The single row of a one-row query as a dict ({} when empty)."""
    return {} if frame.empty else frame.iloc[0].to_dict()
