"""Access control: users and roles (``roles``, ``store``), community scope (``scope``), the audit log
(``audit``) and the demo accounts (``demo``). The Streamlit side is ``wangtai.ui.login``.

How users sign in is configuration (``WANGTAI_AUTH``):

- ``local`` (default): the local user store, passwords hashed with argon2id;
- ``oidc``: the organisation's single sign-on through Streamlit's ``st.login`` (``[auth]`` in
  ``.streamlit/secrets.toml``); the signed-in e-mail must be a user in the store, which gives the role;
- ``header``: a trusted reverse proxy that authenticates and sets ``WANGTAI_AUTH_HEADER``
  (default ``X-Remote-User``); the server must then be reachable only through that proxy;
- ``off``: no login — local development only, never a default; every page says so in red.
"""

from wangtai import settings

MODES = ("local", "oidc", "header", "off")


def mode() -> str:
    value = settings.get("auth") or "local"
    if value not in MODES:
        raise RuntimeError(f"WANGTAI_AUTH={value!r}: 可选 {', '.join(MODES)}")
    return value


def trusted_header() -> str:
    return settings.get("auth_header")
