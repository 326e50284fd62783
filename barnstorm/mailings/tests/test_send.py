"""The send pipeline: recipients are taken once, each gets one message, and consent is honoured."""

from django.core import mail

from barnstorm.mailings import services
from barnstorm.mailings.models import Delivery, DeliveryStatus, MailingStatus
from barnstorm.people.models import EmailStatus
from barnstorm.people.services import email_status_set


def send(mailing, organizer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.mailing_start(mailing=mailing, actor=organizer)


def test_it_sends_one_personal_message_to_each_subscribed_member(
    supporters, make_mailing, organizer, django_capture_on_commit_callbacks, settings
):
    settings.MAILING_BATCH_SIZE = 5
    email_status_set(address="fan3@example.com", status=EmailStatus.UNSUBSCRIBED)
    mailing = make_mailing()

    mailing = send(mailing, organizer, django_capture_on_commit_callbacks)

    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT
    assert mailing.recipients == 11
    to = sorted(m.to[0] for m in mail.outbox)
    assert to == sorted(f"fan{i}@example.com" for i in range(12) if i != 3)
    message = next(m for m in mail.outbox if m.to == ["fan7@example.com"])
    assert message.subject == "Hello Fan7"
    assert "Hi Fan7!" in message.alternatives[0][0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith("<http://")
    assert "PO Box 27" in message.body  # the organization's postal address
    assert set(Delivery.objects.filter(mailing=mailing).values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_starting_twice_sends_nothing_twice(supporters, make_mailing, organizer, django_capture_on_commit_callbacks):
    mailing = make_mailing()
    send(mailing, organizer, django_capture_on_commit_callbacks)
    send(mailing, organizer, django_capture_on_commit_callbacks)
    services.batches_enqueue(mailing_id=mailing.pk)

    assert len(mail.outbox) == 12
    assert Delivery.objects.filter(mailing=mailing).count() == 12


def test_tracked_links_hide_the_destination_and_text_part_is_made_from_html(
    supporters, make_mailing, organizer, django_capture_on_commit_callbacks
):
    mailing = make_mailing()
    send(mailing, organizer, django_capture_on_commit_callbacks)

    message = mail.outbox[0]
    html = message.alternatives[0][0]
    assert "news.example.org" not in html
    assert "/m/c/" in html and "/m/o/" in html
    assert "Give (http://127.0.0.1:8000/m/c/" in message.body
    assert list(mailing.links.values_list("url", flat=True)) == [
        "http://127.0.0.1:8000/donate/main/",
        "https://news.example.org/story",
    ]


def test_an_unsubscribe_during_the_send_stops_the_messages_not_yet_sent(supporters, make_mailing, organizer, settings):
    settings.MAILING_BATCH_SIZE = 100
    mailing = make_mailing()
    services.mailing_start(mailing=mailing, actor=organizer)  # batches not run: on_commit not executed
    first = Delivery.objects.filter(mailing=mailing).order_by("id").first()
    email_status_set(address="fan9@example.com", status=EmailStatus.BOUNCING)

    result = services.batch_send(mailing_id=mailing.pk, first_id=first.pk, last_id=first.pk + 100)

    assert (result.sent, result.suppressed) == (11, 1)
    assert "fan9@example.com" not in {m.to[0] for m in mail.outbox}
    assert Delivery.objects.get(mailing=mailing, address="fan9@example.com").status == DeliveryStatus.SUPPRESSED


def test_exclusions_and_topic_opt_outs_are_left_out(
    supporters, make_mailing, organizer, iowa, django_capture_on_commit_callbacks
):
    from barnstorm.mailings.models import Topic, TopicOptOut
    from barnstorm.people.services import person_tag_add
    from barnstorm.segments.services import segment_save

    person_tag_add(person=supporters[0], name="staff")
    staff = segment_save(name="Staff", query={"type": "has_tag", "tag": "staff"}, actor=organizer)
    topic = Topic.objects.create(name="Fundraising")
    TopicOptOut.objects.create(person=supporters[1], topic=topic)
    mailing = make_mailing(topic=topic)
    mailing.exclusions.set([staff])

    send(mailing, organizer, django_capture_on_commit_callbacks)

    to = {m.to[0] for m in mail.outbox}
    assert len(to) == 10
    assert "fan0@example.com" not in to and "fan1@example.com" not in to


def test_a_paused_send_resumes_where_it_stopped(
    supporters, make_mailing, organizer, django_capture_on_commit_callbacks
):
    mailing = make_mailing()
    services.mailing_start(mailing=mailing, actor=organizer)
    services.mailing_pause(mailing=mailing, actor=organizer)
    first = Delivery.objects.filter(mailing=mailing).order_by("id").first().pk

    assert services.batch_send(mailing_id=mailing.pk, first_id=first, last_id=first + 100).sent == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.mailing_resume(mailing=mailing, actor=organizer)

    assert len(mail.outbox) == 12
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT


def test_a_stopped_send_sends_nobody_else(supporters, make_mailing, organizer):
    mailing = make_mailing()
    services.mailing_start(mailing=mailing, actor=organizer)
    services.mailing_stop(mailing=mailing, actor=organizer)
    services.batches_enqueue(mailing_id=mailing.pk)

    assert mail.outbox == []
    assert Delivery.objects.filter(mailing=mailing, status=DeliveryStatus.CANCELLED).count() == 12


def test_rows_a_dead_worker_claimed_are_sent_after_the_lease(supporters, make_mailing, organizer, settings):
    settings.MAILING_LEASE_SECONDS = 60
    mailing = make_mailing()
    services.mailing_start(mailing=mailing, actor=organizer)
    # A worker claimed three rows and died before sending them.
    dead = list(Delivery.objects.filter(mailing=mailing).order_by("id")[:3].values_list("pk", flat=True))
    from datetime import timedelta

    from django.utils import timezone

    long_ago = timezone.now() - timedelta(minutes=5)
    Delivery.objects.filter(pk__in=dead).update(status=DeliveryStatus.SENDING, claimed_at=long_ago)
    from barnstorm.mailings.models import Mailing

    Mailing.objects.filter(pk=mailing.pk).update(heartbeat_at=long_ago)

    queued = services.mailings_recover()

    assert queued >= 1
    assert len(mail.outbox) == 12
    assert len({m.to[0] for m in mail.outbox}) == 12
