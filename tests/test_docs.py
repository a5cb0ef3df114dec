"""Nothing a user or operator can set goes undocumented: every environment variable the code reads and
every `wangtai` verb is explained in the README."""

import re
from pathlib import Path

from wangtai.cli import build_parser

REPO = Path(__file__).resolve().parent.parent
CODE = [REPO / "dashboard.py", *(REPO / "wangtai").rglob("*.py"), *(REPO / "pages").glob("*.py")]
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_environment_variable_is_in_the_readme():
    quoted = re.compile(r"[\"'](WANGTAI_[A-Z_]*[A-Z])[\"']")  # a setting's name appears as a string
    used = {name for file in CODE for name in quoted.findall(file.read_text(encoding="utf-8"))}
    assert used, "the scan found no settings at all: the pattern is broken"
    missing = sorted(name for name in used if name not in README)
    assert not missing, f"document these settings in README.md: {missing}"


def test_every_cli_verb_is_in_the_readme():
    verbs = next(a for a in build_parser()._actions if a.dest == "verb").choices
    assert {"demo", "ingest", "query", "held", "prepare"} <= set(verbs)
    missing = sorted(verb for verb in verbs if f"wangtai {verb}" not in README)
    assert not missing, f"document these commands in README.md: {missing}"
