"""A real SMTP server for the mail tests (aiosmtpd, on a free port of 127.0.0.1, in a thread):
it keeps every message it accepted, and refuses the recipients it is told to (550)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, subtype: str) -> str:
        return self.message.get_body(preferencelist=(subtype,)).get_content()

    @property
    def attachments(self) -> list[str]:
        return [p.get_filename() for p in self.message.iter_attachments()]


@dataclass
class Sink:
    port: int
    refuse: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    probe: Callable[[], object] | None = None  # called as each message arrives
    probes: list[object] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 Adresse inconnue"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.probe is not None:
            self.probes.append(self.probe())
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]

    def keys(self) -> list[str]:
        return sorted(str(r.message["Message-ID"]) for r in self.received)


class SmtpServer:
    """`with SmtpServer() as sink:` — a real SMTP server until the block ends."""

    def __init__(self, port: int | None = None, refuse: set[str] | None = None):
        from aiosmtpd.controller import Controller

        self.sink = Sink(port or free_port(), {a.lower() for a in refuse or ()})
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.sink.port)

    def __enter__(self) -> Sink:
        self.controller.start()
        return self.sink

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def smtp_env(port: int, **extra: str) -> dict[str, str]:
    """The PTCE_SMTP_* settings for a local server without TLS or login."""
    return {
        "PTCE_SMTP_HOST": "127.0.0.1",
        "PTCE_SMTP_PORT": str(port),
        "PTCE_SMTP_SECURITY": "aucune",
        "PTCE_SMTP_FROM": "ptce@exemple.fr",
        "PTCE_SMTP_RATE": "6000",
        "PTCE_SMTP_TIMEOUT": "3",
        "PTCE_PORTAL_URL": "https://ptce.exemple.fr",
        **extra,
    }
