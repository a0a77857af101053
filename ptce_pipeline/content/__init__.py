"""The pole's data as read from a workbook, every value with its cell address (`Content`,
`Cell`, and the A1 helpers, in `model`), and the parsing of typed values — French numbers,
years, dates, codes — in `values`.

Standard library only: importing it stays cheap.
"""

from ptce_pipeline.content import values
from ptce_pipeline.content.model import (
    Cell,
    Content,
    addr,
    col_letter,
    col_letters,
    col_number,
    split_ref,
)
from ptce_pipeline.content.values import display_number

__all__ = [
    "Cell",
    "Content",
    "addr",
    "col_letter",
    "col_letters",
    "col_number",
    "display_number",
    "split_ref",
    "values",
]
