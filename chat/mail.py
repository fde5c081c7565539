"""Sending mail: over SMTP (stdlib `smtplib`), or into the log in development.

Both implement `chat.services.verification.Mailer`. Sending happens on the thread pool
(`offload`) with a timeout on every socket operation, so a slow or silent mail server
costs the request that waits for it, never the hub, and a dead one is a
`MailUnavailable` (503 `mail_unavailable`) rather than a hang.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from .concurrency import offload
from .domain.errors import MailUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    use_ssl: bool = False
    timeout: float = 10.0

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        # The failure comes back as a value: raised inside the pool, gevent would print
        # its traceback to stderr for a mail server that is merely down.
        failure = offload(self._deliver, message)
        if failure is not None:
            log.error("mail to %s not sent: %s", to, failure)
            raise MailUnavailable() from failure

    def _deliver(self, message: EmailMessage) -> Exception | None:
        try:
            if self.use_ssl:
                context = ssl.create_default_context()
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.starttls and not self.use_ssl:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:  # refused, timed out, rejected
            return error
        return None


class LogMailer:
    """Development without SMTP_HOST: each mail is one warning line in the log."""

    def send(self, to: str, subject: str, body: str) -> None:
        log.warning(
            "No SMTP_HOST set, so this mail is logged instead of sent: to %s, %s: %s",
            to,
            subject,
            " ".join(body.split()),
        )
