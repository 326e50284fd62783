"""Django's SMTP backend, minus one cost for mailings.

For every message Django's backend re-parses the sender and each recipient with the email
package (`sanitize_address`, ~80 µs each): a mailing's sender is checked when it is saved and its
recipients are normalised addresses, so for a MailingMessage with ASCII addresses the backend
passes them as they are. Everything else — other messages, non-ASCII addresses — goes through
Django's own code. Set by default when EMAIL_HOST is; any other EMAIL_BACKEND works too.
"""

from __future__ import annotations

import functools
import smtplib
from email.utils import parseaddr

from django.core.mail.backends.smtp import EmailBackend as DjangoSMTPBackend

from barnstorm.mailings.mime import MailingMessage


@functools.lru_cache(maxsize=64)
def _envelope_sender(from_email: str) -> str:
    return parseaddr(from_email)[1]


class EmailBackend(DjangoSMTPBackend):
    def _send(self, email_message):
        if not isinstance(email_message, MailingMessage):
            return super()._send(email_message)
        sender = _envelope_sender(email_message.from_email)
        recipients = email_message.recipients()
        if not recipients:
            return False
        if not (sender.isascii() and all(r.isascii() and "\n" not in r for r in recipients)):
            return super()._send(email_message)
        try:
            self.connection.sendmail(sender, recipients, email_message.message().as_bytes(linesep="\r\n"))
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True
