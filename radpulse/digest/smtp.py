"""One SMTP connection that hands over messages one by one, retrying what may pass later.

`Mailer.deliver` runs MAIL, RCPT and DATA itself (not `send_message`) so that it knows which
step failed: anything before DATA did not deliver the message, and a 4xx answer, a dropped
connection or a refused connection is retried after a growing pause (`[smtp] retries`,
`retry_seconds`, doubled each time); a 5xx answer is final. A connection that drops while the
message is being transferred, or before the server's answer to it, leaves the outcome unknown:
the server may have accepted and queued it, so it is reported as 'unknown' and never retried.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

from radpulse.config import Settings
from radpulse.errors import RadpulseError, network_reason


class DeliveryError(RadpulseError):
    """The SMTP server could not be reached or refused the login."""

    exit_code = 1


@dataclass
class Outcome:
    """What became of one message: sent, failed (not delivered), unknown (maybe delivered), lost (claim gone)."""

    status: str
    error: str | None = None


class _Transient(Exception):
    pass


class Mailer:
    """A lazily (re)connected SMTP session of `[smtp]`."""

    def __init__(self, settings: Settings, *, sleep: Callable[[float], None] | None = None) -> None:
        self.settings = settings
        self.server: smtplib.SMTP | None = None
        self.sleep = sleep or time.sleep

    def connect(self) -> smtplib.SMTP:
        """The open session; DeliveryError when the server cannot be reached after the retries."""
        conf = self.settings.smtp
        for attempt in range(conf.retries + 1):
            try:
                return self._session()
            except _Transient as exc:
                if attempt == conf.retries:
                    raise DeliveryError(f"could not reach the SMTP server {conf.host}:{conf.port} ({exc})",
                                        hint="Check [smtp] host, port, ssl and starttls; nothing was sent, run again "
                                             "later.") from None
                self.sleep(conf.retry_seconds * 2 ** attempt)
        raise AssertionError("unreachable")

    def _session(self) -> smtplib.SMTP:
        if self.server is not None:
            return self.server
        conf = self.settings.smtp
        try:
            if conf.ssl:
                server: smtplib.SMTP = smtplib.SMTP_SSL(conf.host, conf.port, timeout=conf.timeout_seconds,
                                                       context=ssl.create_default_context())
            else:
                server = smtplib.SMTP(conf.host, conf.port, timeout=conf.timeout_seconds)
                if conf.starttls:
                    server.starttls(context=ssl.create_default_context())
            if conf.username:
                server.login(conf.username, self.settings.secret("RADPULSE_SMTP_PASSWORD") or "")
            server.ehlo_or_helo_if_needed()
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"the SMTP server {conf.host}:{conf.port} refused the login of {conf.username!r} "
                                f"({exc.smtp_code})", hint="Check [smtp] username and RADPULSE_SMTP_PASSWORD.") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise _Transient(network_reason(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}") from None
        self.server = server
        return server

    def deliver(self, msg: EmailMessage, before_data: Callable[[], bool], after_refusal: Callable[[], None]) -> Outcome:
        """Send `msg`; `before_data()` is called right before DATA (False: do not send),
        `after_refusal()` when DATA was answered with a refusal (the message was not taken)."""
        sender = msg["From"].addresses[0].addr_spec
        rcpt = msg["To"].addresses[0].addr_spec
        body = msg.as_bytes(policy=msg.policy)
        conf = self.settings.smtp
        error = ""
        for attempt in range(conf.retries + 1):
            if attempt:
                self.sleep(conf.retry_seconds * 2 ** (attempt - 1))
            try:
                server = self._session()
                code, reply = server.mail(sender)
                if code == 250:
                    code, reply = server.rcpt(rcpt)
                if code not in (250, 251):
                    self._reset()
                    error = f"the server answered {code} {reply.decode(errors='replace')}"
                    if 400 <= code < 500:
                        continue
                    return Outcome("failed", error)
            except _Transient as exc:
                error = str(exc)
                continue
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                error = network_reason(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"
                continue
            if not before_data():
                self._reset()
                return Outcome("lost", "another sender took over the claim")
            try:
                code, reply = server.data(body)
            except smtplib.SMTPDataError as exc:  # DATA itself refused: nothing was transferred
                code, reply = exc.smtp_code, exc.smtp_error
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                reason = network_reason(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"
                return Outcome("unknown", f"the connection ended during DATA ({reason}); the server may have "
                                          "accepted the message")
            if code == 250:
                return Outcome("sent")
            after_refusal()  # answered with a refusal: the message was not taken
            error = f"the server answered {code} {reply.decode(errors='replace')}"
            self._reset()
            if not 400 <= code < 500:
                return Outcome("failed", error)
        return Outcome("failed", f"{error} (after {conf.retries + 1} attempts)")

    def _reset(self) -> None:
        try:
            if self.server is not None:
                self.server.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        server, self.server = self.server, None
        if server is None:
            return
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            try:
                server.close()
            except OSError:
                pass
