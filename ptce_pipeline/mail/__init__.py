"""E-mails to the poles and the national team (issue 20): one message per decision that changes
something for a pole, reminders before and after each deadline, a weekly digest — each queued
under a stable key in the outbox journal and sent once, after the warehouse lock is released.

Public face: `after_run` (an ingestion run's e-mails), `remind` (the daily flow `remind-poles`
and `ptce remind`), `MailReport`."""

from ptce_pipeline.mail.deliver import MailReport, after_run, remind

__all__ = ["MailReport", "after_run", "remind"]
