"""What a pole gets back in `inbox/<pole>/retours/` for each file it drops.

- `annotate`: the annotated copy of its workbook (`annotated_workbook`);
- `copies`: that copy built in a child process under the readers' limits (`annotated_copy`);
- `receipt`: the HTML receipt (`receipt_html`), which words the ledger's note through `notes`;
- `notes`: the French wording of each note code (`word`);
- `retours`: where those files go (`feedback_paths`) and how they are written
  (`write_feedback`); the pre-filled workbook of a campaign and its note (`write_prepared`).

Other packages import from here only.
"""

from ptce_pipeline.feedback.annotate import annotated_workbook
from ptce_pipeline.feedback.copies import Copy, annotated_copy
from ptce_pipeline.feedback.notes import word
from ptce_pipeline.feedback.receipt import receipt_html
from ptce_pipeline.feedback.retours import (
    PREPARED_NOTE,
    PREPARED_WORKBOOK,
    feedback_paths,
    write_feedback,
    write_prepared,
)

__all__ = [
    "PREPARED_NOTE",
    "PREPARED_WORKBOOK",
    "Copy",
    "annotated_copy",
    "annotated_workbook",
    "feedback_paths",
    "receipt_html",
    "word",
    "write_feedback",
    "write_prepared",
]
