"""The run summary: a refused file's line names its first problem, how many others there are
and where to read them all."""

from __future__ import annotations

from helpers.workbooks import drop, q

from ptce_pipeline.ingestion.report import FileLine, RunReport, others
from ptce_pipeline.ingestion.run import run_ingest


def test_other_errors_are_counted_in_french():
    assert [others(n) for n in (0, 1, 2, 4)] == [
        "",
        "et 1 autre erreur",
        "et 2 autres erreurs",
        "et 4 autres erreurs",
    ]


def refused_line(**kw) -> str:
    report = RunReport()
    report.files.append(
        FileLine("PTCE-001", "v2.xlsx", "nouvelle", "refusee", 3, "A1 — faux", **kw)
    )
    (line,) = [x for x in report.summary_lines() if "v2.xlsx" in x]
    return line


def test_a_refused_line_says_how_many_other_errors_and_where_to_read_them():
    copy = "inbox/PTCE-001/retours/x_annote.xlsx"
    assert refused_line(other_errors=4, annotated=copy) == (
        f"  Refusé : PTCE-001/v2.xlsx : A1 — faux — et 4 autres erreurs : voir la copie annotée {copy}"
    )
    assert refused_line(other_errors=1, receipt="r.html") == (
        "  Refusé : PTCE-001/v2.xlsx : A1 — faux — et 1 autre erreur : voir l'accusé r.html"
    )
    assert refused_line(annotated=copy) == (
        f"  Refusé : PTCE-001/v2.xlsx : A1 — faux — copie annotée : {copy}"
    )


def test_a_run_counts_the_other_errors_of_a_refused_file(home, make_workbook):
    def three_errors(data):
        data.indicators["IND02"] = 140
        data.indicators["IND03"] = 140
        data.indicators["IND04"] = -5

    drop(home, "PTCE-001", "faux.xlsx", make_workbook(change=three_errors))
    report = run_ingest(home)
    (line,) = [x for x in report.terminal_lines() if "faux.xlsx" in x]
    errors = q(home.live_db, "SELECT count(*) FROM validation_issues WHERE severity = 'erreur'")
    n = errors[0][0] - 1
    assert n >= 1 and report.files[0].other_errors == n
    assert line.startswith("  Refusé : PTCE-001/faux.xlsx : Indicateurs!")
    assert f" — {others(n)} : voir la copie annotée inbox/PTCE-001/retours/" in line
    assert f"| {n} |" in report.markdown()
