"""Supporters sign in with an emailed link: signed, short-lived, single-use, telling nothing."""

import re
import time

import pytest
from django.core import mail, signing
from django.urls import reverse

from barnstorm.accounts import magic
from barnstorm.accounts.models import Role, User
from barnstorm.people.models import Person

pytestmark = pytest.mark.django_db


def ask(client, email, next_url="", ip="10.0.0.1"):
    data = {"email": email, **({"next": next_url} if next_url else {})}
    return client.post(reverse("accounts:magic_start"), data, REMOTE_ADDR=ip)


def link_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/sign-in/[^\s]+/)", message.body).group(1)


def test_a_known_supporter_gets_a_link_that_signs_them_in_as_a_volunteer(client, make_person):
    person = make_person(email="ann@example.com")
    response = ask(client, "Ann@Example.com ")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:magic_sent")
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    path = link_path(mail.outbox[0])

    page = client.get(path)  # a mail scanner opening the link uses nothing up
    assert page.status_code == 200 and "ann@example.com" in page.content.decode()
    assert "_auth_user_id" not in client.session

    response = client.post(path)
    assert response.status_code == 302
    user = User.objects.get(person=person)
    assert user.role == Role.VOLUNTEER and not user.has_usable_password() and user.email == "ann@example.com"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_an_unknown_address_gets_the_same_answer_and_becomes_a_person_only_when_the_link_is_opened(client, make_person):
    make_person(email="known@example.com")
    known, unknown = ask(client, "known@example.com"), ask(client, "new@example.com")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 2 and "/sign-in/" in mail.outbox[1].body
    assert not Person.objects.filter(emails__address="new@example.com").exists()

    client.post(link_path(mail.outbox[1]))
    person = Person.objects.get(emails__address="new@example.com")
    assert User.objects.get(person=person).pk == int(client.session["_auth_user_id"])
    assert person.activities.filter(kind="signup").count() == 1


def test_a_link_works_once(client, make_person):
    make_person(email="ann@example.com")
    ask(client, "ann@example.com")
    path = link_path(mail.outbox[0])
    assert client.post(path).status_code == 302
    client.logout()
    again = client.post(path)
    assert again.status_code == 400 and "_auth_user_id" not in client.session
    assert client.get(path).status_code == 400


def test_a_link_for_an_existing_account_works_once_too(client, make_person):
    person = make_person(email="ann@example.com")
    user = User.objects.create_user("ann", "ann@example.com", role=Role.VOLUNTEER, person=person)
    ask(client, "ann@example.com")
    ask(client, "ann@example.com")
    first, second = link_path(mail.outbox[0]), link_path(mail.outbox[1])
    assert client.post(first).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    client.logout()
    # Signing in moved the last login: every link sent before it is spent.
    assert client.post(second).status_code == 400


def test_of_two_racing_uses_only_one_signs_in(client, make_person, monkeypatch):
    person = make_person(email="ann@example.com")
    User.objects.create_user("ann", "ann@example.com", role=Role.VOLUNTEER, person=person)
    magic.magic_link_request(email="ann@example.com", ip="10.0.0.1")
    token = link_path(mail.outbox[0]).split("/")[2]
    # The second request read the account before the first one moved its last login.
    stale = magic._current_account(magic._load(token))
    magic.magic_link_redeem(token=token)
    monkeypatch.setattr(magic, "_current_account", lambda payload: stale)
    with pytest.raises(magic.LinkInvalid):
        magic.magic_link_redeem(token=token)


def test_a_link_expires(client, make_person, monkeypatch):
    make_person(email="ann@example.com")
    ask(client, "ann@example.com")
    path = link_path(mail.outbox[0])
    later = time.time() + magic.LINK_MAX_AGE + 1
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert client.post(path).status_code == 400
    assert "_auth_user_id" not in client.session


def test_a_tampered_link_is_refused(client, make_person):
    make_person(email="ann@example.com")
    ask(client, "ann@example.com")
    path = link_path(mail.outbox[0])
    forged = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    assert client.post(forged).status_code == 400


def test_the_link_returns_to_the_page_asked_for_but_never_off_site(client, make_person):
    make_person(email="ann@example.com")
    ask(client, "ann@example.com", next_url="/events/host/")
    assert client.post(link_path(mail.outbox[0]))["Location"] == "/events/host/"
    client.logout()
    ask(client, "ann@example.com", next_url="https://evil.example/")
    assert client.post(link_path(mail.outbox[1]))["Location"] == reverse("accounts:root")


def test_staff_get_no_link_and_a_forged_one_would_not_work(client, organizer, make_person):
    person = make_person(email="olivia@campaign.test")
    User.objects.filter(pk=organizer.pk).update(person=person)
    assert ask(client, "olivia@campaign.test")["Location"] == reverse("accounts:magic_sent")
    assert "/sign-in/" not in mail.outbox[0].body and "password" in mail.outbox[0].body
    organizer.refresh_from_db()
    token = signing.dumps(
        {"e": "olivia@campaign.test", "u": organizer.pk, "f": magic._fingerprint(organizer), "n": ""},
        salt=magic.SALT,
        compress=True,
    )
    assert client.post(reverse("accounts:magic_open", args=[token])).status_code == 400
    assert "_auth_user_id" not in client.session


def test_an_inactive_account_is_not_signed_in(client, make_person):
    person = make_person(email="ann@example.com")
    User.objects.create_user("ann", "ann@example.com", role=Role.VOLUNTEER, person=person, is_active=False)
    ask(client, "ann@example.com")
    assert client.post(link_path(mail.outbox[0])).status_code == 400


def test_one_address_gets_a_few_links_an_hour_and_the_page_does_not_say_so(client, make_person):
    make_person(email="ann@example.com")
    answers = [ask(client, "ann@example.com") for _ in range(magic.PER_ADDRESS_LIMIT + 2)]
    assert len(mail.outbox) == magic.PER_ADDRESS_LIMIT
    assert {(a.status_code, a["Location"]) for a in answers} == {(302, reverse("accounts:magic_sent"))}


def test_one_network_is_refused_after_its_limit(client, monkeypatch):
    monkeypatch.setattr(magic, "PER_IP_LIMIT", 3)
    answers = [ask(client, f"p{n}@example.com", ip="10.9.9.9").status_code for n in range(4)]
    assert answers == [302, 302, 302, 429]
    assert ask(client, "p9@example.com", ip="10.9.9.10").status_code == 302
    assert len(mail.outbox) == 4


def test_a_malformed_address_is_refused_by_the_form(client):
    response = ask(client, "not-an-address")
    assert response.status_code == 400 and not mail.outbox
