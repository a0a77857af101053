"""Make tests/data/check_refusee.ods: a filled template (PTCE-001, 2024) with IND02 = 140,
saved as .ods by LibreOffice, as a pole using LibreOffice would send it.

    python tests/data/make_check_ods.py   (needs `soffice`; CI uses the committed file)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from helpers.workbooks import filled, workbook  # noqa: E402

from ptce_pipeline.catalogue.referentiel import load_referentiel  # noqa: E402


def main() -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        sys.exit("soffice is needed to make this fixture")
    ref = load_referentiel()
    data = filled(ref)
    data.indicators["IND02"] = 140
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "check_refusee.xlsx"
        src.write_bytes(workbook(ref, data))
        subprocess.run(
            [soffice, "--headless", "--convert-to", "ods", "--outdir", tmp, str(src)],
            check=True,
            capture_output=True,
            timeout=180,
        )
        shutil.copy(Path(tmp) / "check_refusee.ods", HERE / "check_refusee.ods")


if __name__ == "__main__":
    main()
