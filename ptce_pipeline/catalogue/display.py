"""Text from a pole's file (its name, its cell values, messages that quote them) neutralised
for the medium it goes to. One function per medium:

- `terminal`: one line for the operator's terminal (and logs, and Prefect state messages).
  C0 controls, DEL and C1 controls are shown visibly (ESC as ␛, LF as ␊, CR as ␍, BEL as ␇,
  DEL as ␡, a C1 control as its `\\x9b` escape text), and so are the bidirectional overrides
  and isolates, the directional marks and the Unicode line/paragraph separators (as `\\u202e`):
  no escape sequence, hyperlink, bell, carriage return or forged line can reach the terminal,
  and the text is shown in the order it is stored.
- `json_text`: `json.dumps(…, ensure_ascii=False)` output made safe for a terminal. JSON
  already escapes C0; DEL, C1 and the bidi characters are written as `\\uXXXX` escapes, so the
  JSON still parses to the very same data.
- `markdown`: text for a Markdown artifact (the Prefect UI renders it). Control characters are
  shown visibly as for the terminal, then every ASCII punctuation character is
  backslash-escaped (CommonMark renders an escaped punctuation character as itself, and never
  as emphasis, link, image, HTML, table cell, heading or list syntax), which also breaks
  autolinks (`http\\:\\/\\/`, `www\\.`).
- `code`: a Markdown code span whose backtick fence is longer than any backtick run in the
  text; `table=True` escapes `|` too (GFM splits table cells even inside code spans).
"""

from __future__ import annotations

import re

# bidirectional embeddings/overrides/isolates, directional marks, line and paragraph separators
_INVISIBLE = "\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_INVISIBLE}]")
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f{_INVISIBLE}]")  # json.dumps escapes C0 itself
_PUNCTUATION = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")
_TICKS = re.compile(r"`+")


def _visible(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␀ … ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    if code <= 0x9F:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def terminal(text: object) -> str:
    """`text` as one safe line for a terminal or a log."""
    return _UNSAFE.sub(lambda m: _visible(m.group()), "" if text is None else str(text))


def json_text(dumped: str) -> str:
    """The output of `json.dumps(..., ensure_ascii=False)` with DEL, C1 and bidi characters
    written as JSON escapes (they only ever occur inside JSON strings)."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)


def markdown(text: object, limit: int | None = None) -> str:
    """`text` as inert Markdown: visible controls, every punctuation character escaped.
    `limit` cuts the text (before escaping, so an escape is never cut in half)."""
    plain = terminal(text)
    if limit is not None and len(plain) > limit:
        plain = plain[: limit - 1] + "…"
    return _PUNCTUATION.sub(r"\\\1", plain)


def code(text: object, *, table: bool = False) -> str:
    """`text` as a Markdown code span (inline code), inert whatever it holds."""
    plain = terminal(text)
    if table:
        plain = plain.replace("|", "\\|")
    longest = max((len(run) for run in _TICKS.findall(plain)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if plain.startswith("`") or plain.endswith("`") or not plain.strip() else ""
    return f"{fence}{pad}{plain}{pad}{fence}"
