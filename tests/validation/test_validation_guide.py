"""The French guide (docs/guide.md) is checked, or it rots: its list of issue codes is the
catalogue's own rendering, and every `ptce` command it shows exists with those options."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ptce_pipeline.catalogue.issues import CATALOGUE, guide_markdown
from ptce_pipeline.cli.parser import build_parser

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide.md"


def text() -> str:
    return GUIDE.read_text(encoding="utf-8")


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {opt for action in parser._actions for opt in action.option_strings}


def test_the_guide_lists_every_code_with_its_message():
    block = text().split("<!-- codes:start -->\n")[1].split("\n<!-- codes:end -->")[0]
    assert block == guide_markdown(), "run: update docs/guide.md from issues.guide_markdown()"
    headings = re.findall(r"^#### `([a-z0-9-]+)` — (.+)$", block, flags=re.M)
    assert headings == [(code, spec.title) for code, spec in CATALOGUE.items()]


def test_every_command_shown_in_the_guide_exists():
    verbs = subparsers(build_parser())
    shown = re.findall(r"`(ptce [^`]+)`", text())
    assert len(shown) > 15
    for command in shown:
        words = command.split()
        parser = verbs.get(words[1])
        assert parser is not None, command
        rest = words[2:]
        if words[1] in ("campaign", "access", "review"):
            parser = subparsers(parser).get(rest[0])
            assert parser is not None, command
        for word in rest:
            option = word.strip("[],.").split("=")[0]
            if option.startswith("--"):
                assert option in options(parser), f"{option} in « {command} »"


def test_every_verb_is_in_the_guide():
    body = text()
    for verb in subparsers(build_parser()):
        assert f"`ptce {verb}" in body, verb
