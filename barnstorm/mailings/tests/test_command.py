"""`barnstorm send_mailing ID` starts a send and watches it to the end."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from barnstorm.mailings.models import MailingStatus


def test_it_starts_the_send_and_prints_progress_until_sent(
    supporters, make_mailing, django_capture_on_commit_callbacks
):
    mailing = make_mailing()
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_mailing", str(mailing.pk), "--no-watch", stdout=out)
    call_command("send_mailing", str(mailing.pk), "--interval", "0", stdout=out)

    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT
    assert len(mail.outbox) == 12
    assert "Started mailing" in out.getvalue() and "12 recipients" in out.getvalue()
    assert "sent=12" in out.getvalue()


def test_a_mailing_without_a_target_is_refused(make_mailing):
    mailing = make_mailing(segment=None)
    with pytest.raises(CommandError, match="Choose who to send to"):
        call_command("send_mailing", str(mailing.pk), "--no-watch")


def test_an_unknown_mailing_is_a_clear_error(db):
    with pytest.raises(CommandError, match="no mailing 999"):
        call_command("send_mailing", "999")
