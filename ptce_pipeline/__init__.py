"""ptce-pipeline: batch pipeline for the monitoring workbooks of the French PTCE experimentation."""

__version__ = "0.1.0"

# Layout version of the pole workbook written by `ptce template`. Bump it when sheets or
# columns move; the reader keeps a mapping for older layouts (see `layout.TEMPLATE_LAYOUTS`).
# 2: the locked reference column « Valeur AAAA » of pre-filled workbooks.
TEMPLATE_VERSION = "2"

# Version of the validation rules. Bump it when a rule changes meaning, so that refused files
# delivered again are validated again instead of being refused with the old report.
RULES_VERSION = "1"
