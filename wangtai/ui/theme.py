"""Dark or light, per person: a switch in the sidebar, remembered for that user in this browser.

Streamlit draws both themes (``[theme.dark]`` / ``[theme.light]`` in .streamlit/config.toml) and keeps the
one in use in the browser's localStorage (one key per page path); its own ⋮ menu, which would offer the
choice, is hidden (wangtai/ui/chinese.py). So the choice is ours: the switch sets it in the session, a small
inline script keeps it in a cookie for the user (``wangtai_theme_<user>``, read back by the server on the
next visit) and puts it into Streamlit's localStorage for every page, reloading the page once when Streamlit
drew the other one. Without a choice: ``WANGTAI_THEME`` (``dark`` unless set; ``make run THEME=light``).
The 大屏 is always dark (a wall screen, its own colours).

Charts follow: plotly's text and grid take the Streamlit theme; our own colours (bars, plan, projection)
have a darker light-theme twin (``LIGHT``), with at least 3:1 against white (4.5:1 for the text colours).
"""

import hashlib
import json

import streamlit as st

from wangtai import settings

KEY = "wangtai_theme"
DARK, LIGHT_THEME = "dark", "light"
# a dark-theme colour of charts.py → its light-theme twin (contrast on white ≥ 3:1; text colours ≥ 4.5:1)
LIGHT = {
    "#3DA5FF": "#0A63C9",  # accent bars, the registered line
    "#F5A623": "#A85F00",  # plan
    "#FF5C5C": "#C62828",  # behind plan, projection late
    "#2ECC71": "#1B7A43",  # projection on track
    "#B07CFF": "#6A3FB5",  # channel 部门比对
}


def default() -> str:
    return LIGHT_THEME if settings.get("theme") == LIGHT_THEME else DARK


def cookie_name(username: str) -> str:
    """The user's cookie (their name hashed: two users of one browser each keep their own)."""
    return f"{KEY}_{hashlib.sha256(username.encode()).hexdigest()[:12]}"


def _from_cookie(username: str) -> str | None:
    try:
        value = st.context.cookies.get(cookie_name(username))
    except Exception:  # no browser request (AppTest)
        return None
    return value if value in (DARK, LIGHT_THEME) else None


def current(username: str | None = None) -> str:
    """The theme this session draws: the switch's, else the user's cookie, else the default."""
    if KEY not in st.session_state:
        st.session_state[KEY] = (_from_cookie(username) if username else None) or default()
    return st.session_state[KEY]


def is_light() -> bool:
    return st.session_state.get(KEY, default()) == LIGHT_THEME


def switch(username: str) -> None:
    """The sidebar switch (亮色主题)."""
    light = st.sidebar.toggle(
        "亮色主题",
        value=current(username) == LIGHT_THEME,
        help="明亮的会议室、投影或打印用；记在本浏览器，下次登录仍有效",
    )
    st.session_state[KEY] = LIGHT_THEME if light else DARK


def script(username: str | None, wanted: str, page_paths: list[str], here: str) -> str:
    """Keep ``wanted`` in the user's cookie and in Streamlit's localStorage for every page; reload once when
    this page was drawn in the other theme. ``page_paths``: every page's URL path ('' = the start page),
    ``here``: this page's."""
    name = "Light" if wanted == LIGHT_THEME else "Dark"
    cookie = (
        f"{cookie_name(username)}={wanted}; path=/; max-age=31536000; SameSite=Strict" if username else ""
    )
    return (
        "<script>(function(){"
        f"const want={json.dumps(name)}, pages={json.dumps(page_paths)}, here={json.dumps(here)};"
        f"const cookie={json.dumps(cookie)}; if(cookie){{document.cookie=cookie;}}"
        "const path=location.pathname;"
        "const base=path.endsWith(here)?path.slice(0,path.length-here.length):'/';"
        "const key=p=>'stActiveTheme-'+p+'-v2';"
        "const drawn=localStorage.getItem(key(path));"
        "for(const p of pages){localStorage.setItem(key(base+p),JSON.stringify(want));}"
        "localStorage.setItem(key(path),JSON.stringify(want));"
        "const tried=path+':'+want;"
        "if(drawn!==JSON.stringify(want) && sessionStorage.getItem('wt_theme_reload')!==tried){"
        " sessionStorage.setItem('wt_theme_reload',tried); location.reload();}"
        "})();</script>"
    )


def colours(spec: dict) -> dict:
    """A plotly figure dict with our dark-theme colours swapped for their light twins (a copy)."""

    def swap(value):
        if isinstance(value, str):
            return LIGHT.get(value.upper(), value) if value.startswith("#") else value
        if isinstance(value, dict):
            return {k: v if k == "template" else swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    return {"data": swap(spec.get("data", [])), "layout": swap(spec.get("layout", {}))}
