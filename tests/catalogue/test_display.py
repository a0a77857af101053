"""The neutralisers of `catalogue.display`, over the whole class of characters: every control,
DEL, C1 and bidi character shown visibly on the terminal; every Markdown-active character
escaped; code spans that no backtick run can close; JSON that parses back to the same data."""

from __future__ import annotations

import json
import re

from ptce_pipeline.catalogue import display

CONTROLS = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]
BIDI = [chr(c) for c in (0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F))]
BIDI += [chr(c) for c in range(0x2066, 0x206A)]
UNSAFE = re.compile("[" + re.escape("".join(CONTROLS + BIDI)) + "]")


def test_terminal_shows_every_control_and_bidi_character_visibly():
    for ch in CONTROLS + BIDI:
        shown = display.terminal(f"a{ch}b")
        assert not UNSAFE.search(shown) and shown != "ab" and len(shown) > 2, repr(ch)
    assert display.terminal("x\x1b[2J\ny\r\x07") == "x␛[2J␊y␍␇"
    assert display.terminal("é 漢字 🙂 ‘’ «»") == "é 漢字 🙂 ‘’ «»"  # ordinary text untouched
    assert display.terminal(None) == ""


def test_json_keeps_the_data_and_drops_what_a_terminal_obeys():
    data = {"nom": "".join(CONTROLS + BIDI) + "é", "n": [1, 2.5, None]}
    text = display.json_text(json.dumps(data, ensure_ascii=False, indent=2))
    assert json.loads(text) == data
    assert not UNSAFE.search(text.replace("\n", ""))


def test_markdown_escapes_every_punctuation_character():
    punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    escaped = display.markdown(punctuation)
    assert escaped == "".join("\\" + ch for ch in punctuation)
    assert display.markdown("![x](https://a.invalid) www.a.invalid") == (
        "\\!\\[x\\]\\(https\\:\\/\\/a\\.invalid\\) www\\.a\\.invalid"
    )
    assert display.markdown("a\x1b\nb") == "a␛␊b"
    assert display.markdown("x" * 50, 10) == "x" * 9 + "…"


def test_code_spans_cannot_be_closed_from_inside():
    for text in ("a", "`", "a`b", "``x``", "a```b`", "`a`", ""):
        span = display.code(text)
        fence = re.match(r"`+", span).group()
        inner = span[len(fence) : -len(fence)]
        assert span.endswith(fence) and fence not in inner, span
        assert inner.strip() == text.strip() or (inner.startswith(" ") and inner[1:-1] == text)
    assert display.code("a|b", table=True) == "`a\\|b`"
