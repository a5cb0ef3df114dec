"""The local user store: users, login sessions and failed-login counters in one SQLite file.

- Passwords are hashed with argon2id (argon2-cffi's ``PasswordHasher``); the clear password is never
  stored, logged or returned.
- A login session is a random token (256 bits) given to the browser in a cookie; the store keeps only its
  SHA-256, so a copy of the file logs nobody in. Sessions expire after ``idle`` seconds without activity
  (not for the wall-screen role) and at an absolute limit; logout, disabling a user and a new password
  revoke them.
- A new session is *pending* until its browser presents it back in the cookie (the page reloads itself
  right after the cookie is set): a pending session lives ``PENDING_SECONDS``, so a session whose cookie
  never reached a browser (the tab closed, a script blocked) does not stay behind for a year.
- Repeated wrong passwords slow down (a growing wait from the 3rd failure) and lock the name for
  ``LOCK_SECONDS`` from the ``LOCK_AFTER``-th. Unknown names are counted the same way, and cost the same
  hashing time, so the answer does not tell whether a name exists. An attempt is counted as a failure
  *before* its password is checked, in the same transaction that checks the lock (and released when the
  password proves right): parallel attempts — threads or processes — cannot all pass a check made before
  any of them was counted.

The file lives under ``<data dir>/state/auth/`` (mode 0700 folder, 0600 file); SQLite transactions make
each change atomic, also between the server and the ``wangtai user`` command.
"""

import hashlib
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from wangtai import settings
from wangtai.auth.roles import ROLES, Role, role
from wangtai.paths import DataPaths

IDLE_SECONDS = 30 * 60
MAX_SESSION_SECONDS = 12 * 3600  # a working day, then log in again
SCREEN_SESSION_SECONDS = 365 * 86400  # a wall screen: set up once
SLOW_AFTER = 3  # from the 3rd wrong password: wait 2, 4, … seconds
LOCK_AFTER = 6
LOCK_SECONDS = 15 * 60
TOUCH_EVERY = 30  # seconds: how often activity is written back
MIN_PASSWORD = 8
PENDING_SECONDS = 10 * 60  # a new session's life until its browser sends the cookie back

_HASHER = PasswordHasher()  # argon2id, the library's recommended parameters
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))  # for unknown names: same cost as a real check


class AuthError(Exception):
    """A message for the person at the keyboard (Chinese)."""


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: Role
    communities: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    disabled: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0

    @property
    def scope_text(self) -> str:
        if self.role.all_communities:
            return "全部社区"
        parts = [f"片区 {a}" for a in self.areas] + list(self.communities)
        return "、".join(parts) or "（未分配，看不到任何社区）"


@dataclass(frozen=True)
class Session:
    user: User
    token_hash: str
    created_at: float
    expires_at: float  # a pending session's is short (``PENDING_SECONDS``)
    via: str = "password"

    @property
    def full_expires_at(self) -> float:
        """When the session ends once its browser has it (how long the cookie should last)."""
        return self.created_at + _life(self.user.role)


@dataclass
class LoginResult:
    ok: bool
    message: str = ""
    session_token: str | None = None
    user: User | None = None
    wait_seconds: float = 0.0
    locked: bool = False
    details: dict = field(default_factory=dict)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _norm(username: str) -> str:
    return username.strip().lower()


SCHEMA = """
create table if not exists users (
    username text primary key,
    display_name text not null,
    role text not null,
    communities text not null default '[]',
    areas text not null default '[]',
    password_hash text not null,
    disabled integer not null default 0,
    created_at real not null,
    updated_at real not null
);
create table if not exists sessions (
    token_hash text primary key,
    username text not null,
    created_at real not null,
    last_seen real not null,
    expires_at real not null,
    via text not null default 'password',
    revoked integer not null default 0,
    pending integer not null default 0
);
create index if not exists sessions_user on sessions(username);
create table if not exists attempts (
    username text primary key,
    failures integer not null default 0,
    last_failure real not null default 0,
    locked_until real not null default 0
);
"""


def auth_dir(paths: DataPaths) -> Path:
    """``<data dir>/state/auth``, or ``WANGTAI_AUTH_DIR`` (users shared by several data directories)."""
    explicit = settings.get("auth_dir")
    return explicit if explicit else paths.state / "auth"


class UserStore:
    def __init__(self, paths: DataPaths, now: Callable[[], float] = time.time, idle: float | None = None):
        self.folder = auth_dir(paths)
        self.file = self.folder / "users.sqlite"
        self.now = now
        self.idle = idle if idle is not None else settings.get("idle_minutes") * 60
        self._ready = False

    # ---- plumbing --------------------------------------------------------------------------------

    @contextmanager
    def _db(self):
        if not self._ready:
            self.folder.mkdir(parents=True, exist_ok=True)
            os.chmod(self.folder, 0o700)
            fresh = not self.file.exists()
            if fresh:  # create it readable by the owner only, before SQLite writes anything
                os.close(os.open(self.file, os.O_CREAT | os.O_WRONLY, 0o600))
        with closing(sqlite3.connect(self.file, timeout=15, isolation_level=None)) as db:
            db.row_factory = sqlite3.Row
            if not self._ready:
                db.execute("pragma journal_mode=wal")
                db.executescript(SCHEMA)
                _migrate(db)
                self._ready = True
            db.execute("begin immediate")
            try:
                yield db
                db.execute("commit")
            except BaseException:
                db.execute("rollback")
                raise

    @staticmethod
    def _user(row: sqlite3.Row) -> User:
        return User(
            username=row["username"],
            display_name=row["display_name"],
            role=ROLES[row["role"]],
            communities=tuple(json.loads(row["communities"])),
            areas=tuple(json.loads(row["areas"])),
            disabled=bool(row["disabled"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    # ---- users -----------------------------------------------------------------------------------

    def add(
        self,
        username: str,
        password: str,
        role_name: str,
        display_name: str | None = None,
        communities: Iterable[str] = (),
        areas: Iterable[str] = (),
    ) -> User:
        name = _norm(username)
        if not name or any(c.isspace() for c in name) or len(name) > 64:
            raise AuthError("用户名不能为空、不能含空格，最长 64 个字符。")
        the_role = role(role_name)
        _check_password(password)
        communities, areas = tuple(dict.fromkeys(communities)), tuple(dict.fromkeys(areas))
        if not the_role.all_communities and not (communities or areas):
            raise AuthError(f"角色「{the_role.label}」必须指定负责的社区（--community）或片区（--area）。")
        if the_role.all_communities and (communities or areas):
            raise AuthError(f"角色「{the_role.label}」可看全部社区，不需要指定社区或片区。")
        now = self.now()
        with self._db() as db:
            if db.execute("select 1 from users where username = ?", (name,)).fetchone():
                raise AuthError(f"用户 {name} 已存在。")
            db.execute(
                "insert into users values (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                (
                    name,
                    display_name or name,
                    the_role.key,
                    json.dumps(list(communities), ensure_ascii=False),
                    json.dumps(list(areas), ensure_ascii=False),
                    _HASHER.hash(password),
                    now,
                    now,
                ),
            )
        return self.get(name)

    def get(self, username: str) -> User | None:
        with self._db() as db:
            row = db.execute("select * from users where username = ?", (_norm(username),)).fetchone()
        return self._user(row) if row else None

    def users(self) -> list[User]:
        with self._db() as db:
            return [self._user(r) for r in db.execute("select * from users order by role, username")]

    def count(self) -> int:
        with self._db() as db:
            return db.execute("select count(*) from users").fetchone()[0]

    def set_disabled(self, username: str, disabled: bool) -> User:
        name = _norm(username)
        with self._db() as db:
            if not db.execute(
                "update users set disabled = ?, updated_at = ? where username = ?",
                (int(disabled), self.now(), name),
            ).rowcount:
                raise AuthError(f"没有用户 {name}。")
            if disabled:
                db.execute("update sessions set revoked = 1 where username = ?", (name,))
            else:
                db.execute("delete from attempts where username = ?", (name,))
        return self.get(name)

    def set_password(self, username: str, password: str) -> User:
        name = _norm(username)
        _check_password(password)
        with self._db() as db:
            if not db.execute(
                "update users set password_hash = ?, updated_at = ? where username = ?",
                (_HASHER.hash(password), self.now(), name),
            ).rowcount:
                raise AuthError(f"没有用户 {name}。")
            db.execute("update sessions set revoked = 1 where username = ?", (name,))
            db.execute("delete from attempts where username = ?", (name,))
        return self.get(name)

    def unlock(self, username: str) -> None:
        with self._db() as db:
            db.execute("delete from attempts where username = ?", (_norm(username),))

    # ---- login -----------------------------------------------------------------------------------

    def login(self, username: str, password: str, via: str = "password") -> LoginResult:
        """Check a password; on success open a (pending) session and return its token (give it to the
        browser). One transaction checks the lock and counts this attempt as a failure before the password
        is verified, so parallel attempts never verify more passwords than the lockout allows."""
        name = _norm(username)
        now = self.now()
        with self._db() as db:
            attempt = db.execute("select * from attempts where username = ?", (name,)).fetchone()
            if attempt and attempt["locked_until"] > now:
                return _refused(attempt, now)
            failures = (attempt["failures"] if attempt else 0) + 1
            db.execute(
                "insert into attempts values (?, ?, ?, ?) on conflict(username) do update set "
                "failures = excluded.failures, last_failure = excluded.last_failure, "
                "locked_until = excluded.locked_until",
                (name, failures, now, _locked_until(failures, now)),
            )
            row = db.execute("select * from users where username = ?", (name,)).fetchone()
        stored = row["password_hash"] if row else _DUMMY_HASH
        try:
            good = _HASHER.verify(stored, password) and row is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            good = False
        if not good:
            return _failed(failures, now, known=row is not None)
        with self._db() as db:
            _release(db, name, failures)  # the password is right: this and earlier failures are forgiven
            if _HASHER.check_needs_rehash(stored):
                db.execute(
                    "update users set password_hash = ? where username = ?", (_HASHER.hash(password), name)
                )
        if row["disabled"]:
            return LoginResult(False, "该账号已停用，请联系管理员。", details={"reason": "disabled"})
        user = self._user(row)
        token = self.open_session(user, via)
        return LoginResult(True, session_token=token, user=user)

    def open_session(self, user: User, via: str = "password", pending: bool = True) -> str:
        """A new session for ``user`` (after a password, or for single sign-on); returns the token.

        ``pending``: it lives ``PENDING_SECONDS`` until a browser presents it (``session(…, from_cookie=
        True)``), then its role's full life from its creation."""
        token = secrets.token_urlsafe(32)
        now = self.now()
        life = PENDING_SECONDS if pending else _life(user.role)
        with self._db() as db:
            db.execute(
                "insert into sessions values (?, ?, ?, ?, ?, ?, 0, ?)",
                (_hash_token(token), user.username, now, now, now + life, via, int(pending)),
            )
            db.execute(
                "delete from sessions where expires_at < ? or revoked = 1 "
                "or (pending = 1 and expires_at < ?)",
                (now - 86400, now),
            )
        return token

    def session(
        self, token: str | None, touch: bool = True, from_cookie: bool = False
    ) -> tuple[Session | None, str]:
        """The live session of ``token`` and '' — or None and why not (expired, revoked, …).

        ``touch``: this is the user's activity (a page run), which keeps an idle session alive.
        ``from_cookie``: a browser sent the token in its cookie, so a pending session reached its browser
        and gets its full life."""
        if not token:
            return None, "none"
        now = self.now()
        with self._db() as db:
            row = db.execute(
                "select s.*, u.username as u_name, u.display_name, u.role, u.communities, u.areas, "
                "u.disabled, u.created_at as u_created, u.updated_at as u_updated, u.password_hash "
                "from sessions s join users u on u.username = s.username where s.token_hash = ?",
                (_hash_token(token),),
            ).fetchone()
            if row is None:
                return None, "unknown"
            if row["revoked"]:
                return None, "revoked"
            if row["disabled"]:
                return None, "disabled"
            user_role = ROLES[row["role"]]
            if now > row["expires_at"]:
                return None, "expired"
            if user_role.idle_expiry and now - row["last_seen"] > self.idle:
                db.execute("update sessions set revoked = 1 where token_hash = ?", (row["token_hash"],))
                return None, "idle"
            expires_at = row["expires_at"]
            if from_cookie and row["pending"]:
                expires_at = row["created_at"] + _life(user_role)
                db.execute(
                    "update sessions set pending = 0, expires_at = ? where token_hash = ?",
                    (expires_at, row["token_hash"]),
                )
            if touch and now - row["last_seen"] > TOUCH_EVERY:
                db.execute("update sessions set last_seen = ? where token_hash = ?", (now, row["token_hash"]))
        user = User(
            username=row["u_name"],
            display_name=row["display_name"],
            role=user_role,
            communities=tuple(json.loads(row["communities"])),
            areas=tuple(json.loads(row["areas"])),
            disabled=False,
            created_at=row["u_created"],
            updated_at=row["u_updated"],
        )
        return Session(user, row["token_hash"], row["created_at"], expires_at, row["via"]), ""

    def logout(self, token: str | None) -> None:
        if not token:
            return
        with self._db() as db:
            db.execute("update sessions set revoked = 1 where token_hash = ?", (_hash_token(token),))


def _migrate(db: sqlite3.Connection) -> None:
    """Columns added since the first release (sessions from before were all handed to a browser)."""
    columns = {r["name"] for r in db.execute("pragma table_info(sessions)")}
    if "pending" not in columns:
        db.execute("alter table sessions add column pending integer not null default 0")


def _life(the_role: Role) -> float:
    """A session's full life: a working day, or a year for the wall screen."""
    return MAX_SESSION_SECONDS if the_role.idle_expiry else SCREEN_SESSION_SECONDS


def _locked_until(failures: int, at: float) -> float:
    """Until when the name waits after ``failures`` failures, the last at ``at`` (0: no wait)."""
    if failures >= LOCK_AFTER:
        return at + LOCK_SECONDS
    if failures >= SLOW_AFTER:
        return at + 2 ** (failures - SLOW_AFTER + 1)
    return 0.0


def _refused(attempt: sqlite3.Row, now: float) -> LoginResult:
    """The answer to an attempt made while the name waits or is locked (no password is checked)."""
    wait = attempt["locked_until"] - now
    locked = attempt["failures"] >= LOCK_AFTER
    return LoginResult(
        False,
        f"{'账号已被临时锁定' if locked else '尝试过于频繁'}，请 {_duration(wait)}后再试。",
        wait_seconds=wait,
        locked=locked,
        details={"reason": "locked" if locked else "throttled"},
    )


def _failed(failures: int, now: float, known: bool) -> LoginResult:
    """The answer to a wrong password, already counted as the ``failures``-th."""
    locked_until = _locked_until(failures, now)
    locked = failures >= LOCK_AFTER
    message = "用户名或密码不正确。"
    if locked:
        message += f"错误次数过多，账号已临时锁定 {_duration(LOCK_SECONDS)}。"
    elif locked_until:
        message += f"请 {_duration(locked_until - now)}后再试。"
    return LoginResult(
        False,
        message,
        wait_seconds=max(0.0, locked_until - now),
        locked=locked,
        details={"reason": "bad_password" if known else "unknown_user", "failures": failures},
    )


def _release(db: sqlite3.Connection, name: str, mine: int) -> None:
    """A right password was the ``mine``-th attempt counted: it and the failures before it are forgiven;
    attempts counted after it (still being checked in parallel) stay counted."""
    row = db.execute("select failures, last_failure from attempts where username = ?", (name,)).fetchone()
    if row is None:
        return
    left = row["failures"] - mine
    if left <= 0:
        db.execute("delete from attempts where username = ?", (name,))
    else:
        db.execute(
            "update attempts set failures = ?, locked_until = ? where username = ?",
            (left, _locked_until(left, row["last_failure"]), name),
        )


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AuthError(f"密码至少 {MIN_PASSWORD} 个字符。")


def _duration(seconds: float) -> str:
    seconds = max(1, round(seconds))
    return f"{seconds} 秒" if seconds < 120 else f"{round(seconds / 60)} 分钟"
