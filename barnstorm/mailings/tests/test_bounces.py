"""Bounce messages and feedback reports read from the bounce mailbox (`barnstorm mail_bounces`)."""

import email
import mailbox
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from barnstorm.activity.models import Activity
from barnstorm.mailings import services
from barnstorm.mailings.models import Delivery
from barnstorm.people.models import EmailAddress, EmailStatus
from barnstorm.people.services import email_status_set


@pytest.fixture
def sent(supporters, make_mailing, organizer, django_capture_on_commit_callbacks):
    """The messages of a sent mailing by address (what a bounce returns), outbox emptied."""
    with django_capture_on_commit_callbacks(execute=True):
        services.mailing_start(mailing=make_mailing(), actor=organizer)
    # Parsed back from the bytes that went out, as the receiving server returns them.
    messages = {m.to[0]: email.message_from_bytes(m.message().as_bytes()) for m in mail.outbox}
    mail.outbox.clear()
    return messages


@pytest.fixture
def maildir(tmp_path):
    return mailbox.Maildir(tmp_path / "bounces", create=True)


def block(**fields):
    part = Message()
    for name, value in fields.items():
        part[name.replace("_", "-")] = value
    return part


def dsn(returned=None, *, recipients, headers_only=False):
    """An RFC 3464 report as an MTA writes it: `recipients` are (Final-Recipient, Action, Status[, Original])."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.example.net>"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.attach(MIMEText("This is the mail system at host mx.example.net.\n\nI'm sorry to have to inform you..."))
    status = MIMEBase("message", "delivery-status")
    status.attach(block(Reporting_MTA="dns; mx.example.net", Arrival_Date="Thu, 1 May 2025 12:00:00 +0000"))
    for final, action, code, *original in recipients:
        fields = {"Final_Recipient": f"rfc822; {final}", "Action": action, "Status": code}
        if original:
            fields["Original_Recipient"] = f"rfc822;{original[0]}"
        status.attach(block(**fields, Diagnostic_Code="smtp; 550 5.1.1 <x>: Recipient address rejected"))
    report.attach(status)
    if returned is not None:
        if headers_only:
            head = returned.as_string().split("\n\n", 1)[0] + "\n"
            report.attach(MIMEText(head, "rfc822-headers"))
        else:
            report.attach(MIMEMessage(returned))
    return report


def arf(returned, *, feedback_type="abuse", rcpt_to=None):
    """An RFC 5965 feedback report, as a mailbox provider's feedback loop sends it."""
    report = MIMEMultipart("report", report_type="feedback-report")
    report["From"] = "feedbackloop@isp.example"
    report.attach(MIMEText("This is an email abuse report for an email message received from IP 192.0.2.1"))
    fields = block(Feedback_Type=feedback_type, User_Agent="SomeGenerator/1.0", Version="1")
    if rcpt_to:
        fields["Original-Rcpt-To"] = rcpt_to
    report.attach(MIMEMessage(fields, "feedback-report"))
    head = returned.as_string().split("\n\n", 1)[0] + "\n"
    report.attach(MIMEText(head, "rfc822-headers"))
    return report


def run(path):
    out = StringIO()
    call_command("mail_bounces", str(path), stdout=out)
    return out.getvalue()


def status_of(address):
    return EmailAddress.objects.get(address=address).status


def delivery_of(address):
    return Delivery.objects.get(address=address)


def test_a_permanent_failure_stops_the_address_and_leaves_the_maildir(
    sent, maildir, make_mailing, organizer, django_capture_on_commit_callbacks
):
    maildir.add(dsn(sent["fan5@example.com"], recipients=[("fan5@example.com", "failed", "5.1.1")]))

    out = run(maildir._path)

    assert "Read 1 message(s): 1 bounce(s), 0 complaint(s), 0 ignored" in out
    assert status_of("fan5@example.com") == EmailStatus.BOUNCING
    assert delivery_of("fan5@example.com").bounced_at is not None
    assert len(maildir) == 0

    with django_capture_on_commit_callbacks(execute=True):
        services.mailing_start(mailing=make_mailing(), actor=organizer)
    to = {m.to[0] for m in mail.outbox}
    assert "fan5@example.com" not in to and len(to) == 11


def test_the_returned_headers_name_the_address_even_when_it_forwarded_elsewhere(sent, maildir):
    """Our header names the delivery; the report's recipient is the forwarding target, unknown to us."""
    returned = sent["fan6@example.com"]
    maildir.add(dsn(returned, recipients=[("fan6@forward.example", "failed", "5.2.1")], headers_only=True))

    run(maildir._path)

    assert status_of("fan6@example.com") == EmailStatus.BOUNCING
    assert delivery_of("fan6@example.com").bounced_at is not None


def test_a_report_without_our_header_stops_each_failed_recipient(sent, maildir):
    recipients = [
        ("fan2@example.com", "failed", "5.1.1"),
        ("Someone <FAN3@EXAMPLE.COM>", "failed", "5.0.0 (user unknown)"),
        ("fan4@forward.example", "failed", "5.1.1", "fan4@example.com"),
        ("fan7@example.com", "delayed", "4.4.1"),
    ]
    maildir.add(dsn(recipients=recipients))

    run(maildir._path)

    assert [status_of(f"fan{i}@example.com") for i in (2, 3, 4, 7)] == [
        EmailStatus.BOUNCING,
        EmailStatus.BOUNCING,
        EmailStatus.BOUNCING,  # its Original-Recipient, not where it forwards to
        EmailStatus.SUBSCRIBED,
    ]
    assert not Delivery.objects.filter(bounced_at__isnull=False).exists()


@pytest.mark.parametrize(
    "action, code",
    [("delayed", "4.4.1"), ("failed", "4.4.7"), ("delivered", "2.0.0"), ("relayed", "2.0.0")],
)
def test_delays_and_temporary_failures_are_ignored(sent, maildir, action, code):
    maildir.add(dsn(sent["fan5@example.com"], recipients=[("fan5@example.com", action, code)]))

    out = run(maildir._path)

    assert "0 bounce(s), 0 complaint(s), 1 ignored (0 left in the mailbox" in out
    assert status_of("fan5@example.com") == EmailStatus.SUBSCRIBED
    assert delivery_of("fan5@example.com").bounced_at is None
    assert len(maildir) == 0  # a report read to the end: nothing in it to keep


def test_a_feedback_report_is_a_complaint(sent, maildir):
    maildir.add(arf(sent["fan8@example.com"], rcpt_to="fan8@example.com"))

    out = run(maildir._path)

    assert "0 bounce(s), 1 complaint(s)" in out
    assert status_of("fan8@example.com") == EmailStatus.SPAM_COMPLAINT
    assert delivery_of("fan8@example.com").complained_at is not None
    assert len(maildir) == 0


def test_a_redacted_feedback_report_is_matched_by_our_header(sent, maildir):
    returned = sent["fan9@example.com"]
    del returned["To"]
    returned["To"] = "redacted@isp.example"

    maildir.add(arf(returned))
    run(maildir._path)

    assert status_of("fan9@example.com") == EmailStatus.SPAM_COMPLAINT


def test_a_feedback_report_that_is_not_a_complaint_is_ignored(sent, maildir):
    maildir.add(arf(sent["fan8@example.com"], feedback_type="auth-failure", rcpt_to="fan8@example.com"))

    run(maildir._path)

    assert status_of("fan8@example.com") == EmailStatus.SUBSCRIBED


def test_mail_that_is_not_a_report_is_left_for_a_person(sent, maildir):
    reply = MIMEText("I'm out of the office until Monday.")
    reply["From"] = "fan5@example.com"
    reply["Subject"] = "Auto: Hello Fan5"
    key = maildir.add(reply)

    out = run(maildir._path)
    again = run(maildir._path)

    assert "Read 1 message(s): 0 bounce(s), 0 complaint(s), 1 ignored (1 left in the mailbox" in out
    assert again == out
    assert list(maildir.keys()) == [key]
    assert status_of("fan5@example.com") == EmailStatus.SUBSCRIBED


def test_an_mbox_is_left_as_it_is_and_reading_it_again_changes_nothing(sent, tmp_path):
    path = tmp_path / "bounces.mbox"
    box = mailbox.mbox(path)
    box.add(dsn(sent["fan5@example.com"], recipients=[("fan5@example.com", "failed", "5.1.1")]))
    box.add(dsn(recipients=[("fan2@example.com", "failed", "5.1.1")]))
    box.add(arf(sent["fan8@example.com"], rcpt_to="fan8@example.com"))
    box.add(dsn(sent["fan6@example.com"], recipients=[("fan6@example.com", "delayed", "4.2.2")]))
    box.flush()
    box.close()
    before = path.read_bytes()

    first = run(path)
    stamped = delivery_of("fan5@example.com").bounced_at
    activities = Activity.objects.count()
    # An organizer puts a fixed address back; an old report read again must not stop it again.
    email_status_set(address="fan5@example.com", status=EmailStatus.SUBSCRIBED)
    second = run(path)

    assert "Read 4 message(s): 2 bounce(s), 1 complaint(s), 1 ignored" in first
    assert "3 address(es) newly stopped" in first
    assert "0 address(es) newly stopped" in second
    assert path.read_bytes() == before
    assert delivery_of("fan5@example.com").bounced_at == stamped
    assert Activity.objects.count() == activities + 1  # only the organizer's change
    assert status_of("fan5@example.com") == EmailStatus.SUBSCRIBED
    assert status_of("fan2@example.com") == EmailStatus.BOUNCING
    assert status_of("fan8@example.com") == EmailStatus.SPAM_COMPLAINT


def test_a_path_that_is_not_a_mailbox_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="No Maildir or mbox"):
        call_command("mail_bounces", str(tmp_path / "missing"))
