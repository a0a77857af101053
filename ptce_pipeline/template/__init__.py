"""The pole workbook template: built from the référentiel (`build_template`), written
deterministically (`workbook_bytes`, `save_workbook`), and filled the way a pole would
(`FilledData`, `fill_workbook`) for the demo, the tests and the benchmarks.

Importing this package loads openpyxl: the CLI imports it inside the verbs that need it.
"""

from ptce_pipeline.template.build import build_template
from ptce_pipeline.template.fill import FilledData, add_comment, fill_workbook
from ptce_pipeline.xlsx_writer import save_workbook, workbook_bytes

__all__ = [
    "FilledData",
    "add_comment",
    "build_template",
    "fill_workbook",
    "save_workbook",
    "workbook_bytes",
]
