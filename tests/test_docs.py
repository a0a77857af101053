"""Docs are checked, or they rot: the README's issue-code table matches the catalogue."""

from __future__ import annotations

import re
from pathlib import Path

from ptce_pipeline.catalogue.issues import CATALOGUE

ROOT = Path(__file__).resolve().parents[1]


def test_readme_lists_every_issue_code():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- issue-codes:start -->")[1].split("<!-- issue-codes:end -->")[0]
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (\w+) \| (.+?) \|$", block, flags=re.M)
    assert [(c, s, t) for c, s, t in rows] == [
        (c, t.severity, t.title) for c, t in CATALOGUE.items()
    ]


def test_readme_quick_start_has_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start")[1].split("##")[0]
    commands = re.findall(r"```sh\n(.+?)\n```", quick)
    assert len(commands) == 2
    assert "ptce demo" in commands[0] and commands[1].endswith("pytest")
