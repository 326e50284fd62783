"""Provider webhooks, end to end through django-anymail's real Postmark tracking URL."""

import base64
import json

import pytest
from django.core import mail
from django.urls import reverse

from barnstorm.mailings import services
from barnstorm.mailings.models import Delivery
from barnstorm.people.models import EmailAddress, EmailStatus
from barnstorm.people.services import email_status_set

WEBHOOK = reverse("anymail:postmark_tracking_webhook")


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "postmark:s3cret-hook"}


@pytest.fixture
def sent(supporters, make_mailing, organizer, django_capture_on_commit_callbacks):
    mailing = make_mailing()
    with django_capture_on_commit_callbacks(execute=True):
        services.mailing_start(mailing=mailing, actor=organizer)
    mail.outbox.clear()
    return {d.address: d for d in Delivery.objects.filter(mailing=mailing)}


def post(client, payload, auth="postmark:s3cret-hook"):
    return client.post(
        WEBHOOK,
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(auth.encode()).decode(),
    )


def bounce(address, *, delivery=None, type_="HardBounce"):
    """A Postmark bounce webhook, as documented (trimmed to the fields anymail reads and a few more)."""
    return {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": type_,
        "TypeCode": 1,
        "Name": "Hard bounce",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "MessageStream": "outbound",
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": address,
        "From": "team@barnstorm.test",
        "BouncedAt": "2025-05-01T12:00:00Z",
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Hello",
        "Metadata": {"delivery": str(delivery.pk)} if delivery else {},
    }


def complaint(address, *, delivery):
    return {
        **bounce(address, delivery=delivery),
        "RecordType": "SpamComplaint",
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
    }


def status_of(address):
    return EmailAddress.objects.get(address=address).status


def test_a_bounce_stops_the_address_and_is_counted_on_its_delivery(
    client, sent, make_mailing, organizer, django_capture_on_commit_callbacks
):
    delivery = sent["fan5@example.com"]

    response = post(client, bounce("fan5@example.com", delivery=delivery))

    assert response.status_code == 200
    assert status_of("fan5@example.com") == EmailStatus.BOUNCING
    delivery.refresh_from_db()
    assert delivery.bounced_at is not None

    with django_capture_on_commit_callbacks(execute=True):
        services.mailing_start(mailing=make_mailing(), actor=organizer)
    to = {m.to[0] for m in mail.outbox}
    assert "fan5@example.com" not in to and len(to) == 11


def test_a_spam_complaint_stops_the_address_and_is_counted_on_its_delivery(client, sent):
    delivery = sent["fan8@example.com"]

    post(client, complaint("Fan8@Example.com", delivery=delivery))

    assert status_of("fan8@example.com") == EmailStatus.SPAM_COMPLAINT
    delivery.refresh_from_db()
    assert delivery.complained_at is not None and delivery.bounced_at is None


def test_an_event_without_our_metadata_still_stops_the_address(client, sent):
    post(client, bounce("fan2@example.com"))

    assert status_of("fan2@example.com") == EmailStatus.BOUNCING
    assert not Delivery.objects.filter(bounced_at__isnull=False).exists()


def test_a_suppressed_unsubscribe_is_recorded_as_an_unsubscribe(client, sent):
    delivery = sent["fan9@example.com"]
    payload = {
        "RecordType": "SubscriptionChange",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Recipient": "fan9@example.com",
        "SuppressSending": True,
        "SuppressionReason": "ManualSuppression",
        "ChangedAt": "2025-05-01T12:00:00Z",
        "Metadata": {"delivery": str(delivery.pk)},
    }

    post(client, payload)

    assert status_of("fan9@example.com") == EmailStatus.UNSUBSCRIBED
    delivery.refresh_from_db()
    assert delivery.unsubscribed_at is not None


def test_opens_and_deliveries_change_nothing(client, sent):
    delivery = sent["fan1@example.com"]
    for record_type in ("Delivery", "Open"):
        post(client, {**bounce("fan1@example.com", delivery=delivery), "RecordType": record_type})

    assert status_of("fan1@example.com") == EmailStatus.SUBSCRIBED


def test_a_webhook_without_the_secret_is_refused(client, sent):
    response = post(client, bounce("fan5@example.com"), auth="postmark:guess")
    unsigned = client.post(WEBHOOK, data=json.dumps(bounce("fan5@example.com")), content_type="application/json")

    assert response.status_code == 400 and unsigned.status_code == 400
    assert status_of("fan5@example.com") == EmailStatus.SUBSCRIBED


def test_odd_metadata_is_ignored_not_an_error(client, sent):
    payload = {**bounce("fan5@example.com"), "Metadata": {"delivery": "²"}}

    assert post(client, payload).status_code == 200
    assert status_of("fan5@example.com") == EmailStatus.BOUNCING


def mailjet(client, address, *, delivery, event, error=None):
    payload = {
        "event": event,
        "time": 1746100800,
        "MessageID": 19421777835146490,
        "email": address,
        "mj_campaign_id": 7257,
        "mj_contact_id": 4,
        "customcampaign": "",
        "Payload": json.dumps({"delivery": str(delivery.pk)}),  # the message's metadata, as anymail sent it
    }
    if error:
        payload.update(error_related_to="recipient", error=error)
    return client.post(
        reverse("anymail:mailjet_tracking_webhook"),
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"postmark:s3cret-hook").decode(),
    )


@pytest.mark.parametrize(
    "error, status, stamp",
    [
        ("user unknown", EmailStatus.BOUNCING, "bounced_at"),
        ("spam reporter", EmailStatus.SPAM_COMPLAINT, "complained_at"),
    ],
)
def test_a_refusal_for_the_address_stops_it(client, sent, error, status, stamp):
    delivery = sent["fan10@example.com"]

    assert mailjet(client, "fan10@example.com", delivery=delivery, event="blocked", error=error).status_code == 200

    assert status_of("fan10@example.com") == status
    delivery.refresh_from_db()
    assert getattr(delivery, stamp) is not None


@pytest.mark.parametrize("error", ["content blocked", "sender blocked", "policy issue", "duplicate in campaign"])
def test_a_refusal_for_our_content_or_sending_leaves_the_address_alone(client, sent, error):
    """One content-filter refusal per recipient must not stop mail to the whole list."""
    delivery = sent["fan10@example.com"]

    mailjet(client, "fan10@example.com", delivery=delivery, event="blocked", error=error)

    assert status_of("fan10@example.com") == EmailStatus.SUBSCRIBED
    delivery.refresh_from_db()
    assert delivery.bounced_at is None


# An address only moves towards a more final status ------------------------------------------------

SUBSCRIBED, UNSUBSCRIBED = EmailStatus.SUBSCRIBED, EmailStatus.UNSUBSCRIBED
BOUNCING, SPAM_COMPLAINT = EmailStatus.BOUNCING, EmailStatus.SPAM_COMPLAINT
STAMP = {"unsubscribed": "unsubscribed_at", "bounced": "bounced_at", "complained": "complained_at"}


@pytest.mark.parametrize(
    "before, event, after",
    [
        (SUBSCRIBED, "unsubscribed", UNSUBSCRIBED),
        (SUBSCRIBED, "bounced", BOUNCING),
        (SUBSCRIBED, "complained", SPAM_COMPLAINT),
        (UNSUBSCRIBED, "unsubscribed", UNSUBSCRIBED),
        (UNSUBSCRIBED, "bounced", BOUNCING),
        (UNSUBSCRIBED, "complained", SPAM_COMPLAINT),
        (BOUNCING, "unsubscribed", BOUNCING),
        (BOUNCING, "bounced", BOUNCING),
        (BOUNCING, "complained", SPAM_COMPLAINT),
        (SPAM_COMPLAINT, "unsubscribed", SPAM_COMPLAINT),
        (SPAM_COMPLAINT, "bounced", SPAM_COMPLAINT),
        (SPAM_COMPLAINT, "complained", SPAM_COMPLAINT),
    ],
)
def test_an_event_only_moves_an_address_to_a_more_final_status(sent, before, event, after):
    """An unsubscribe never changes a bounce or a complaint, a bounce never changes a complaint,
    a complaint always applies; the delivery records the event for the mailing's results either way."""
    delivery = sent["fan5@example.com"]
    email_status_set(address="fan5@example.com", status=before)

    changed = services.email_event_record(address="fan5@example.com", event=event, delivery_id=delivery.pk)

    assert status_of("fan5@example.com") == after
    assert changed == (1 if after != before else 0)
    delivery.refresh_from_db()
    assert getattr(delivery, STAMP[event]) is not None


def test_a_late_bounce_does_not_undo_a_spam_complaint(client, sent):
    delivery = sent["fan8@example.com"]

    post(client, complaint("fan8@example.com", delivery=delivery))
    post(client, bounce("fan8@example.com", delivery=delivery))

    assert status_of("fan8@example.com") == EmailStatus.SPAM_COMPLAINT
