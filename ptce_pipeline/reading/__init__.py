"""Reading received workbooks, safely, into the pole's data.

`ReaderPool` reads many files in worker processes under a memory and a time limit; `read_one`
reads one in this process; both give a `ReadOutcome` (the format and the `Content`, or the
issues that refused the file). `LimitedRunner` (`limited`) runs any other parse of a pole's
bytes (the annotated copies) in a child process under the same limits. On the way: `sniff`
(the format from magic bytes), `preflight` (bounds checked before any parser: `zipguard`,
`preflight_xlsx`, `preflight_ods`), `workbook` (python-calamine grids), `extract` (grids →
`Content`: `headers`, `sheets`, `cells`).

Importing it loads no spreadsheet library: python-calamine is imported when a file is read.
"""

from ptce_pipeline.reading.limited import Limited, LimitedRunner, run_limited
from ptce_pipeline.reading.sandbox import ReaderPool, ReadOutcome, check_xml_safety, read_one

__all__ = [
    "Limited",
    "LimitedRunner",
    "ReadOutcome",
    "ReaderPool",
    "check_xml_safety",
    "read_one",
    "run_limited",
]
