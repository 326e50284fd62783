"""The volunteer's side of a phone bank: join, take a batch, call from the script, record, stop."""

import re

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from barnstorm.accounts.models import Role, User
from barnstorm.field import selectors_volunteer, services
from barnstorm.field.models import (
    Answer,
    Attempt,
    CampaignStatus,
    Contact,
    ContactStatus,
    Disposition,
    FieldCampaign,
    Step,
)
from barnstorm.field.services import contacts_held, contacts_lease

CONTACT_ID = re.compile(r'data-contact-id="(\d+)"')


@pytest.fixture
def phone_bank(callable_people, make_campaign):
    return make_campaign("phone")


def _steps(script):
    return {step.name or "intro": step for step in script.steps.all()}


def _choice(step, label):
    return step.choices.get(label=label).pk


def _call_url(campaign, contact):
    return reverse("field:call", args=[campaign.pk, contact.pk])


def _named(campaign, name, **changes):
    FieldCampaign.objects.filter(pk=campaign.pk).update(name=name, **changes)
    return campaign


def _take_batch(client, campaign):
    response = client.post(reverse("field:batch", args=[campaign.pk]))
    assert response.status_code == 302
    return response


# Who may see what --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "method", "with_contact"),
    [
        ("field:home", "get", False),
        ("field:campaign", "get", False),
        ("field:batch", "post", False),
        ("field:batch", "get", False),
        ("field:release", "post", False),
        ("field:call", "get", True),
        ("field:call", "post", True),
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in(client, phone_bank, name, method, with_contact):
    contact = phone_bank.contacts.first()
    args = [] if name == "field:home" else [phone_bank.pk] + ([contact.pk] if with_contact else [])
    url = reverse(name, args=args)

    response = getattr(client, method)(url, {"disposition": "reached"} if method == "post" else None)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:magic_start") + "?next=")
    assert not Contact.objects.filter(status=ContactStatus.LEASED).exists()
    assert not Attempt.objects.exists()


def test_a_volunteer_cannot_open_or_record_a_contact_leased_to_another(vera_client, phone_bank, make_volunteer):
    other = make_volunteer("otto")
    theirs = contacts_lease(campaign=phone_bank, volunteer=other, count=1).contacts[0]

    assert vera_client.get(_call_url(phone_bank, theirs)).status_code == 404
    response = vera_client.post(_call_url(phone_bank, theirs), {"disposition": "reached"})

    assert response.status_code == 404
    assert not Attempt.objects.exists()
    assert Contact.objects.get(pk=theirs.pk).leased_to == other


def test_a_contact_nobody_holds_is_not_found_either(vera_client, phone_bank):
    waiting = phone_bank.contacts.first()

    assert vera_client.get(_call_url(phone_bank, waiting)).status_code == 404


def test_a_contact_is_not_found_under_another_campaign(vera_client, vera, callable_people, make_campaign):
    first, second = make_campaign("phone"), make_campaign("phone")
    mine = contacts_lease(campaign=first, volunteer=vera, count=1).contacts[0]

    assert vera_client.get(_call_url(second, mine)).status_code == 404


def test_drafts_and_other_kinds_of_campaign_are_not_phone_banks(vera_client, callable_people, make_campaign):
    draft = make_campaign("phone", launch=False)
    texting = make_campaign("text")

    for campaign in (draft, texting):
        assert vera_client.get(reverse("field:campaign", args=[campaign.pk])).status_code == 404
        assert vera_client.post(reverse("field:batch", args=[campaign.pk])).status_code == 404


# Joining -----------------------------------------------------------------------------------


def test_the_list_shows_active_phone_banks_only_with_contacts_left(vera_client, callable_people, make_campaign):
    open_bank = _named(make_campaign("phone"), "Call Iowa")
    _named(make_campaign("phone", launch=False), "Not launched")
    _named(make_campaign("phone"), "On a break", status=CampaignStatus.PAUSED)
    texting = _named(make_campaign("text"), "Texting Iowa")

    response = vera_client.get(reverse("field:home"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Call Iowa" in page and reverse("field:campaign", args=[open_bank.pk]) in page
    assert "Not launched" not in page and "On a break" not in page
    # Texting is listed too (test_links.py), but under its own link, not as a phone bank.
    assert f'href="{reverse("field:campaign", args=[texting.pk])}"' not in page
    assert "30 people left to call" in page


def test_a_big_list_says_plenty_instead_of_counting(vera_client, phone_bank, monkeypatch):
    monkeypatch.setattr(selectors_volunteer, "PLENTY", 10)

    response = vera_client.get(reverse("field:home"))

    assert "Plenty of people left to call" in response.content.decode()


def test_the_list_of_phone_banks_does_not_grow_in_queries(
    vera_client, callable_people, make_campaign, phone_bank_party
):
    make_campaign("phone", event=phone_bank_party)
    with CaptureQueriesContext(connection) as one:
        assert vera_client.get(reverse("field:home")).status_code == 200
    for _ in range(3):
        make_campaign("phone", event=phone_bank_party)
    with CaptureQueriesContext(connection) as four:
        response = vera_client.get(reverse("field:home"))

    assert response.content.decode().count("phonebank-card") == 4
    assert len(four) == len(one)


def test_organizers_can_call_too(client, organizer, phone_bank):
    client.force_login(organizer)

    assert client.get(reverse("field:home")).status_code == 200
    response = client.post(reverse("field:batch", args=[phone_bank.pk]))

    assert response.status_code == 302
    assert contacts_held(campaign=phone_bank, volunteer=organizer).count() == 25


# Taking a batch ----------------------------------------------------------------------------


def test_give_me_25_leases_a_batch_and_opens_its_first_contact(vera_client, vera, phone_bank):
    response = _take_batch(vera_client, phone_bank)

    held = list(contacts_held(campaign=phone_bank, volunteer=vera))
    assert len(held) == 25
    assert response["Location"] == _call_url(phone_bank, held[0])
    # What `bench field` reads: every contact of the batch, on the page the redirect leads to.
    page = vera_client.get(response["Location"]).content.decode()
    assert [int(pk) for pk in CONTACT_ID.findall(page)] == [c.pk for c in held]


def test_a_volunteer_without_a_person_record_can_call(client, phone_bank):
    bare = User.objects.create_user("bare", "bare@example.test", None, role=Role.VOLUNTEER)
    client.force_login(bare)

    response = client.get(_take_batch(client, phone_bank)["Location"])

    assert response.status_code == 200
    assert len(CONTACT_ID.findall(response.content.decode())) == 25


def test_when_nobody_is_left_the_volunteer_is_thanked(vera_client, vera, phone_bank, make_volunteer):
    contacts_lease(campaign=phone_bank, volunteer=make_volunteer("otto"), count=30)

    response = vera_client.post(reverse("field:batch", args=[phone_bank.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "No more contacts to call — thank you!" in page
    assert "data-contact-id" not in page
    assert not contacts_held(campaign=phone_bank, volunteer=vera).exists()


def test_the_last_contacts_are_handed_out_with_a_note(vera_client, vera, phone_bank, make_volunteer):
    contacts_lease(campaign=phone_bank, volunteer=make_volunteer("otto"), count=20)

    response = vera_client.post(reverse("field:batch", args=[phone_bank.pk]), follow=True)

    assert len(CONTACT_ID.findall(response.content.decode())) == 10
    assert "These are the last contacts on the list for now." in response.content.decode()


def test_a_paused_phone_bank_gives_no_batch(vera_client, vera, phone_bank):
    phone_bank.status = CampaignStatus.PAUSED
    phone_bank.save(update_fields=["status"])

    response = vera_client.post(reverse("field:batch", args=[phone_bank.pk]), follow=True)

    assert "taking volunteers right now" in response.content.decode()
    assert not contacts_held(campaign=phone_bank, volunteer=vera).exists()


def test_the_campaign_page_says_how_many_you_hold(vera_client, vera, phone_bank):
    contacts_lease(campaign=phone_bank, volunteer=vera, count=7)

    page = vera_client.get(reverse("field:campaign", args=[phone_bank.pk])).content.decode()

    assert "You have 7 people to call." in page
    assert "Give me 25" in page and "Stop for now" in page


def test_stop_for_now_returns_the_batch_untouched(vera_client, vera, phone_bank):
    contacts_lease(campaign=phone_bank, volunteer=vera, count=5)

    response = vera_client.post(reverse("field:release", args=[phone_bank.pk]), follow=True)

    assert "5 contacts went back to the list" in response.content.decode()
    assert not contacts_held(campaign=phone_bank, volunteer=vera).exists()
    assert phone_bank.contacts.filter(status=ContactStatus.AVAILABLE, attempts=0, leased_to=None).count() == 30
    assert not Attempt.objects.exists()


# Calling -----------------------------------------------------------------------------------


def test_the_call_page_shows_the_name_the_number_and_the_script_for_this_person(vera_client, vera, phone_bank):
    _take_batch(vera_client, phone_bank)
    contact = contacts_held(campaign=phone_bank, volunteer=vera).first()

    response = vera_client.get(_call_url(phone_bank, contact))

    page = response.content.decode()
    assert response.status_code == 200
    assert f'<h1 class="callee">{contact.person.given_name} ' in page
    assert f'href="tel:{contact.phone}"' in page
    assert f"Hi {contact.person.given_name}, I&#x27;m a volunteer." in page
    assert "{{" not in page
    assert 'type="radio" name="step-' in page and 'type="checkbox" name="step-' in page and "<textarea" in page
    for label in ("Reached", "No answer", "Left a message", "Wrong number", "Refused", "Moved", "Do not contact"):
        assert f">{label}</button>" in page
    assert "Not home" not in page


def test_recording_a_call_keeps_the_answers_and_moves_to_the_next_contact(vera_client, vera, phone_bank, script):
    _take_batch(vera_client, phone_bank)
    first, second = list(contacts_held(campaign=phone_bank, volunteer=vera))[:2]
    steps = _steps(script)

    response = vera_client.post(
        _call_url(phone_bank, first),
        {
            f"step-{steps['Support'].pk}": _choice(steps["Support"], "Lean support"),
            f"step-{steps['Issues'].pk}": [_choice(steps["Issues"], "Jobs"), _choice(steps["Issues"], "Climate")],
            f"step-{steps['Notes'].pk}": "Wants a yard sign",
            "notes": "Friendly",
            "disposition": Disposition.REACHED,
        },
    )

    assert response.status_code == 302
    assert response["Location"] == _call_url(phone_bank, second)
    attempt = Attempt.objects.get(contact=first)
    assert (attempt.volunteer, attempt.disposition, attempt.notes) == (vera, "reached", "Friendly")
    assert sorted(a.choice.label if a.choice else a.text for a in attempt.answers.all()) == [
        "Climate", "Jobs", "Lean support", "Wants a yard sign",
    ]  # fmt: skip
    assert Contact.objects.get(pk=first.pk).status == ContactStatus.DONE


def test_an_unanswered_call_needs_no_answers(vera_client, vera, phone_bank):
    _take_batch(vera_client, phone_bank)
    contact = contacts_held(campaign=phone_bank, volunteer=vera).first()

    vera_client.post(_call_url(phone_bank, contact), {"disposition": Disposition.NO_ANSWER})

    attempt = Attempt.objects.get(contact=contact)
    assert attempt.disposition == "no_answer" and not attempt.answers.exists()
    assert Contact.objects.get(pk=contact.pk).status == ContactStatus.AVAILABLE


def test_the_last_call_of_a_batch_goes_back_to_the_campaign(vera_client, vera, phone_bank):
    [contact] = contacts_lease(campaign=phone_bank, volunteer=vera, count=1).contacts

    response = vera_client.post(_call_url(phone_bank, contact), {"disposition": "left_message"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("field:campaign", args=[phone_bank.pk])
    assert "Batch done — get another?" in response.content.decode()


def test_a_bad_answer_records_nothing_and_keeps_what_was_entered(vera_client, vera, phone_bank, script):
    [contact] = contacts_lease(campaign=phone_bank, volunteer=vera, count=1).contacts
    support = _steps(script)["Support"]
    two = [_choice(support, "Strong support"), _choice(support, "Against")]

    response = vera_client.post(
        _call_url(phone_bank, contact), {f"step-{support.pk}": two, "notes": "keep me", "disposition": "reached"}
    )

    assert response.status_code == 400
    assert "takes one answer" in response.content.decode()
    assert "keep me" in response.content.decode()
    assert not Attempt.objects.exists()
    assert Contact.objects.get(pk=contact.pk).leased_to == vera


def test_a_call_without_a_disposition_is_refused(vera_client, vera, phone_bank):
    [contact] = contacts_lease(campaign=phone_bank, volunteer=vera, count=1).contacts

    response = vera_client.post(_call_url(phone_bank, contact), {"notes": "oops"})

    assert response.status_code == 400
    assert "Choose what happened." in response.content.decode()
    assert not Attempt.objects.exists()


def test_the_call_page_does_not_grow_in_queries_with_the_batch(vera_client, vera, phone_bank):
    [contact] = contacts_lease(campaign=phone_bank, volunteer=vera, count=1).contacts
    with CaptureQueriesContext(connection) as one:
        vera_client.get(_call_url(phone_bank, contact))
    contacts_lease(campaign=phone_bank, volunteer=vera, count=25)
    with CaptureQueriesContext(connection) as many:
        response = vera_client.get(_call_url(phone_bank, contact))

    assert len(CONTACT_ID.findall(response.content.decode())) == 25
    assert len(many) == len(one)


# The script --------------------------------------------------------------------------------


def test_an_answer_to_a_step_skipped_by_the_chosen_goto_is_ignored(vera_client, vera, phone_bank, script):
    steps = _steps(script)
    against = steps["Support"].choices.get(label="Against")
    against.goto = steps["Notes"]  # someone against: skip the issues, straight to anything else
    against.save(update_fields=["goto"])
    [contact] = contacts_lease(campaign=phone_bank, volunteer=vera, count=1).contacts

    page = vera_client.get(_call_url(phone_bank, contact)).content.decode()
    assert f'value="{against.pk}" data-goto="{steps["Notes"].pk}"' in page  # what the page's script follows
    vera_client.post(
        _call_url(phone_bank, contact),
        {
            f"step-{steps['Support'].pk}": against.pk,
            f"step-{steps['Issues'].pk}": _choice(steps["Issues"], "Jobs"),  # skipped: not asked
            f"step-{steps['Notes'].pk}": "Not interested",
            "disposition": "reached",
        },
    )

    answers = Answer.objects.filter(attempt__contact=contact)
    assert sorted((a.step.name, a.choice.label if a.choice else a.text) for a in answers) == [
        ("Notes", "Not interested"), ("Support", "Against"),
    ]  # fmt: skip


def test_without_the_jump_every_answer_counts(vera_client, vera, phone_bank, script):
    steps = _steps(script)
    against = steps["Support"].choices.get(label="Against")
    against.goto = steps["Notes"]
    against.save(update_fields=["goto"])
    [contact] = contacts_lease(campaign=phone_bank, volunteer=vera, count=1).contacts

    vera_client.post(
        _call_url(phone_bank, contact),
        {
            f"step-{steps['Support'].pk}": _choice(steps["Support"], "Undecided"),
            f"step-{steps['Issues'].pk}": _choice(steps["Issues"], "Jobs"),
            "disposition": "reached",
        },
    )

    assert Answer.objects.filter(attempt__contact=contact, step=steps["Issues"]).exists()


def test_a_goto_backwards_does_not_loop(script):
    steps = list(script.steps.prefetch_related("choices"))
    support = steps[1]
    back = support.choices.first()
    back.goto = steps[0]
    back.save(update_fields=["goto"])
    steps = list(script.steps.prefetch_related("choices"))

    assert services.steps_on_path(steps, {support.pk: [back.pk]}) == {s.pk for s in steps}


def test_personalised_text_is_shown_as_plain_text(vera_client, vera, phone_bank, script):
    Step.objects.filter(script=script, position=0).update(text="<b>Hi</b> {{ person.given_name }}")
    [contact] = contacts_lease(campaign=phone_bank, volunteer=vera, count=1).contacts
    contact.person.given_name = "<script>alert(1)</script>"
    contact.person.save(update_fields=["given_name"])

    page = vera_client.get(_call_url(phone_bank, contact)).content.decode()

    assert "&lt;b&gt;Hi&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


@pytest.mark.parametrize(
    "text",
    [
        'Hi {% include "base.html" %}',  # no loaders: a script can't pull in a template
        "Hi {% load static %}{% static 'x' %}",  # no tag libraries
        "Hi {{ person.given_name ",  # a typo
        "Hi {% if %}",
    ],
)
def test_a_script_that_does_not_render_shows_as_written(text):
    context = {"person": {"given_name": "Ann", "family_name": "Lee"}, "volunteer": {"given_name": "Vera"}}

    assert selectors_volunteer.script_text_render(text, context) == text


def test_personalisation_renders_names_and_filters():
    context = {"person": {"given_name": "", "family_name": "Lee"}, "volunteer": {"given_name": "Vera"}}

    text = selectors_volunteer.script_text_render(
        'Hi {{ person.given_name|default:"there" }}, this is {{ volunteer.given_name }}.', context
    )

    assert text == "Hi there, this is Vera."


# Phone bank parties ------------------------------------------------------------------------


def test_the_campaign_page_shows_its_event(vera_client, callable_people, make_campaign, phone_bank_party):
    campaign = make_campaign("phone", event=phone_bank_party)

    page = vera_client.get(reverse("field:campaign", args=[campaign.pk])).content.decode()

    assert "Phone bank party for Rivera" in page
    assert reverse("events:detail", args=[phone_bank_party.pk]) in page
    assert "February 28, 6:00 PM" in page  # in the event's time zone


def test_the_event_include_lists_its_phone_banks_with_a_start_link(callable_people, make_campaign, phone_bank_party):
    calling = _named(make_campaign("phone", event=phone_bank_party), "Call for Rivera")
    _named(make_campaign("text", event=phone_bank_party), "Text for Rivera")
    _named(make_campaign("phone"), "Elsewhere")

    html = render_to_string(
        "field/volunteer/_event_phonebanks.html",
        {"phonebanks": selectors_volunteer.phone_banks_for_event(phone_bank_party)},
    )

    assert "Call for Rivera" in html and "Start calling" in html
    assert reverse("field:campaign", args=[calling.pk]) in html
    assert "Text for Rivera" not in html and "Elsewhere" not in html
    assert render_to_string("field/volunteer/_event_phonebanks.html", {"phonebanks": []}).strip() == ""


def test_the_organizers_instructions_are_on_the_campaign_page(client, callable_people, make_campaign, make_volunteer):
    campaign = make_campaign(description="Be kind.\nAsk about the caucus.")
    client.force_login(make_volunteer())
    page = client.get(reverse("field:campaign", args=[campaign.pk])).content.decode()
    assert "Be kind.<br>Ask about the caucus." in page
