"""Access (wangtai.auth, wangtai.ui.login): the user store, sessions, lockout, the audit log, roles and
community scope — through the store itself, the CLI and AppTest on the demo warehouse."""

import ast
import hashlib
import io
import json
import shutil
import subprocess
import sys
import threading
import time
from contextlib import redirect_stdout
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from wangtai.auth import audit, testing
from wangtai.auth import store as store_module
from wangtai.auth.roles import ROLES, role
from wangtai.auth.scope import Refused, force_params, scope_for
from wangtai.auth.store import AuthError, UserStore
from wangtai.auth.testing import make_user, session_token
from wangtai.paths import DataPaths
from wangtai.runner import Runner
from wangtai.ui import format as fmt
from wangtai.ui.setup import FILTER_KEY, PAGES

REPO = Path(__file__).resolve().parent.parent
ENTRY = str(REPO / "dashboard.py")
A = "370211100001"  # 台东路社区 (one of several communities of 驻地片区)
B = "370211100200"  # 王台东村


class Clock:
    def __init__(self):
        self.t = 1_800_000_000.0

    def __call__(self):
        return self.t


@pytest.fixture
def paths(tmp_path) -> DataPaths:
    return DataPaths(tmp_path / "data")


# ---- the user store --------------------------------------------------------------------------------


def test_passwords_are_argon2id_hashes_never_clear(paths):
    store = UserStore(paths)
    store.add("wang", "correct horse battery", "领导")
    raw = (store.file).read_bytes()
    assert b"correct horse battery" not in raw
    assert b"$argon2id$" in raw
    assert oct(store.file.stat().st_mode)[-3:] == "600"
    assert store.login("WANG", "correct horse battery").ok  # names are case-insensitive
    assert not store.login("wang", "wrong password!").ok


def test_roles_and_scopes_are_checked_on_add(paths):
    store = UserStore(paths)
    with pytest.raises(AuthError):
        store.add("li", "12345678", "工作人员")  # staff need communities or 片区
    with pytest.raises(AuthError):
        store.add("li", "short", "领导")
    with pytest.raises(ValueError):
        store.add("li", "12345678", "boss")
    user = store.add("li", "12345678", "staff", communities=[A])
    assert user.role is ROLES["staff"] and user.communities == (A,)
    with pytest.raises(AuthError):
        store.add("LI", "12345678", "领导")  # exists


def test_sessions_expire_when_idle_but_not_for_the_wall_screen(paths):
    clock = Clock()
    store = UserStore(paths, now=clock, idle=30 * 60)
    store.add("staff1", "password-1", "工作人员", communities=[A])
    store.add("wall", "password-2", "大屏")
    staff = store.login("staff1", "password-1").session_token
    wall = store.login("wall", "password-2").session_token
    for token in (staff, wall):  # the browsers send the cookies back: the sessions get their full life
        assert store.session(token, from_cookie=True)[0] is not None
    clock.t += 20 * 60
    assert store.session(staff)[0] is not None  # activity: still 20 min to go
    clock.t += 29 * 60
    assert store.session(staff)[0] is not None
    assert store.session(staff, touch=False)[0] is not None
    clock.t += 31 * 60
    assert store.session(staff) == (None, "idle")
    clock.t += 90 * 86400
    session, why = store.session(wall)
    assert session is not None and session.user.role.key == "screen", why


def test_logout_disable_and_new_password_revoke_sessions(paths):
    store = UserStore(paths)
    store.add("zhao", "password-1", "领导")
    first, second = (store.login("zhao", "password-1").session_token for _ in range(2))
    store.logout(first)
    assert store.session(first) == (None, "revoked")
    assert store.session(second)[0] is not None
    store.set_password("zhao", "password-2")
    assert store.session(second)[0] is None
    third = store.login("zhao", "password-2").session_token
    store.set_disabled("zhao", True)
    assert store.session(third)[0] is None
    assert not store.login("zhao", "password-2").ok
    store.set_disabled("zhao", False)
    assert store.login("zhao", "password-2").ok
    assert store.session("made-up-token") == (None, "unknown")


def test_repeated_wrong_passwords_slow_down_then_lock(paths):
    clock = Clock()
    store = UserStore(paths, now=clock)
    store.add("qian", "the-password", "领导")
    assert store.login("qian", "bad-1").wait_seconds == 0
    assert store.login("qian", "bad-2").wait_seconds == 0
    third = store.login("qian", "bad-3")
    assert third.wait_seconds > 0 and not third.locked
    refused = store.login("qian", "the-password")  # even the right password waits
    assert not refused.ok and "请" in refused.message
    for _ in range(store_module.LOCK_AFTER):
        clock.t += 3600
        result = store.login("qian", "bad")
    assert result.locked
    assert not store.login("qian", "the-password").ok
    clock.t += store_module.LOCK_SECONDS + 1
    assert store.login("qian", "the-password").ok
    # an unknown name gets the same answer as a wrong password
    assert store.login("nobody", "x").message == "用户名或密码不正确。"


def _burst(store: UserStore, name: str, passwords: list[str]) -> list:
    """Every password submitted at once, one thread each (as many browser sessions would)."""
    barrier = threading.Barrier(len(passwords))
    results: list = [None] * len(passwords)

    def attempt(index: int, password: str) -> None:
        barrier.wait()
        results[index] = store.login(name, password)

    threads = [threading.Thread(target=attempt, args=item) for item in enumerate(passwords)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(r is not None for r in results), "an attempt did not finish"
    return results


def _checked(reasons: list[str]) -> int:
    """Attempts whose password was verified (not turned away by the lock or the wait)."""
    return sum(1 for reason in reasons if reason not in ("locked", "throttled"))


def _reason(result) -> str:
    return "ok" if result.ok else result.details["reason"]


def _fail_until_one_before_the_lock(store: UserStore, clock: Clock, name: str) -> None:
    for n in range(store_module.LOCK_AFTER - 1):
        clock.t += 3600  # past each growing wait: every one of these is checked
        assert _reason(store.login(name, f"bad-{n}")) == "bad_password"
    clock.t += 3600


def test_thirty_parallel_wrong_passwords_verify_no_more_than_the_lockout_allows(paths):
    clock = Clock()  # frozen: no wait expires during the burst
    store = UserStore(paths, now=clock)
    store.add("sun", "the-password", "领导")
    results = _burst(store, "sun", [f"wrong-{n}" for n in range(30)])
    assert _checked([_reason(r) for r in results]) <= store_module.LOCK_AFTER
    assert not any(r.ok for r in results)
    assert not store.login("sun", "the-password").ok  # the right password, after the burst, still waits


def test_the_right_password_in_a_parallel_burst_cannot_pass_the_lock(paths):
    """One failure short of the lock, 29 wrong passwords and the right one arrive at once: exactly one
    of them may be checked; the right one logs in only if it was that one, never on a locked account."""
    clock = Clock()
    store = UserStore(paths, now=clock)
    store.add("zhou", "the-password", "领导")
    _fail_until_one_before_the_lock(store, clock, "zhou")
    passwords = [f"wrong-{n}" for n in range(29)]
    passwords.insert(17, "the-password")
    reasons = [_reason(r) for r in _burst(store, "zhou", passwords)]
    assert _checked(reasons) <= 1, reasons
    if reasons[17] != "ok":
        refused = store.login("zhou", "the-password")
        assert not refused.ok and refused.locked, "the account is locked after the burst"


BURST_PROCESS = """
import json, sys, threading, time
from pathlib import Path
from wangtai.auth.store import UserStore
from wangtai.paths import DataPaths

root, name, passwords = sys.argv[1], sys.argv[2], sys.argv[5:]
frozen, go = float(sys.argv[3]), float(sys.argv[4])
store = UserStore(DataPaths(Path(root)), now=lambda: frozen)
store.count()  # open the database before the start
results = [None] * len(passwords)

def attempt(index, password):
    time.sleep(max(0.0, go - time.time()))
    result = store.login(name, password)
    results[index] = "ok" if result.ok else result.details["reason"]

threads = [threading.Thread(target=attempt, args=item) for item in enumerate(passwords)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps(results))
"""


def test_parallel_attempts_from_two_processes_share_one_lockout(paths):
    clock = Clock()
    store = UserStore(paths, now=clock)
    store.add("wu", "the-password", "领导")
    _fail_until_one_before_the_lock(store, clock, "wu")
    go = time.time() + 3  # both processes start their 15 attempts at the same moment
    halves = [[f"wrong-{n}" for n in range(15)], [f"wrong-{n}" for n in range(15, 29)] + ["the-password"]]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", BURST_PROCESS, str(paths.root), "wu", str(clock.t), str(go), *half],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for half in halves
    ]
    reasons = []
    for process in processes:
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        reasons += json.loads(out)
    assert len(reasons) == 30 and _checked(reasons) <= 1, reasons
    if reasons[-1] != "ok":
        refused = store.login("wu", "the-password")
        assert not refused.ok and refused.locked


# ---- the audit log ---------------------------------------------------------------------------------


def test_the_audit_log_is_append_only_and_chained(paths):
    for n in range(3):
        audit.record(paths, "export", "u", "工作人员", what="入户名单", rows=n, filter="社区 台东路社区")
    assert audit.verify(paths) == (True, 0)
    lines = audit.audit_file(paths).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and json.loads(lines[2])["rows"] == 2
    tampered = [*lines[:1], *lines[2:]]  # a line removed
    audit.audit_file(paths).write_text("\n".join(tampered) + "\n", encoding="utf-8")
    assert audit.verify(paths) == (False, 2)
    with pytest.raises(ValueError):
        audit.record(paths, "login", "u", password="secret")
    with pytest.raises(ValueError):
        audit.record(paths, "made_up_event", "u")


def test_who_exported_which_list_yesterday(paths):
    audit.record(
        paths, "export", "li", "工作人员", what="入户名单", rows=12, filter="社区 台东路社区（370211100001）"
    )
    audit.record(paths, "page_view", "li", "工作人员", page="pages/campaign.py", filter="片区 驻地片区")
    table = audit.frame(paths, events=["export"])
    assert table[["user", "what", "rows", "filter"]].iloc[0].tolist() == [
        "li",
        "入户名单",
        12,
        "社区 台东路社区（370211100001）",
    ]
    assert audit.frame(paths, since=pd.Timestamp.now() + pd.Timedelta(days=1)).empty


def test_the_audit_log_is_read_once_and_then_only_its_new_lines(paths, monkeypatch):
    for n in range(3):
        audit.record(paths, "export", "u", "工作人员", what="入户名单", rows=n)
    assert audit.verify(paths) == (True, 0) and len(audit.frame(paths)) == 3
    parsed: list[bytes] = []
    loads = audit.json.loads

    def counting(raw, **kw):
        if isinstance(raw, bytes):  # a log line (the anchor is read as text)
            parsed.append(raw)
        return loads(raw, **kw)

    monkeypatch.setattr(audit.json, "loads", counting)
    audit.record(paths, "logout", "u", "工作人员")
    assert audit.verify(paths) == (True, 0)
    assert audit.frame(paths)["event"].tolist() == ["logout", "export", "export", "export"]
    assert len(parsed) == 1, "only the appended line was parsed"
    file = audit.audit_file(paths)
    with file.open("ab") as handle:  # a line still being written is not read yet
        handle.write(b'{"ts": "2026-11-27T10:00:00+08:00", "event": "login"')
    assert len(audit.read(paths)) == 4


def test_an_old_audit_line_changed_in_place_is_still_caught(paths):
    for n in range(3):
        audit.record(paths, "export", "u", "工作人员", what="入户名单", rows=n)
    assert audit.verify(paths) == (True, 0)
    file = audit.audit_file(paths)
    text = file.read_text(encoding="utf-8")
    file.write_text(text.replace('"rows": 1', '"rows": 9', 1), encoding="utf-8")  # same length
    audit.record(paths, "logout", "u", "工作人员")
    assert audit.verify(paths) == (False, 2)  # the changed line's own signature no longer verifies
    assert 9 in audit.frame(paths)["rows"].tolist()


def _log_of(paths, events: int = 6) -> list[bytes]:
    for n in range(events):
        audit.record(paths, "export", "u", "工作人员", what="入户名单", rows=n, filter="社区 台东路社区")
    assert audit.verify(paths) == (True, 0)
    return audit.audit_file(paths).read_bytes().splitlines(keepends=True)


def test_the_last_line_edited_is_caught(paths):
    lines = _log_of(paths)
    lines[-1] = lines[-1].replace(b'"rows": 5', b'"rows": 0')
    audit.audit_file(paths).write_bytes(b"".join(lines))
    assert audit.verify(paths) == (False, 6)
    assert "签名不符" in audit.check(paths).reason


@pytest.mark.parametrize("dropped", [1, 4, 6])
def test_lines_dropped_at_the_end_are_caught(paths, dropped):
    lines = _log_of(paths)
    audit.audit_file(paths).write_bytes(b"".join(lines[: len(lines) - dropped]))
    assert audit.verify(paths) == (False, 7 - dropped)
    assert f"少 {dropped} 行" in audit.check(paths).reason


def _rewritten(paths, key: bytes | None) -> None:
    """The whole log rewritten with a valid hash chain: unsigned, or signed with a key not the server's."""
    entries = audit.read(paths)
    previous, out = "", []
    for entry in entries:
        entry = {**entry, "rows": 0, "prev": previous}
        line = (
            audit._signed_line(entry, key)
            if key
            else json.dumps(entry, ensure_ascii=False).encode("utf-8") + b"\n"
        )
        out.append(line)
        previous = hashlib.sha256(line.rstrip(b"\n")).hexdigest()
    audit.audit_file(paths).write_bytes(b"".join(out))


@pytest.mark.parametrize("key", [None, b"not the server key, but 32 bytes"])
def test_the_whole_chain_rewritten_without_the_key_is_caught(paths, key):
    _log_of(paths)
    _rewritten(paths, key)
    assert not audit.verify(paths)[0]
    verdict = audit.check(paths)
    if key:
        assert verdict.line == 1 and "签名不符" in verdict.reason
    else:
        assert "日志被改写过" in verdict.reason


def test_the_anchor_lives_with_the_key_apart_from_the_log(paths):
    _log_of(paths, 2)
    key, anchor = audit.audit_key_file(), audit.anchor_file(paths)
    assert key.exists() and anchor.exists()
    assert paths.root not in anchor.parents and paths.root not in key.parents
    assert REPO not in anchor.parents and REPO not in key.parents
    assert oct(key.stat().st_mode)[-3:] == "600" and oct(anchor.parent.stat().st_mode)[-3:] == "700"
    anchor.unlink()  # without its anchor a signed log cannot show that its end is whole
    assert not audit.check(paths).ok


def test_a_log_from_before_the_key_is_accepted_then_anchored(paths, tmp_path, monkeypatch):
    monkeypatch.setenv("WANGTAI_AUDIT_KEY_FILE", str(tmp_path / "keys" / "audit.key"))  # no key yet
    file = audit.audit_file(paths)
    file.parent.mkdir(parents=True)
    previous, lines = "", []
    for _ in range(3):  # the lines an earlier version wrote: chained, unsigned, no anchor
        line = json.dumps(
            {"ts": "2026-11-27T10:00:00+08:00", "event": "login", "user": "u", "prev": previous}
        )
        lines.append(line)
        previous = hashlib.sha256(line.encode()).hexdigest()
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert audit.check(paths).ok
    audit.record(paths, "logout", "u", "领导")
    assert audit.audit_key_file().exists() and audit.anchor_file(paths).exists()
    assert audit.check(paths).ok
    file.write_bytes(file.read_bytes().replace(b'"user": "u"', b'"user": "x"', 1))
    assert not audit.check(paths).ok  # the old lines are held by the chain of the first signed line


def test_a_signed_log_without_its_key_does_not_verify(paths, tmp_path, monkeypatch):
    key = tmp_path / "keys" / "audit.key"
    monkeypatch.setenv("WANGTAI_AUDIT_KEY_FILE", str(key))
    _log_of(paths, 2)
    key.unlink()
    audit._KEYS.clear()  # this process's copy of the key
    verdict = audit.check(paths)
    assert not verdict.ok and "找不到审计密钥" in verdict.reason


APPEND_PROCESS = """
import sys
from pathlib import Path
from wangtai.auth import audit
from wangtai.paths import DataPaths

paths = DataPaths(Path(sys.argv[1]))
for n in range(40):
    audit.record(paths, "page_view", sys.argv[2], "领导", page="dashboard.py", filter=f"第 {n} 次")
"""


def test_appends_from_two_processes_still_verify(paths):
    audit.record(paths, "login", "first", "领导")  # the key exists before the two start
    processes = [
        subprocess.Popen([sys.executable, "-c", APPEND_PROCESS, str(paths.root), who], cwd=REPO)
        for who in ("a", "b")
    ]
    for process in processes:
        assert process.wait(timeout=120) == 0
    verdict = audit.check(paths)
    assert verdict.ok and "共 81 行" in verdict.reason, verdict
    assert len(audit.read(paths)) == 81


def test_cli_audit_verify_says_in_chinese_and_exits_non_zero(paths, capsys):
    from wangtai.cli import main

    lines = _log_of(paths)
    root = ["--data-dir", str(paths.root)]
    assert main([*root, "audit", "--verify"]) == 0
    assert "审计日志完整" in capsys.readouterr().out
    audit.audit_file(paths).write_bytes(b"".join(lines[:-2]))
    assert main([*root, "audit", "--verify"]) != 0
    assert "少 2 行" in capsys.readouterr().err
    assert len(audit.audit_file(paths).read_bytes().splitlines()) == 4, "--verify writes nothing"


# ---- the CLI ---------------------------------------------------------------------------------------


def run_cli(args: list[str], stdin: str = "", monkeypatch=None) -> tuple[int, str]:
    from wangtai.cli import main

    if monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(args)
    return code, out.getvalue()


def test_cli_user_add_list_disable_passwd_and_audit(paths, monkeypatch):
    root = ["--data-dir", str(paths.root)]
    code, _ = run_cli(
        [*root, "user", "add", "sun", "--role", "工作人员", "--community", A, "--password-stdin"],
        "pass-word-1\n",
        monkeypatch,
    )
    assert code == 0
    assert UserStore(paths).login("sun", "pass-word-1").ok
    assert "sun" in run_cli([*root, "user", "list"])[1]
    assert run_cli([*root, "user", "passwd", "sun", "--password-stdin"], "pass-word-2\n", monkeypatch)[0] == 0
    assert UserStore(paths).login("sun", "pass-word-2").ok
    assert run_cli([*root, "user", "disable", "sun"])[0] == 0
    assert not UserStore(paths).login("sun", "pass-word-2").ok
    events = [e["event"] for e in audit.read(paths)]
    assert events == ["user_added", "password_changed", "user_disabled"]
    assert "pass-word" not in audit.audit_file(paths).read_text(encoding="utf-8")
    code, out = run_cli([*root, "audit", "--event", "user_added", "--format", "csv"])
    assert code == 0 and "sun" in out


def test_demo_accounts_one_per_role_printed_once(paths):
    from wangtai.auth.demo import accounts_file, ensure_demo_accounts

    printed = []
    created = ensure_demo_accounts(paths, echo=printed.append)
    assert sorted(r for _, r, _ in created) == sorted(r.label for r in ROLES.values())
    assert all(p in printed[0] for _, _, p in created)
    assert oct(accounts_file(paths).stat().st_mode)[-3:] == "600"
    for username, _, password in created:
        assert UserStore(paths).login(username, password).ok
    assert ensure_demo_accounts(paths, echo=printed.append) == []  # only on the first start


# ---- scope -----------------------------------------------------------------------------------------


def test_scope_forces_params_and_refuses_other_communities():
    communities = pd.DataFrame(
        {
            "community_code": ["a1", "a2", "b1"],
            "area": ["东", "东", "西"],
            "community_name": ["甲", "乙", "丙"],
        }
    )
    from wangtai.auth.store import User

    one = scope_for(User("x", "x", role("工作人员"), communities=("a1",)), communities)
    area = scope_for(User("y", "y", role("工作人员"), areas=("东",)), communities)
    declared = {"community_code", "area"}
    assert force_params(one, declared, {}) == {"community_code": "a1"}
    assert force_params(area, declared, {"area": "东"}) == {"area": "东"}
    with pytest.raises(Refused):
        force_params(one, declared, {"community_code": "b1"})
    with pytest.raises(Refused):
        force_params(area, declared, {"area": "西"})
    assert area.default() == ("东", None) and one.default() == ("东", "a1")


# ---- AppTest: each role on the demo warehouse ------------------------------------------------------


@pytest.fixture
def app_env(demo_paths, monkeypatch):
    monkeypatch.setenv("WANGTAI_DATA_DIR", str(demo_paths.root))
    monkeypatch.setenv("WANGTAI_AUTO_DEMO", "0")
    monkeypatch.setenv("WANGTAI_REFRESH_SECONDS", "0")
    monkeypatch.setenv("WANGTAI_LIVE_INGEST", "0")
    return demo_paths


def open_as(
    token: str | None, page: str = "dashboard.py", query: dict | None = None, session=None
) -> AppTest:
    return testing.open_page(token, page, query, session)


def body(at: AppTest) -> str:
    parts = [t.value for t in at.title] + [m.label + str(m.value) for m in at.metric]
    parts += [str(x.value) for x in [*at.markdown, *at.caption, *at.subheader, *at.info, *at.warning]]
    for box in at.selectbox:
        parts += [str(o) for o in box.options]
    for frame in at.dataframe:
        parts.append(frame.value.to_string())
    return "\n".join(parts)


@pytest.mark.parametrize("page", [p for p, _, _ in PAGES])
def test_logged_out_every_page_shows_only_the_login(app_env, page):
    at = open_as(None, page)
    assert not at.exception
    assert at.title and at.title[0].value.endswith("智慧王台 · 登录")
    assert not at.metric and not at.dataframe and not at.get("plotly_chart")
    assert [b.label for b in at.button if b.label == "登录"] or at.get("form")


def test_a_login_through_the_form_and_its_audit(app_env):
    username, password = make_user(app_env, "领导")
    at = open_as(None)
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    assert not at.exception
    assert "总览" in at.title[0].value and at.metric
    mine = [e for e in audit.read(app_env) if e["user"] == username]
    assert [e["event"] for e in mine][:2] == ["login", "page_view"]
    assert mine[1]["filter"] == "全街道" and mine[1]["page"] == "dashboard.py"


def test_staff_of_a_cannot_widen_the_scope_by_url_or_session(app_env):
    token = session_token(app_env, "工作人员", communities=(A,))
    expected = Runner(app_env).run("overview", {"community_code": A}).iloc[0]
    b_name = Runner(app_env).run("community_share", {"community_code": B}).community_name.iloc[0]
    for attempt in ({"query": {"community": B}}, {"session": {FILTER_KEY: {"area": None, "community": B}}}):
        for page in ("dashboard.py", "pages/community_share.py", "pages/campaign.py", "pages/density_map.py"):
            at = open_as(token, page, **attempt)
            assert not at.exception and not at.error, [e.value for e in at.error]
            assert b_name not in body(at), f"{page}: {b_name} visible after {attempt}"
            if page == "dashboard.py":
                shown = {m.label: m.value for m in at.metric}
                assert shown["新市民"] == fmt.big(expected["newcomers"], "人")
            assert at.session_state[FILTER_KEY]["community"] in (None, A)


def test_the_query_layer_refuses_b_even_when_asked_directly(app_env, monkeypatch):
    """Whatever a page passes, ``wangtai.ui.data.run`` answers within the user's scope."""
    from wangtai.auth.store import User
    from wangtai.ui import data, login

    staff = login.Principal(User("s", "s", role("工作人员"), communities=(A,)), "password")
    monkeypatch.setattr(login, "require", lambda: staff)
    assert data.run("overview", community_code=B).empty
    assert data.run("unregistered_newcomers", community_code=B).empty
    assert set(data.run("community_share").community_code) == {A}
    assert set(data.run("communities").community_code) == {A}
    assert set(data.run("unit_progress").community_code) == {A}
    whole = data.run("overview")  # no filter: forced to A, never the whole subdistrict
    expected = Runner(app_env).run("overview", {"community_code": A})
    assert whole.newcomers.iloc[0] == expected.newcomers.iloc[0]
    assert not data.run("unregistered_newcomers", community_code=A).empty

    wall = login.Principal(User("w", "w", role("大屏")), "password")
    monkeypatch.setattr(login, "require", lambda: wall)
    assert data.run("unregistered_newcomers").empty  # no lists for the wall screen
    assert not data.run("overview").empty
    monkeypatch.setattr(login, "require", lambda: None)
    assert data.run("overview").empty  # nobody logged in: nothing


def test_the_wall_screen_sees_aggregates_only(app_env):
    token = session_token(app_env, "大屏")
    at = open_as(token)
    assert not at.exception
    assert not at.get("download_button") and not at.dataframe
    at.switch_page("pages/campaign.py")
    at.run()
    assert any("无权查看此页面" in e.value for e in at.error)
    assert not at.get("download_button") and not at.dataframe and not at.metric


def test_leadership_and_staff_get_exports_the_administrator_gets_the_admin_page(app_env):
    leader = open_as(session_token(app_env, "领导"), "pages/campaign.py")
    assert leader.get("download_button") and not leader.exception
    denied = open_as(session_token(app_env, "领导"), "pages/admin.py")
    assert any("无权查看此页面" in e.value for e in denied.error)
    admin = open_as(session_token(app_env, "管理员"))  # lands on its first page
    assert "数据状态" in admin.title[0].value
    admin.switch_page("pages/admin.py")
    admin.run()
    assert not admin.exception and "用户与审计" in admin.title[0].value
    labels = [n.label for n in admin.sidebar.get("page_link")] if admin.sidebar.get("page_link") else []
    assert "总览" not in labels


def test_the_navigation_shows_only_the_roles_pages(app_env):
    at = open_as(session_token(app_env, "工作人员", communities=(A,)))
    links = [link.proto.page for link in at.sidebar.get("page_link")]
    assert "pages/data_status.py" not in " ".join(links) and "pages/admin.py" not in " ".join(links)
    assert any("campaign" in link for link in links)


def test_admin_page_user_changes_and_held_snapshot_are_audited(demo_paths, tmp_path, monkeypatch):
    from wangtai.ingest import ingest_all, list_held

    shutil.copytree(demo_paths.root, tmp_path, dirs_exist_ok=True)
    paths = DataPaths(tmp_path)
    latest = sorted((paths.archive / "residents").glob("*.parquet"))[-1]
    half = pd.read_parquet(latest)
    half = half.iloc[: len(half) // 2]
    target = paths.feed_inbox("residents") / "residents_half.parquet"
    half.to_parquet(target.with_name(".tmp.parquet"), index=False)
    target.with_name(".tmp.parquet").rename(target)
    ingest_all(paths)
    held = list_held(paths)
    assert len(held) == 1
    for name, value in (
        ("WANGTAI_DATA_DIR", str(paths.root)),
        ("WANGTAI_AUTO_DEMO", "0"),
        ("WANGTAI_REFRESH_SECONDS", "0"),
        ("WANGTAI_LIVE_INGEST", "0"),
    ):
        monkeypatch.setenv(name, value)
    admin = open_as(session_token(paths, "管理员"), "pages/admin.py")
    assert not admin.exception
    accept = next(b for b in admin.button if b.label == "接受该快照")
    accept.click().run()
    assert not admin.exception
    assert list_held(paths).empty
    events = audit.read(paths)
    assert any(e["event"] == "held_accepted" and e["batch_id"] == held.batch_id.iloc[0] for e in events)


# ---- no page can skip the shared setup -------------------------------------------------------------


def test_no_page_can_skip_the_shared_setup():
    """Every page file is registered (so it has a role rule) and calls ``setup`` before anything else; the
    setup calls the login gate before it draws anything from the data."""
    for page in [*(REPO / "pages").glob("*.py"), REPO / "dashboard.py"]:
        tree = ast.parse(page.read_text(encoding="utf-8"))
        first = next(
            s
            for s in tree.body
            if not isinstance(s, (ast.Import, ast.ImportFrom))
            and not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        )
        call = first.value if isinstance(first, (ast.Assign, ast.Expr)) else None
        assert isinstance(call, ast.Call) and getattr(call.func, "id", None) == "setup", page.name
    source = (REPO / "wangtai" / "ui" / "setup.py").read_text(encoding="utf-8")
    body_of_setup = source[source.index("def setup(") :]
    gate = body_of_setup.index("login.gate(")
    for later in ("_navigation(", "bootstrap.ensure_data(", "data.run(", "_filter_sidebar(", "_header("):
        assert gate < body_of_setup.index(later), f"{later} runs before the login gate"
    for role_ in ROLES.values():
        assert role_.allowed_pages(tuple(p for p, _, _ in PAGES)), f"{role_.label} can open no page"
