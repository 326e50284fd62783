"""The SMTP backend's fast path sends a mailing's message with the same envelope as Django's."""

from email import policy

from django.core.mail import EmailMessage

from barnstorm.mailings.backends import EmailBackend
from barnstorm.mailings.mime import MailingMessage
from barnstorm.mailings.tests.smtp_sink import Sink


def test_mailing_and_ordinary_messages_both_arrive():
    sink = Sink()
    try:
        backend = EmailBackend(host="127.0.0.1", port=sink.port, use_tls=False, fail_silently=False)
        fast = MailingMessage("Fast", "body", "Team Barnstorm <team@barnstorm.test>", ["ann@example.com"])
        fast.attach_alternative("<p>body</p>", "text/html")
        plain = EmailMessage("Plain", "body", "team@barnstorm.test", ["bob@example.com"])
        unicode_name = MailingMessage("Ünï", "body", "Équipe <team@barnstorm.test>", ["cy@example.com"])
        unicode_name.attach_alternative("<p>body</p>", "text/html")

        assert backend.send_messages([fast, plain, unicode_name]) == 3
    finally:
        sink.close()

    assert sorted(sink.recipients) == ["ann@example.com", "bob@example.com", "cy@example.com"]
    assert sorted(str(m["Subject"]) for m in sink.parsed(policy=policy.default)) == ["Fast", "Plain", "Ünï"]
