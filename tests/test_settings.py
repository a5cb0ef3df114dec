"""One settings module: wangtai.toml, overridden by environment variables; every setting read through it;
`wangtai config` says where each value came from; the README's table is the module's."""

import re
from pathlib import Path

import pytest

from wangtai import settings
from wangtai.cli import main
from wangtai.paths import DataPaths

REPO = Path(__file__).resolve().parent.parent
CODE = [REPO / "dashboard.py", *(REPO / "wangtai").rglob("*.py"), *(REPO / "pages").glob("*.py")]
README = (REPO / "README.md").read_text(encoding="utf-8")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write a settings file and point WANGTAI_CONFIG at it; clear the variables it is tested against."""
    for setting in settings.SETTINGS:
        if setting.key not in ("now", "secret_file"):
            monkeypatch.delenv(setting.env, raising=False)

    def write(text: str) -> Path:
        file = tmp_path / "etc" / "wangtai.toml"
        file.parent.mkdir(exist_ok=True)
        file.write_text(text, encoding="utf-8")
        monkeypatch.setenv("WANGTAI_CONFIG", str(file))
        return file

    return write


def test_the_file_sets_values_and_the_environment_overrides_them(config, tmp_path, monkeypatch):
    file = config('data_dir = "../srv/data"\nport = 8600\nlive_ingest = false\nauth = "header"\n')
    assert settings.get("port") == 8600
    assert settings.get("live_ingest") is False
    # a relative path in the file is relative to the file's folder, not to where the command runs
    assert settings.get("data_dir") == file.parent / "../srv/data"
    assert DataPaths.from_env().root == (tmp_path / "srv" / "data").resolve()
    sources = {item.setting.key: item.source for item in settings.effective()}
    assert (sources["port"], sources["address"]) == ("file", "default")

    monkeypatch.setenv("WANGTAI_PORT", "8700")
    monkeypatch.setenv("WANGTAI_LIVE_INGEST", "1")
    assert settings.get("port") == 8700
    assert settings.get("live_ingest") is True
    assert settings.lookup("port").source == "env"


def test_every_consumer_reads_the_file(config):
    from wangtai import auth, live_ingest
    from wangtai.auth.store import UserStore
    from wangtai.ui import maps

    config(
        'auth = "header"\nauth_header = "X-User"\ningest_poll = 2.5\nlive_ingest = false\n'
        'tile_url = "http://tiles.local/{z}/{x}/{y}.pbf"\nidle_minutes = 5\n'
    )
    assert auth.mode() == "header" and auth.trusted_header() == "X-User"
    assert live_ingest.poll_seconds() == 2.5 and live_ingest.live_ingest_enabled() is False
    assert maps.tile_url() == "http://tiles.local/{z}/{x}/{y}.pbf"
    assert UserStore(DataPaths(Path("unused"))).idle == 300


def test_the_wall_screen_refreshes_every_30_s_unless_configured(config, monkeypatch):
    from wangtai.ui import live_view, screen

    config("")
    assert (screen.refresh_seconds(), live_view.refresh_seconds()) == (30, 2)
    monkeypatch.setenv("WANGTAI_REFRESH_SECONDS", "0")  # 0 = no live updates, on the 大屏 too
    assert (screen.refresh_seconds(), live_view.refresh_seconds()) == (0, 0)
    config("refresh_seconds = 5\n")
    monkeypatch.delenv("WANGTAI_REFRESH_SECONDS")
    assert (screen.refresh_seconds(), live_view.refresh_seconds()) == (5, 5)


def test_an_unknown_login_mode_still_stops_the_server(config):
    from wangtai import auth

    config('auth = "none"\n')
    with pytest.raises(RuntimeError):
        auth.mode()
    assert any("auth" in problem for problem in settings.problems())


def test_the_file_is_found_in_the_documented_places(tmp_path, monkeypatch):
    monkeypatch.delenv("WANGTAI_CONFIG", raising=False)
    monkeypatch.delenv("WANGTAI_PORT", raising=False)
    monkeypatch.chdir(tmp_path)
    assert settings.config_file() in (None, settings.SYSTEM_FILE)  # no ./wangtai.toml here
    (tmp_path / "wangtai.toml").write_text("port = 9000\n", encoding="utf-8")
    assert settings.config_file() == tmp_path / "wangtai.toml"
    assert settings.get("port") == 9000
    monkeypatch.setenv("WANGTAI_CONFIG", "")  # empty: no file at all
    assert settings.config_file() is None
    assert settings.get("port") == 8501


def test_an_edited_file_is_read_again(config):
    file = config("port = 8600\n")
    assert settings.get("port") == 8600
    file.write_text("port = 8601 \n", encoding="utf-8")  # another size: the change is seen
    assert settings.get("port") == 8601


def test_bad_values_fall_back_and_are_reported_in_chinese(config, monkeypatch):
    config('port = "eighty"\nrefresh_seconds = -1\npotr = 1\nnow = "2026-01-01T00:00:00"\n')
    monkeypatch.setenv("WANGTAI_IDLE_MINUTES", "soon")
    assert settings.get("port") == 8501
    assert settings.get("refresh_seconds") == 2.0
    assert settings.get("idle_minutes") == 30.0
    problems = "\n".join(settings.problems())
    for expected in ("port", "refresh_seconds", "potr", "WANGTAI_IDLE_MINUTES", "只能用环境变量 WANGTAI_NOW"):
        assert expected in problems


def test_a_broken_file_is_an_error_not_silent_defaults(config, capsys):
    config("port = \n")
    with pytest.raises(settings.SettingError, match="格式有误"):
        settings.get("port")
    assert main(["query", "--list"]) == 2
    assert "设置文件" in capsys.readouterr().err


def test_wangtai_config_shows_each_value_and_its_source(config, monkeypatch, capsys):
    file = config('address = "0.0.0.0"\n')
    monkeypatch.setenv("WANGTAI_PORT", "8700")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert str(file) in out
    assert re.search(r"address\s+= 0\.0\.0\.0\s+# 设置文件", out)
    assert re.search(r"port\s+= 8700\s+# 环境变量 WANGTAI_PORT", out)
    assert re.search(r"auth\s+= local\s+# 默认", out)
    config("adress = 1\n")
    assert main(["config"]) == 1  # a typo is a problem the operator must see
    assert "adress" in capsys.readouterr().out


def test_the_readme_settings_table_is_the_modules(capsys):
    begin, end = "<!-- settings-table:begin -->\n", "<!-- settings-table:end -->"
    assert begin in README and end in README, "README.md lost the markers around the settings table"
    table = README.split(begin, 1)[1].split(end, 1)[0]
    assert table == settings.markdown_table(), (
        "README.md's settings table differs from wangtai/settings.py: paste `wangtai config --markdown`"
    )
    assert main(["config", "--markdown"]) == 0
    assert capsys.readouterr().out == settings.markdown_table()


def test_no_code_reads_a_wangtai_variable_except_the_settings_module():
    # any read of the environment (a variable named by a constant too); XDG_CONFIG_HOME is the OS's, not ours
    read = re.compile(r"os\.environ\.get\(|getenv\(|os\.environ\[[^\]]+\](?!\s*=)")
    readers = [
        f"{file.relative_to(REPO)}:{text.count(chr(10), 0, match.start()) + 1}"
        for file in CODE
        if file.name != "settings.py"
        for text in [file.read_text(encoding="utf-8")]
        for match in read.finditer(text)
        if "XDG_CONFIG_HOME" not in text[match.start() : match.start() + 40]
    ]
    assert not readers, f"read these through wangtai.settings: {readers}"
    quoted = re.compile(r"[\"'](WANGTAI_[A-Z_]*[A-Z])[\"']")
    named = {name for file in CODE for name in quoted.findall(file.read_text(encoding="utf-8"))}
    known = {setting.env for setting in settings.SETTINGS} | {settings.CONFIG_ENV}
    assert named <= known, f"settings used but not declared in wangtai/settings.py: {sorted(named - known)}"
