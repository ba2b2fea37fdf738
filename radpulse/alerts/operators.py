"""Telling the operators (`[alerts] operators`) that a job keeps failing, and when it works again."""

from __future__ import annotations

import logging
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid

from radpulse.config import Settings
from radpulse.errors import RadpulseError

log = logging.getLogger(__name__)


def operator_message(settings: Settings, job: str, change: str, error: str | None, to: str) -> EmailMessage:
    """The note for one operator: 'failing' (with the last error) or 'recovered'."""
    from radpulse.digest.delivery import POLICY, one_line, sender_address

    sender = sender_address(settings)
    msg = EmailMessage(policy=POLICY)
    if change == "failing":
        n = settings.alerts.failures_before_alert
        msg["Subject"] = one_line(f"radpulse: {job} failed {n} times in a row")
        body = (f"The scheduled job {job} has failed {n} times in a row.\n\nLast error:\n{error or 'none recorded'}\n\n"
                "You will get one more email when it works again. `radpulse status` shows every job.\n")
    else:
        msg["Subject"] = one_line(f"radpulse: {job} works again")
        body = f"The scheduled job {job} ran successfully again.\n"
    msg["From"] = Address(addr_spec=sender)
    msg["To"] = Address(addr_spec=to)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    msg.set_content(one_line_safe(body), cte="quoted-printable")
    return msg


def one_line_safe(text: str) -> str:
    from radpulse.terminal import terminal_safe

    return "\n".join(terminal_safe(line) for line in text.splitlines()) + "\n"


def notify_operators(settings: Settings, job: str, change: str, error: str | None) -> int:
    """Email every operator about `change` of `job`; how many were sent (failures are logged)."""
    from radpulse.digest.addresses import envelope_address
    from radpulse.digest.smtp import Mailer

    if not settings.alerts.operators:
        return 0
    mailer = Mailer(settings)
    sent = 0
    try:
        for address in settings.alerts.operators:
            try:
                msg = operator_message(settings, job, change, error, envelope_address(address))
                outcome = mailer.deliver(msg, before_data=lambda: True, after_refusal=lambda: None)
            except RadpulseError as exc:
                log.warning("operator alert to %s not sent: %s", address, exc)
                continue
            if outcome.status == "sent":
                sent += 1
            else:
                log.warning("operator alert to %s: %s (%s)", address, outcome.status, outcome.error)
    finally:
        mailer.close()
    return sent
