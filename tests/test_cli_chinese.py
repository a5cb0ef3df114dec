"""The `wangtai` command speaks Chinese, argparse's own words included (usage, errors, help)."""

import argparse

import pytest

from wangtai import cli


def _run(capsys, *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as stop:
        cli.main(list(argv))
    captured = capsys.readouterr()
    return stop.value.code, captured.out + captured.err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ((), "缺少必需的参数：命令"),
        (("bogus",), "无效的选择"),
        (("demo", "--residents", "x"), "无效的 int 值"),
        (("query", "--nope"), "无法识别的参数"),
    ],
)
def test_argparse_errors_are_chinese(capsys, argv, expected) -> None:
    code, text = _run(capsys, *argv)
    assert code == 2 and expected in text, text
    assert "用法：" in text and "错误：" in text
    assert "usage:" not in text and "error:" not in text


def test_help_is_chinese_and_argparse_is_left_as_it_was(capsys) -> None:
    code, text = _run(capsys, "--help")
    assert code == 0 and "显示本帮助并退出" in text and "选项" in text
    for english in ("usage:", "show this help", "options:", "positional arguments"):
        assert english not in text
    other = argparse.ArgumentParser(prog="x")  # outside the command, argparse is not changed
    assert other.format_usage().startswith("usage: ")
