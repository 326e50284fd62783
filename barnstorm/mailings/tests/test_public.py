"""What a recipient reaches from a message: the open pixel, tracked links, unsubscribe, preferences."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from barnstorm.activity.models import Activity
from barnstorm.mailings import services
from barnstorm.mailings.models import Delivery, Link, Topic, TopicOptOut
from barnstorm.mailings.tracking import delivery_id_from, delivery_token
from barnstorm.people.models import EmailAddress, EmailStatus
from barnstorm.people.services import email_status_set


@pytest.fixture
def send(organizer, django_capture_on_commit_callbacks):
    def send(mailing):
        with django_capture_on_commit_callbacks(execute=True):
            services.mailing_start(mailing=mailing, actor=organizer)
        return {d.address: d for d in Delivery.objects.filter(mailing=mailing)}

    return send


@pytest.fixture
def mailing(supporters, make_mailing):
    return make_mailing()


@pytest.fixture
def deliveries(mailing, send):
    return send(mailing)


def url(name, delivery, *extra):
    return reverse(f"mailings:{name}", args=[delivery_token(delivery.pk), *extra])


def status_of(address):
    return EmailAddress.objects.get(address=address).status


# Open pixel ---------------------------------------------------------------------------------


def test_the_open_pixel_records_the_first_open_only(client, deliveries, django_assert_num_queries):
    delivery = deliveries["fan2@example.com"]

    first = client.get(url("open", delivery))
    delivery.refresh_from_db()
    opened_at = delivery.opened_at
    with django_assert_num_queries(1):  # a repeat open is one UPDATE that matches nothing
        again = client.get(url("open", delivery))

    for response in (first, again):
        assert response.status_code == 200
        assert response["Content-Type"] == "image/gif"
        assert response.content.startswith(b"GIF89a")
        assert "no-cache" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert opened_at is not None
    delivery.refresh_from_db()
    assert delivery.opened_at == opened_at
    assert Activity.objects.filter(person_id=delivery.person_id, kind="email_opened").count() == 1


@pytest.mark.parametrize("token", ["1-AAAAAAAAAAAAAAAA", "nonsense", "1-é", "²-x"])
def test_a_bad_token_still_gets_the_pixel_and_records_nothing(client, deliveries, token):
    response = client.get(reverse("mailings:open", args=[token]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert not Delivery.objects.filter(opened_at__isnull=False).exists()
    assert not Activity.objects.filter(kind="email_opened").exists()


@pytest.mark.parametrize("token", ["²-x", "1-é", "١-x", "é", "1-AAAAAAAAAAAAAAAé"])
def test_a_token_with_non_ascii_characters_names_no_delivery(token):
    """The URL lets any characters through: they must mean "not ours", not a server error."""
    assert delivery_id_from(token) is None


def test_a_token_names_the_delivery_it_was_made_for():
    assert delivery_id_from(delivery_token(1234)) == 1234


# Clicks -------------------------------------------------------------------------------------


def test_a_click_on_a_barnstorm_link_redirects_with_the_variant_refcode(client, mailing, deliveries):
    delivery = deliveries["fan4@example.com"]

    response = client.get(url("click", delivery, 0))

    assert response.status_code == 302
    assert response["Location"] == f"http://127.0.0.1:8000/donate/main/?refcode=mail-{mailing.pk}-a"
    delivery.refresh_from_db()
    assert delivery.clicked_at is not None and delivery.opened_at is not None
    assert Link.objects.get(mailing=mailing, index=0).clicks == 1
    activity = Activity.objects.get(person_id=delivery.person_id, kind="email_clicked")
    assert activity.data["url"] == "http://127.0.0.1:8000/donate/main/"


def test_a_click_on_another_sites_link_redirects_to_it_unchanged(client, mailing, deliveries):
    response = client.get(url("click", deliveries["fan4@example.com"], 1))

    assert response.status_code == 302
    assert response["Location"] == "https://news.example.org/story"
    assert Link.objects.get(mailing=mailing, index=1).clicks == 1


def test_a_click_on_a_link_that_was_not_in_the_mailing_is_not_found(client, supporters, make_mailing, send):
    first = send(make_mailing())
    second = make_mailing(
        html_body='<a href="https://a.example.org/">a</a><a href="https://b.example.org/">b</a>'
        '<a href="https://evil.example.org/">c</a>'
    )
    services.mailing_start(mailing=second, actor=None)  # its Link rows 0–2 exist, sent or not
    delivery = first["fan4@example.com"]

    assert client.get(url("click", delivery, 2)).status_code == 404  # index 2 is only in the other mailing
    assert client.get(url("click", delivery, 99)).status_code == 404
    assert not Link.objects.filter(clicks__gt=0).exists()


@pytest.mark.parametrize("name", ["click", "unsubscribe", "preferences"])
def test_a_forged_token_is_not_found(client, deliveries, name):
    delivery = deliveries["fan4@example.com"]
    forged = f"{delivery.pk}-{delivery_token(delivery.pk + 1).partition('-')[2]}"  # another delivery's MAC
    extra = [0] if name == "click" else []

    for token in (forged, f"{delivery.pk}", "1-é"):
        assert client.get(reverse(f"mailings:{name}", args=[token, *extra])).status_code == 404
    assert client.post(reverse("mailings:unsubscribe", args=[forged])).status_code == 404
    assert status_of("fan4@example.com") == EmailStatus.SUBSCRIBED


# Unsubscribe --------------------------------------------------------------------------------


def test_opening_the_unsubscribe_link_only_asks(client, deliveries):
    delivery = deliveries["fan6@example.com"]

    response = client.get(url("unsubscribe", delivery))

    assert response.status_code == 200
    assert b"fan6@example.com" in response.content
    assert b'<form method="post"' in response.content
    assert status_of("fan6@example.com") == EmailStatus.SUBSCRIBED
    delivery.refresh_from_db()
    assert delivery.unsubscribed_at is None


def test_the_button_unsubscribes_at_once(client, deliveries):
    delivery = deliveries["fan6@example.com"]

    response = client.post(url("unsubscribe", delivery))

    assert response.status_code == 200
    assert "You're unsubscribed" in response.content.decode()
    assert b"fan6@example.com" in response.content
    assert url("preferences", delivery).encode() in response.content
    assert status_of("fan6@example.com") == EmailStatus.UNSUBSCRIBED


def test_a_one_click_unsubscribe_from_a_mail_program_needs_no_csrf_token(deliveries):
    """RFC 8058: the mail program POSTs the header's address with this body, and no cookies."""
    message = next(m for m in mail.outbox if m.to == ["fan7@example.com"])
    address = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    mail_program = Client(enforce_csrf_checks=True)

    response = mail_program.post(
        address.removeprefix("http://127.0.0.1:8000"),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert status_of("fan7@example.com") == EmailStatus.UNSUBSCRIBED
    delivery = deliveries["fan7@example.com"]
    delivery.refresh_from_db()
    assert delivery.unsubscribed_at is not None
    assert Activity.objects.get(person_id=delivery.person_id, kind="email_status").data["mailing"] == (
        delivery.mailing_id
    )


# Preferences --------------------------------------------------------------------------------


@pytest.fixture
def topics(db):
    return {name: Topic.objects.create(name=name) for name in ("Events", "Fundraising", "News")}


def test_preferences_show_the_address_its_status_and_the_topics_it_gets(client, deliveries, topics):
    delivery = deliveries["fan3@example.com"]
    TopicOptOut.objects.create(person_id=delivery.person_id, topic=topics["News"])

    response = client.get(url("preferences", delivery))

    assert response.status_code == 200
    assert response.context["address"] == "fan3@example.com"
    assert response.context["status"] == EmailStatus.SUBSCRIBED
    html = response.content.decode()
    checked = {int(v) for v in re.findall(r'<input type="checkbox" name="topics" value="(\d+)"[^>]*checked', html)}
    assert checked == {topics["Events"].pk, topics["Fundraising"].pk}
    assert "Subscribed" in html and "Unsubscribe from everything" in html
    assert "Send me email again" not in html  # only offered to an unsubscribed address


def test_a_topic_opt_out_keeps_the_person_out_of_that_topics_mailings(client, deliveries, topics, make_mailing, send):
    delivery = deliveries["fan3@example.com"]
    wanted = [topics["Events"].pk, topics["News"].pk]

    response = client.post(url("preferences", delivery), {"topics": wanted, "save": ""})

    assert response.status_code == 302
    assert set(TopicOptOut.objects.filter(person_id=delivery.person_id).values_list("topic__name", flat=True)) == {
        "Fundraising"
    }
    activity = Activity.objects.get(person_id=delivery.person_id, kind="email_topics")
    assert activity.data["opted_out"] == ["Fundraising"]
    assert activity.data["wanted"] == ["Events", "News"]

    mail.outbox.clear()
    send(make_mailing(topic=topics["Fundraising"]))
    fundraising = {m.to[0] for m in mail.outbox}
    mail.outbox.clear()
    send(make_mailing(topic=topics["News"]))
    news = {m.to[0] for m in mail.outbox}

    assert "fan3@example.com" not in fundraising and len(fundraising) == 11
    assert "fan3@example.com" in news


def test_checking_a_topic_again_opts_back_in_and_saving_nothing_new_records_nothing(client, deliveries, topics):
    delivery = deliveries["fan3@example.com"]
    TopicOptOut.objects.create(person_id=delivery.person_id, topic=topics["News"])
    everything = [t.pk for t in topics.values()]

    client.post(url("preferences", delivery), {"topics": everything})
    client.post(url("preferences", delivery), {"topics": everything})

    assert not TopicOptOut.objects.filter(person_id=delivery.person_id).exists()
    assert Activity.objects.filter(person_id=delivery.person_id, kind="email_topics").count() == 1


def test_unsubscribe_from_everything_on_the_preferences_page(client, deliveries, topics):
    delivery = deliveries["fan3@example.com"]

    response = client.post(url("preferences", delivery), {"everything": "1"}, follow=True)

    assert status_of("fan3@example.com") == EmailStatus.UNSUBSCRIBED
    html = response.content.decode()
    assert "You&#x27;re unsubscribed from all our email." in html
    assert "Send me email again" in html


def test_an_unsubscribed_person_comes_back_only_by_asking(client, deliveries, topics):
    delivery = deliveries["fan3@example.com"]
    email_status_set(address="fan3@example.com", status=EmailStatus.UNSUBSCRIBED)
    everything = [t.pk for t in topics.values()]

    client.post(url("preferences", delivery), {"topics": everything})
    assert status_of("fan3@example.com") == EmailStatus.UNSUBSCRIBED

    client.post(url("preferences", delivery), {"topics": everything, "resubscribe": "on"})
    assert status_of("fan3@example.com") == EmailStatus.SUBSCRIBED


@pytest.mark.parametrize("status", [EmailStatus.BOUNCING, EmailStatus.SPAM_COMPLAINT])
def test_a_bouncing_or_complained_address_cannot_be_resubscribed(client, deliveries, topics, status):
    delivery = deliveries["fan3@example.com"]
    email_status_set(address="fan3@example.com", status=status)

    page = client.get(url("preferences", delivery)).content.decode()
    client.post(url("preferences", delivery), {"resubscribe": "on"})

    assert "Send me email again" not in page
    assert status_of("fan3@example.com") == status


@pytest.mark.parametrize("status", [EmailStatus.BOUNCING, EmailStatus.SPAM_COMPLAINT])
def test_unsubscribing_does_not_open_a_way_back_for_a_bouncing_or_complained_address(client, deliveries, status):
    delivery = deliveries["fan3@example.com"]
    email_status_set(address="fan3@example.com", status=status)

    client.post(url("unsubscribe", delivery))
    client.post(url("preferences", delivery), {"everything": "1"})
    client.post(url("preferences", delivery), {"resubscribe": "on"})

    assert status_of("fan3@example.com") == status


@pytest.mark.parametrize("status", [EmailStatus.BOUNCING, EmailStatus.SPAM_COMPLAINT])
def test_an_unsubscribe_leaves_a_bouncing_or_complained_address_but_counts_for_the_mailing(deliveries, status):
    delivery = deliveries["fan3@example.com"]
    email_status_set(address="fan3@example.com", status=status)

    services.delivery_unsubscribe(delivery=delivery)

    assert status_of("fan3@example.com") == status
    assert not Activity.objects.filter(kind="email_status", data__status="unsubscribed").exists()
    delivery.refresh_from_db()
    assert delivery.unsubscribed_at is not None


def test_only_an_unsubscribed_address_is_resubscribed(deliveries):
    email_status_set(address="fan3@example.com", status=EmailStatus.UNSUBSCRIBED)
    email_status_set(address="fan4@example.com", status=EmailStatus.BOUNCING)

    assert services.email_resubscribe(address="Fan3@Example.com") is True
    assert services.email_resubscribe(address="fan4@example.com") is False
    assert services.email_resubscribe(address="fan5@example.com") is False  # subscribed already

    assert status_of("fan3@example.com") == EmailStatus.SUBSCRIBED
    assert status_of("fan4@example.com") == EmailStatus.BOUNCING


def test_topics_that_do_not_exist_are_ignored(deliveries, topics):
    person = deliveries["fan3@example.com"].person

    changed = services.person_topics_set(person=person, wanted_topic_ids=[topics["News"].pk, 999_999])

    assert changed is True
    assert set(TopicOptOut.objects.filter(person_id=person.pk).values_list("topic__name", flat=True)) == {
        "Events",
        "Fundraising",
    }


def test_the_preferences_form_is_csrf_protected(deliveries, topics):
    delivery = deliveries["fan3@example.com"]
    browser = Client(enforce_csrf_checks=True)

    forged = browser.post(url("preferences", delivery), {"everything": "1"})
    page = browser.get(url("preferences", delivery))
    token = page.context["csrf_token"]
    real = browser.post(url("preferences", delivery), {"everything": "1", "csrfmiddlewaretoken": str(token)})

    assert forged.status_code == 403
    assert real.status_code == 302
    assert status_of("fan3@example.com") == EmailStatus.UNSUBSCRIBED
