"""Validation of read workbooks against the référentiel, many at once: `validate_batch` gives
each `Item` its issues in the `Context` of the run (référentiel, registry, campaigns, previous
period), and `status_of` turns issues into a status. pandas and pandera are imported only when a
batch is validated.
"""

from ptce_pipeline.validation.batch import status_of, validate_batch
from ptce_pipeline.validation.model import Context, Item
from ptce_pipeline.validation.report import FileReport

__all__ = ["Context", "FileReport", "Item", "status_of", "validate_batch"]
