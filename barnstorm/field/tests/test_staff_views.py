"""The organizers' field pages: only organizers get in; scripts with branching, campaigns from
draft to closed, who holds what (release, reassign), sending numbers, lists without N+1."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from barnstorm.field.models import (
    CampaignStatus,
    Choice,
    Contact,
    ContactStatus,
    FieldCampaign,
    Script,
    SendingNumber,
    Step,
    StepKind,
)
from barnstorm.field.services import AnswerInput, attempt_record, contacts_lease
from barnstorm.field.services_staff import ChoiceInput, StepInput, script_save

ROUTES = ["staff_campaigns", "staff_campaign_new", "staff_scripts", "staff_script_new", "staff_numbers"]
ROUTES_WITH_A_CAMPAIGN = [
    "staff_campaign", "staff_campaign_edit", "staff_campaign_launch", "staff_campaign_pause",
    "staff_campaign_resume", "staff_campaign_close", "staff_holders", "staff_release", "staff_reassign",
]  # fmt: skip
ROUTES_WITH_A_SCRIPT = ["staff_script"]
ALL_ROUTES = ROUTES + ROUTES_WITH_A_CAMPAIGN + ROUTES_WITH_A_SCRIPT


def url_for(name, campaign):
    if name in ROUTES_WITH_A_CAMPAIGN:
        return reverse(f"field:{name}", args=[campaign.pk])
    if name in ROUTES_WITH_A_SCRIPT:
        return reverse(f"field:{name}", args=[campaign.script_id])
    return reverse(f"field:{name}")


def form_data(response, form_name="form", *formset_names) -> dict:
    """What the browser would post back from the page as drawn: every field at its initial value."""
    context = response.context
    data = {}
    for name in (form_name, *formset_names):
        forms = context[name].forms if hasattr(context[name], "forms") else [context[name]]
        if hasattr(context[name], "management_form"):
            forms = [context[name].management_form, *forms]
        for form in forms:
            for field in form:
                value = field.value()
                if isinstance(value, bool):
                    if value:
                        data[field.html_name] = "on"
                elif isinstance(value, list):
                    data[field.html_name] = [getattr(v, "pk", v) for v in value]
                elif value is not None:
                    data[field.html_name] = value
    return data


# Who may come in ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_ROUTES)
def test_every_page_sends_anonymous_visitors_to_log_in(client, make_campaign, name):
    url = url_for(name, make_campaign(launch=False))

    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login")), url


@pytest.mark.parametrize("name", ALL_ROUTES)
def test_every_page_refuses_a_volunteer(outsider_client, make_campaign, callable_people, name):
    campaign = make_campaign(launch=False)
    url = url_for(name, campaign)

    assert outsider_client.get(url).status_code == 403, url
    response = outsider_client.post(url, {"name": "Taken over", "number": "+15155550100", "daily_cap": "5"})
    assert response.status_code == 403, url

    campaign.refresh_from_db()
    assert (campaign.status, campaign.name) == (CampaignStatus.DRAFT, "phone campaign")
    assert not Contact.objects.exists()
    assert Script.objects.count() == 1
    assert not SendingNumber.objects.exists()


# Scripts -------------------------------------------------------------------------------------------


def new_script_data(**overrides):
    """Three steps: an intro, a one-answer question whose "No" skips to the end, and a free-text one."""
    data = {
        "name": "Volunteer recruit",
        "steps-TOTAL_FORMS": "4",
        "steps-INITIAL_FORMS": "0",
        "steps-0-kind": "text",
        "steps-0-text": "Hi {{ person.given_name }}!",
        "steps-1-kind": "single",
        "steps-1-name": "Volunteer",
        "steps-1-text": "Will you volunteer?",
        "steps-1-choice_0_label": "Yes",
        "steps-1-choice_1_label": "No",
        "steps-1-choice_1_goto": "3",
        "steps-2-kind": "free",
        "steps-2-name": "When",
        "steps-2-text": "When are you free?",
        "steps-3-kind": "text",
        "steps-3-text": "Thanks, goodbye.",
    }
    data.update(overrides)
    return data


def test_the_script_editor_creates_steps_choices_and_branching(staff_client, organizer):
    response = staff_client.post(reverse("field:staff_script_new"), new_script_data())

    script = Script.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("field:staff_script", args=[script.pk])
    assert (script.name, script.created_by) == ("Volunteer recruit", organizer)
    steps = list(script.steps.order_by("position"))
    assert [(s.position, s.kind, s.name) for s in steps] == [
        (0, StepKind.TEXT, ""), (1, StepKind.SINGLE, "Volunteer"), (2, StepKind.FREE, "When"), (3, StepKind.TEXT, ""),
    ]  # fmt: skip
    assert [(c.label, c.goto) for c in steps[1].choices.order_by("position")] == [("Yes", None), ("No", steps[3])]
    page = staff_client.get(response["Location"]).content.decode()
    assert "Will you volunteer?" in page and 'value="No"' in page


def test_a_goto_back_to_an_earlier_step_is_refused(staff_client):
    page = staff_client.get(reverse("field:staff_script_new"))
    assert [value for value, _ in page.context["formset"].forms[0].fields["choice_0_goto"].choices] == [""]

    response = staff_client.post(reverse("field:staff_script_new"), new_script_data(**{"steps-1-choice_1_goto": "0"}))

    assert response.status_code == 400
    assert response.context["formset"].forms[1].errors["choice_1_goto"]
    assert not Script.objects.exists()


@pytest.mark.parametrize("goto", [0, 1])
def test_the_service_refuses_a_goto_to_the_same_or_an_earlier_step(organizer, goto):
    steps = [
        StepInput(kind="text", text="Hi!"),
        StepInput(
            kind="single",
            name="Volunteer",
            text="Will you volunteer?",
            choices=[ChoiceInput("Yes"), ChoiceInput("No", goto=goto)],
        ),
        StepInput(kind="text", text="Bye."),
    ]

    with pytest.raises(ValidationError) as refused:
        script_save(name="Recruit", steps=steps, actor=organizer)

    assert refused.value.message_dict == {"step-1": ["“No” must go to a later step of this script."]}
    assert not Script.objects.exists()


def test_a_question_to_pick_from_needs_two_answers(staff_client):
    data = new_script_data(**{"steps-1-choice_1_label": "", "steps-1-choice_1_goto": ""})

    response = staff_client.post(reverse("field:staff_script_new"), data)

    assert response.status_code == 400
    assert "at least two answers" in " ".join(response.context["formset"].forms[1].non_field_errors())
    assert not Script.objects.exists()


def test_a_question_needs_a_short_name(staff_client):
    response = staff_client.post(reverse("field:staff_script_new"), new_script_data(**{"steps-2-name": ""}))

    assert response.status_code == 400
    assert "short name" in " ".join(response.context["formset"].forms[2].non_field_errors())


def test_add_a_step_redraws_the_form_with_one_more_and_saves_nothing(staff_client):
    data = new_script_data(add_step="1")

    response = staff_client.post(reverse("field:staff_script_new"), data)

    assert response.status_code == 200
    formset = response.context["formset"]
    assert len(formset.forms) == 5
    assert formset.forms[1]["choice_1_label"].value() == "No"
    assert not formset.forms[4]["text"].value()
    assert not Script.objects.exists()


def test_editing_keeps_the_answers_and_can_reorder_and_remove_steps(staff_client, script):
    support = script.steps.get(name="Support")
    strong = support.choices.get(label="Strong support")
    page = staff_client.get(reverse("field:staff_script", args=[script.pk]))
    data = form_data(page, "form", "formset")
    data["steps-1-choice_0_label"] = "Strongly support"
    data["steps-0-DELETE"] = "on"  # the intro goes
    data["steps-3-ORDER"] = "2"  # "Notes" moves up, right after "Support"
    data["steps-1-choice_3_goto"] = "2"  # and "Against" skips it, to "Issues"

    response = staff_client.post(reverse("field:staff_script", args=[script.pk]), data)

    assert response.status_code == 302, response.context and response.context["formset"].errors
    steps = list(script.steps.order_by("position"))
    assert [(s.position, s.name) for s in steps] == [(0, "Support"), (1, "Notes"), (2, "Issues")]
    strong.refresh_from_db()
    assert strong.label == "Strongly support"  # the same choice, so its answers stay attached
    assert Choice.objects.get(step=support, label="Against").goto == steps[2]
    assert not Step.objects.filter(text__startswith="Hi ").exists()


def test_a_jump_over_a_reordered_step_follows_the_new_order(staff_client, script):
    page = staff_client.get(reverse("field:staff_script", args=[script.pk]))
    data = form_data(page, "form", "formset")
    data["steps-1-choice_3_goto"] = "3"  # Against → Notes
    data["steps-3-ORDER"] = "1"  # but Notes moves before Support: now an earlier step

    response = staff_client.post(reverse("field:staff_script", args=[script.pk]), data)

    assert response.status_code == 400
    assert "must go to a later step" in response.content.decode()


def test_steps_of_a_script_a_campaign_runs_on_cannot_be_removed(staff_client, script, make_campaign, callable_people):
    campaign = make_campaign()
    page = staff_client.get(reverse("field:staff_script", args=[script.pk]))
    assert "so steps can't be removed" in page.content.decode() and campaign.name in page.content.decode()
    data = form_data(page, "form", "formset")
    data["steps-3-DELETE"] = "on"

    response = staff_client.post(reverse("field:staff_script", args=[script.pk]), data)

    assert response.status_code == 400
    assert f"while “{campaign.name}” is active" in response.content.decode()
    assert script.steps.count() == 4


def test_steps_can_be_removed_while_the_only_campaign_is_a_draft(staff_client, script, make_campaign):
    make_campaign(launch=False)
    data = form_data(staff_client.get(reverse("field:staff_script", args=[script.pk])), "form", "formset")
    data["steps-3-DELETE"] = "on"

    response = staff_client.post(reverse("field:staff_script", args=[script.pk]), data)

    assert response.status_code == 302
    assert list(script.steps.values_list("name", flat=True)) == ["", "Support", "Issues"]


def test_a_step_or_an_answer_already_given_cannot_be_removed(
    staff_client, script, make_campaign, callable_people, make_volunteer
):
    campaign = make_campaign()
    vera = make_volunteer()
    support = script.steps.get(name="Support")
    answers = [AnswerInput(step_id=support.pk, choice_ids=[support.choices.get(label="Against").pk])]
    contact = contacts_lease(campaign=campaign, volunteer=vera, count=1).contacts[0]
    attempt_record(contact=contact, volunteer=vera, disposition="reached", answers=answers)
    FieldCampaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.CLOSED)
    url = reverse("field:staff_script", args=[script.pk])
    data = form_data(staff_client.get(url), "form", "formset")

    step_gone = staff_client.post(url, {**data, "steps-1-DELETE": "on"})
    answer_gone = staff_client.post(url, {**data, "steps-1-choice_3_label": ""})

    assert "“Support” already has answers" in step_gone.content.decode()
    assert "The answer “Against” has been given already" in answer_gone.content.decode()
    assert support.choices.count() == 4


def test_the_script_list_shows_counts_in_a_fixed_number_of_queries(staff_client, script, make_campaign):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = staff_client.get(reverse("field:staff_scripts"))
        assert response.status_code == 200
        return len(captured)

    one = queries()
    for n in range(3):
        other = Script.objects.create(name=f"Script {n}")
        Step.objects.create(script=other, position=0, kind=StepKind.TEXT, text="Hello")

    assert queries() == one


# Campaigns ----------------------------------------------------------------------------------------


def campaign_data(script, segment, **overrides):
    data = {
        "name": "Weekend calls",
        "kind": "phone",
        "script": script.pk,
        "segment": segment.pk,
        "event": "",
        "batch_size": "10",
        "lease_minutes": "30",
        "retry_hours": "24",
        "max_attempts": "3",
        "initial_message": "",
        "canned-TOTAL_FORMS": "2",
        "canned-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_creating_then_launching_a_campaign_takes_its_contacts(
    staff_client, script, call_segment, callable_people, organizer
):
    response = staff_client.post(reverse("field:staff_campaign_new"), campaign_data(script, call_segment))

    campaign = FieldCampaign.objects.get()
    assert response["Location"] == reverse("field:staff_campaign", args=[campaign.pk])
    assert (campaign.name, campaign.kind, campaign.status, campaign.batch_size, campaign.created_by) == (
        "Weekend calls", "phone", CampaignStatus.DRAFT, 10, organizer,
    )  # fmt: skip

    response = staff_client.post(reverse("field:staff_campaign_launch", args=[campaign.pk]), follow=True)

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE
    assert campaign.contacts.count() == 30
    assert "Launched with 30 contacts." in response.content.decode()


def test_a_batch_bigger_than_a_hundred_is_refused_on_its_field(staff_client, script, call_segment):
    response = staff_client.post(
        reverse("field:staff_campaign_new"), campaign_data(script, call_segment, batch_size="500")
    )

    assert response.status_code == 400
    assert response.context["form"].errors["batch_size"] == ["Between 1 and 100."]
    assert not FieldCampaign.objects.exists()


def test_a_texting_campaign_keeps_its_first_text_numbers_and_canned_responses(staff_client, script, call_segment):
    number = SendingNumber.objects.create(number="+15155550100")
    data = campaign_data(
        script,
        call_segment,
        kind="text",
        initial_message="Hi {{ person.given_name }}, it's Team Rivera!",
        sending_numbers=[number.pk],
        **{"canned-0-title": "Wrong number", "canned-0-body": "Sorry, we'll take you off."},
    )

    staff_client.post(reverse("field:staff_campaign_new"), data)

    campaign = FieldCampaign.objects.get()
    assert list(campaign.sending_numbers.all()) == [number]
    assert [(c.title, c.body) for c in campaign.canned_responses.all()] == [
        ("Wrong number", "Sorry, we'll take you off.")
    ]
    page = staff_client.get(reverse("field:staff_campaign_edit", args=[campaign.pk]))
    data = form_data(page, "form", "canned")
    data["canned-0-DELETE"] = "on"
    staff_client.post(reverse("field:staff_campaign_edit", args=[campaign.pk]), data)
    assert not campaign.canned_responses.exists()


def test_a_first_text_that_is_not_a_template_is_refused(staff_client, script, call_segment):
    data = campaign_data(script, call_segment, kind="text", initial_message="Hi {% if %}")

    response = staff_client.post(reverse("field:staff_campaign_new"), data)

    assert response.status_code == 400
    assert "initial_message" in response.context["form"].errors


def test_a_texting_campaign_without_a_number_does_not_launch(staff_client, make_campaign, callable_people):
    campaign = make_campaign(kind="text", launch=False, initial_message="Hi!")

    response = staff_client.post(reverse("field:staff_campaign_launch", args=[campaign.pk]), follow=True)

    assert "Add a number to send the texts from" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_a_number_added_from_the_campaign_page_joins_its_pool(staff_client, make_campaign):
    campaign = make_campaign(kind="text", launch=False)
    page = staff_client.get(reverse("field:staff_campaign", args=[campaign.pk])).content.decode()
    assert 'name="campaign"' in page

    response = staff_client.post(
        reverse("field:staff_numbers"), {"number": "(515) 555-0177", "daily_cap": "150", "campaign": campaign.pk}
    )

    assert response["Location"] == reverse("field:staff_campaign", args=[campaign.pk])
    number = SendingNumber.objects.get()
    assert (number.number, number.daily_cap) == ("+15155550177", 150)
    assert list(number.campaigns.all()) == [campaign]


def test_a_number_twice_or_not_a_number_is_refused(staff_client):
    SendingNumber.objects.create(number="+15155550177")

    twice = staff_client.post(reverse("field:staff_numbers"), {"number": "+1 515 555 0177", "daily_cap": "10"})
    nonsense = staff_client.post(reverse("field:staff_numbers"), {"number": "12", "daily_cap": "10"})

    assert twice.status_code == nonsense.status_code == 400
    assert "already a sending number" in twice.context["form"].errors["number"][0]
    assert nonsense.context["form"].errors["number"]
    assert SendingNumber.objects.count() == 1


def test_the_kind_script_and_target_are_fixed_after_launch(staff_client, make_campaign, callable_people):
    campaign = make_campaign()
    other = Script.objects.create(name="Other")
    page = staff_client.get(reverse("field:staff_campaign_edit", args=[campaign.pk]))
    data = form_data(page, "form", "canned")
    data.update(script=other.pk, kind="text", name="Renamed")

    staff_client.post(reverse("field:staff_campaign_edit", args=[campaign.pk]), data)

    campaign.refresh_from_db()
    assert (campaign.name, campaign.script.name, campaign.kind) == ("Renamed", "ID call", "phone")


def test_pause_resume_and_close_which_returns_what_volunteers_hold(
    staff_client, make_campaign, callable_people, make_volunteer
):
    campaign = make_campaign()
    contacts_lease(campaign=campaign, volunteer=make_volunteer("vera"), count=5)
    contacts_lease(campaign=campaign, volunteer=make_volunteer("will"), count=3)

    staff_client.post(reverse("field:staff_campaign_pause", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED

    staff_client.post(reverse("field:staff_campaign_resume", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE

    response = staff_client.post(reverse("field:staff_campaign_close", args=[campaign.pk]), follow=True)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED
    assert not campaign.contacts.filter(status=ContactStatus.LEASED).exists()
    assert "8 contacts held by volunteers went back" in response.content.decode()


def test_a_refused_change_is_explained(staff_client, make_campaign):
    campaign = make_campaign(launch=False)

    response = staff_client.post(reverse("field:staff_campaign_pause", args=[campaign.pk]), follow=True)

    assert "Only a running campaign can be paused" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_status_changes_refuse_get(staff_client, make_campaign):
    campaign = make_campaign(launch=False)

    assert staff_client.get(reverse("field:staff_campaign_launch", args=[campaign.pk])).status_code == 405
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_the_campaign_list_takes_the_same_queries_however_many_rows(
    staff_client, make_campaign, callable_people, make_volunteer, organizer
):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = staff_client.get(reverse("field:staff_campaigns"))
        assert response.status_code == 200
        return len(captured)

    make_campaign()
    one = queries()
    vera = make_volunteer()
    for kind in ("text", "phone", "canvass"):
        campaign = make_campaign(kind=kind)
        for contact in contacts_lease(campaign=campaign, volunteer=vera, count=2).contacts if kind != "canvass" else []:
            attempt_record(contact=contact, volunteer=vera, disposition="reached")
    make_campaign(launch=False)

    assert queries() == one


def test_the_campaign_list_shows_contacts_done_held_and_attempts(
    staff_client, make_campaign, callable_people, make_volunteer
):
    campaign = make_campaign()
    vera = make_volunteer()
    contacts = contacts_lease(campaign=campaign, volunteer=vera, count=4).contacts
    attempt_record(contact=contacts[0], volunteer=vera, disposition="reached")

    row = staff_client.get(reverse("field:staff_campaigns")).context["campaigns"][0]

    assert (row.contacts_total, row.contacts_done, row.contacts_held, row.attempt_count) == (30, 1, 3, 1)


def test_the_campaign_page_draws_its_dashboard(staff_client, make_campaign, callable_people, make_volunteer, script):
    campaign = make_campaign()
    vera = make_volunteer()
    contact = contacts_lease(campaign=campaign, volunteer=vera, count=1).contacts[0]
    support = script.steps.get(name="Support")
    answers = [AnswerInput(step_id=support.pk, choice_ids=[support.choices.get(label="Undecided").pk])]
    attempt_record(contact=contact, volunteer=vera, disposition="reached", answers=answers)

    page = staff_client.get(reverse("field:staff_campaign", args=[campaign.pk])).content.decode()

    assert page.count("<svg") >= 4  # per day, dispositions, volunteers, one per question with choices
    assert "Undecided" in page and "100.0%" in page
    assert "Vera" in page


# Who holds what -------------------------------------------------------------------------------------


def test_the_holders_page_lists_who_holds_how_many(staff_client, make_campaign, callable_people, make_volunteer):
    campaign = make_campaign()
    contacts_lease(campaign=campaign, volunteer=make_volunteer("vera"), count=5)
    contacts_lease(campaign=campaign, volunteer=make_volunteer("will"), count=2)

    response = staff_client.get(reverse("field:staff_holders", args=[campaign.pk]))

    holders = response.context["holders"]
    assert [(h.volunteer.username, h.count) for h in holders] == [("vera", 5), ("will", 2)]
    assert holders[0].first_lease_end > timezone.now() + timedelta(minutes=29)


def test_releasing_a_volunteers_batch_returns_it_to_the_pool(
    staff_client, make_campaign, callable_people, make_volunteer
):
    campaign = make_campaign()
    vera, will = make_volunteer("vera"), make_volunteer("will")
    contacts_lease(campaign=campaign, volunteer=vera, count=5)
    contacts_lease(campaign=campaign, volunteer=will, count=2)

    response = staff_client.post(reverse("field:staff_release", args=[campaign.pk]), {"volunteer": vera.pk})

    assert response["Location"] == reverse("field:staff_holders", args=[campaign.pk])
    assert not Contact.objects.filter(leased_to=vera).exists()
    assert Contact.objects.filter(leased_to=will, status=ContactStatus.LEASED).count() == 2
    assert Contact.objects.filter(campaign=campaign, status=ContactStatus.AVAILABLE).count() == 28


def test_reassigning_ticked_contacts_gives_them_to_the_volunteer_named_by_email(
    staff_client, make_campaign, callable_people, make_volunteer
):
    campaign = make_campaign()
    vera, will = make_volunteer("vera"), make_volunteer("will")
    held = contacts_lease(campaign=campaign, volunteer=vera, count=5).contacts

    staff_client.post(
        reverse("field:staff_reassign", args=[campaign.pk]),
        {"contact": [held[0].pk, held[1].pk], "who": "WILL@volunteers.test"},
    )

    assert set(Contact.objects.filter(leased_to=will).values_list("pk", flat=True)) == {held[0].pk, held[1].pk}
    assert Contact.objects.filter(leased_to=vera).count() == 3


def test_reassigning_a_whole_batch_by_username(staff_client, make_campaign, callable_people, make_volunteer):
    campaign = make_campaign()
    vera, will = make_volunteer("vera"), make_volunteer("will")
    contacts_lease(campaign=campaign, volunteer=vera, count=5)

    response = staff_client.post(
        reverse("field:staff_reassign", args=[campaign.pk]), {"holder": [vera.pk], "who": "will"}, follow=True
    )

    assert Contact.objects.filter(leased_to=will, status=ContactStatus.LEASED).count() == 5
    assert not Contact.objects.filter(leased_to=vera).exists()
    assert "5 contacts are now with will." in response.content.decode()


def test_reassigning_to_nobody_known_is_refused(staff_client, make_campaign, callable_people, make_volunteer):
    campaign = make_campaign()
    vera = make_volunteer("vera")
    held = contacts_lease(campaign=campaign, volunteer=vera, count=2).contacts

    response = staff_client.post(
        reverse("field:staff_reassign", args=[campaign.pk]), {"contact": [held[0].pk], "who": "nobody@nowhere.test"}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["who"] == ["Nobody has that username or email address."]
    assert Contact.objects.filter(leased_to=vera).count() == 2


def test_reassigning_ignores_contacts_of_other_campaigns(staff_client, make_campaign, callable_people, make_volunteer):
    campaign, other = make_campaign(), make_campaign(kind="text")
    vera, will = make_volunteer("vera"), make_volunteer("will")
    theirs = contacts_lease(campaign=other, volunteer=vera, count=1).contacts[0]
    ours = contacts_lease(campaign=campaign, volunteer=vera, count=1).contacts[0]

    staff_client.post(
        reverse("field:staff_reassign", args=[campaign.pk]), {"contact": [theirs.pk, ours.pk], "who": "will"}
    )

    assert list(Contact.objects.filter(leased_to=will).values_list("pk", flat=True)) == [ours.pk]


def test_the_script_page_shows_each_questions_id_for_segments(staff_client, script):
    page = staff_client.get(reverse("field:staff_script", args=[script.pk])).content.decode()
    support = script.steps.get(name="Support")
    assert f"question id {support.pk} (for the" in page


def test_a_first_text_or_canned_response_with_a_mistake_is_refused_when_saved(organizer, script, call_segment):
    from django.core.exceptions import ValidationError

    from barnstorm.field.services_staff import CannedInput, campaign_save

    fields = {
        "name": "Texts", "kind": "text", "script": script, "segment": call_segment, "event": None,
        "batch_size": 25, "lease_minutes": 30, "retry_hours": 24, "max_attempts": 3,
        "initial_message": "Hi {{ person.given_name }} {% load static %}",
    }  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        campaign_save(fields=fields, actor=organizer)
    assert "initial_message" in refused.value.message_dict  # a tag library texts can't use

    fields["initial_message"] = "Hi {{ person.given_name }}"
    canned = [CannedInput(id=None, title="Thanks", body="Thanks {% if %}")]
    with pytest.raises(ValidationError) as refused:
        campaign_save(fields=fields, actor=organizer, canned_responses=canned)
    assert "“Thanks” doesn't read as a template" in str(refused.value.message_dict["canned_responses"])
