"""E-mails to the poles and the national team (issue 20): one message per decision that changes
something for a pole, reminders before and after each deadline, a weekly digest — each queued
under a stable key in the outbox journal and sent once, after the warehouse lock is released.

Public face: `queue_run_mail` (an ingestion run's e-mails, queued under its lock) and
`send_queued` (sent once the lock is released), `after_run` (both, outside a run), `remind`
(the daily flow `remind-poles` and `ptce remind`), `waiting` (a run has mail to do: the fast
no-op answer is not enough), `MailReport`."""

from ptce_pipeline.mail.deliver import (
    MailReport,
    after_run,
    queue_run_mail,
    remind,
    send_queued,
    waiting,
)

__all__ = ["MailReport", "after_run", "queue_run_mail", "remind", "send_queued", "waiting"]
