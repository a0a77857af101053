"""Docs are checked, or they rot: the README stays short and its Quick start is what CI runs;
every relative link leads to a file; the issue-code and verb tables of docs/conventions.md
match the code; the modules docs/architecture.md names exist."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from ptce_pipeline.catalogue.issues import CATALOGUE

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
DOCS = ROOT / "docs"
README = ROOT / "README.md"
MAX_README_LINES = 220


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def documents() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def test_the_docs_exist():
    names = {p.name for p in DOCS.glob("*.md")}
    assert {
        "architecture.md",
        "conventions.md",
        "dictionnaire.md",
        "exploitation.md",
        "guarantees.md",
        "guide.md",
        "performance.md",
    } <= names


def test_readme_stays_short():
    assert len(read(README).splitlines()) <= MAX_README_LINES


def test_readme_quick_start_has_two_commands():
    quick = read(README).split("## Quick start")[1].split("##")[0]
    commands = re.findall(r"```sh\n(.+?)\n```", quick)
    assert len(commands) == 2
    assert "ptce demo" in commands[0] and commands[1].endswith("pytest")


def test_readme_points_every_reader_to_a_doc():
    text = read(README).split("## Who reads what")[1].split("\n## ")[0]
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)\)", text))
    assert {p.name for p in DOCS.glob("*.md")} <= linked


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def test_every_relative_link_leads_to_a_file():
    broken = []
    for doc in documents():
        for target in LINK.findall(read(doc)):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue  # a web address, or an anchor in the same page
            path = (doc.parent / target.split("#")[0]).resolve()
            if not path.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert not broken, broken


def test_conventions_list_every_issue_code():
    text = read(DOCS / "conventions.md")
    block = text.split("<!-- issue-codes:start -->")[1].split("<!-- issue-codes:end -->")[0]
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (\w+) \| (.+?) \|$", block, flags=re.M)
    assert [(c, s, t) for c, s, t in rows] == [
        (c, t.severity, t.title) for c, t in CATALOGUE.items()
    ]


def test_conventions_list_every_verb():
    from ptce_pipeline.cli.parser import build_parser

    parser = build_parser()
    verbs = next(a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    table = read(DOCS / "conventions.md").split("## Verbs")[1].split("\n## ")[0]
    documented = set(re.findall(r"^\| `ptce (\w+)", table, flags=re.M))
    assert documented == set(verbs)


def test_the_modules_the_architecture_names_exist():
    """A path such as `store/ledger.py` or `publication/site.py` in docs/architecture.md is a
    module of the package (or a file of the repository); a bare `name.py` exists somewhere in
    the package (through its links to flows/ and schemas/)."""
    text = read(DOCS / "architecture.md")
    package = ROOT / "ptce_pipeline"
    every = {f for _, _, files in os.walk(package, followlinks=True) for f in files}
    missing = []
    for name in sorted(set(re.findall(r"`((?:[\w-]+/)*[\w-]+\.(?:py|sql|toml))`", text))):
        if "/" in name:
            if not ((package / name).exists() or (ROOT / name).exists()):
                missing.append(name)
        elif name not in every and not (ROOT / name).exists():
            missing.append(name)
    assert not missing, f"docs/architecture.md names files that do not exist: {missing}"


def test_no_doc_sends_analysts_to_a_duckdb_command_line_tool():
    """The project does not install the `duckdb` command-line client: examples use Python."""
    for doc in documents():
        for block in re.findall(r"```sh\n(.+?)```", read(doc), flags=re.S):
            assert not re.search(r"^\s*duckdb\s", block, flags=re.M), doc.name


def test_conventions_give_every_name_written_into_retours():
    """The `retours/` table of docs/conventions.md gives the writer's names (issue 15)."""
    from ptce_pipeline.feedback.retours import ANNOTATED_SUFFIX, RECEIPT_SUFFIX
    from ptce_pipeline.fsafe import TEMP_SUFFIX

    table = read(DOCS / "conventions.md").split("## Files written into `retours/`")[1]
    table = table.split("\n## ")[0]
    for suffix in (RECEIPT_SUFFIX, ANNOTATED_SUFFIX):
        assert f"`<date-heure>_<n° de dépôt>_<nom>{suffix}`" in table
    assert f"`.<name>.<process id>{TEMP_SUFFIX}`" in table
