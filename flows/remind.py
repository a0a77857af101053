"""`remind-poles`: the daily reminders to the poles before and after each open deadline, the
national team's weekly digest, and any e-mail earlier runs could not send (deployment
`ptce-reminders`, every day at 09:00 Europe/Paris under `ptce serve`). One library call."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.states import Completed, Failed

from ptce_pipeline.catalogue import display
from ptce_pipeline.config import load_settings
from ptce_pipeline.mail import remind

ARTIFACT_KEY = "ptce-courriels"


@flow(name="remind-poles", log_prints=False)
def remind_poles(home: str | None = None, dry_run: bool = False):
    settings = load_settings(home=home)
    report = remind(settings, dry_run=dry_run)
    data = report.to_dict()
    try:
        create_markdown_artifact(
            markdown="# Courriels\n\n"
            + "\n".join(f"- {display.markdown(line, 600)}" for line in report.lines),
            key=ARTIFACT_KEY,
            description="Relances et courriels ptce-pipeline",
        )
    except Exception as exc:  # the report must never fail the run
        get_run_logger().warning("artefact non créé : %s", display.terminal(exc))
    if report.needs_attention:
        return Failed(message=display.terminal("; ".join(report.lines))[:500], data=data)
    return Completed(message="courriels traités", data=data)
