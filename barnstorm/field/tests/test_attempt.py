"""Recording a call: dispositions move the contact, answers are kept and can be segmented."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from barnstorm.activity.models import Activity
from barnstorm.field.models import Answer, Contact, ContactStatus, Disposition, Step
from barnstorm.field.services import AnswerInput, attempt_record, contacts_lease
from barnstorm.people.models import PhoneNumber
from barnstorm.segments import engine


def _answers(script, support="Strong support", issues=("Jobs", "Climate"), notes="Call back after 6"):
    support_step = script.steps.get(name="Support")
    issues_step = script.steps.get(name="Issues")
    return [
        AnswerInput(step_id=support_step.pk, choice_ids=[support_step.choices.get(label=support).pk]),
        AnswerInput(step_id=issues_step.pk, choice_ids=[issues_step.choices.get(label=i).pk for i in issues]),
        AnswerInput(step_id=script.steps.get(name="Notes").pk, text=notes),
    ]


def test_answers_are_kept_per_person_and_attempt_and_logged(callable_people, make_campaign, make_volunteer, script):
    campaign = make_campaign()
    vera = make_volunteer()
    contact = contacts_lease(campaign=campaign, volunteer=vera).contacts[0]

    attempt = attempt_record(contact=contact, volunteer=vera, disposition=Disposition.REACHED, answers=_answers(script))

    assert sorted(a.choice.label if a.choice else a.text for a in attempt.answers.all()) == [
        "Call back after 6", "Climate", "Jobs", "Strong support",
    ]  # fmt: skip
    assert Contact.objects.get(pk=contact.pk).status == ContactStatus.DONE
    kinds = list(Activity.objects.filter(person_id=contact.person_id).values_list("kind", flat=True))
    assert kinds.count("field_answer") == 4 and "field_attempt" in kinds
    assert Activity.objects.filter(person_id=vera.person_id, kind="field_volunteered").exists()


def test_answered_is_a_segment_condition(callable_people, make_campaign, make_volunteer, script):
    campaign = make_campaign()
    vera = make_volunteer()
    contacts = contacts_lease(campaign=campaign, volunteer=vera, count=3).contacts
    attempt_record(contact=contacts[0], volunteer=vera, disposition="reached", answers=_answers(script))
    attempt_record(contact=contacts[1], volunteer=vera, disposition="reached", answers=_answers(script, "Against"))
    support = script.steps.get(name="Support").pk

    strong = engine.Person.objects.filter(
        engine.compile({"type": "answered", "question": support, "response": "strong support"})
    )
    anyone = engine.count({"type": "answered", "question": support})

    assert list(strong.values_list("pk", flat=True)) == [contacts[0].person_id]
    assert anyone == 2
    assert "is not an answer" in engine.validate({"type": "answered", "question": support, "response": "Maybe"})[0]


def test_an_unanswered_call_comes_back_until_the_attempts_run_out(callable_people, make_campaign, make_volunteer):
    campaign = make_campaign(max_attempts=2, retry_hours=0)
    vera = make_volunteer()
    contact = contacts_lease(campaign=campaign, volunteer=vera, count=1).contacts[0]
    attempt_record(contact=contact, volunteer=vera, disposition=Disposition.NO_ANSWER)
    assert Contact.objects.get(pk=contact.pk).status == ContactStatus.AVAILABLE

    again = contacts_lease(campaign=campaign, volunteer=vera, count=30).contacts
    assert contact.pk in {c.pk for c in again}
    attempt_record(contact=contact, volunteer=vera, disposition=Disposition.LEFT_MESSAGE)
    assert Contact.objects.get(pk=contact.pk).status == ContactStatus.DONE


def test_only_the_volunteer_holding_a_contact_records_it(callable_people, make_campaign, make_volunteer, organizer):
    campaign = make_campaign()
    vera, will = make_volunteer("vera"), make_volunteer("will")
    contact = contacts_lease(campaign=campaign, volunteer=vera).contacts[0]

    with pytest.raises(PermissionDenied):
        attempt_record(contact=contact, volunteer=will, disposition=Disposition.REACHED)
    attempt_record(contact=contact, volunteer=organizer, disposition=Disposition.REACHED)  # staff may
    assert Contact.objects.get(pk=contact.pk).status == ContactStatus.DONE


def test_answers_must_belong_to_the_script(callable_people, make_campaign, make_volunteer, script):
    campaign = make_campaign()
    vera = make_volunteer()
    contact = contacts_lease(campaign=campaign, volunteer=vera).contacts[0]
    support = script.steps.get(name="Support")
    two = [c.pk for c in support.choices.all()[:2]]

    with pytest.raises(ValidationError, match="takes one answer"):
        attempt_record(contact=contact, volunteer=vera, disposition="reached", answers=[AnswerInput(support.pk, two)])
    text_block = Step.objects.get(script=script, position=0)
    with pytest.raises(ValidationError, match="not in this campaign's script"):
        attempt_record(contact=contact, volunteer=vera, disposition="reached", answers=[AnswerInput(text_block.pk)])
    assert not Answer.objects.exists()
    assert Contact.objects.get(pk=contact.pk).status == ContactStatus.LEASED  # nothing half-recorded


def test_do_not_contact_marks_the_number_everywhere(callable_people, make_campaign, make_volunteer):
    phone_bank, texting = make_campaign("phone"), make_campaign("text")
    vera = make_volunteer()
    call = contacts_lease(campaign=phone_bank, volunteer=vera, count=1).contacts[0]
    attempt_record(contact=call, volunteer=vera, disposition=Disposition.DO_NOT_CONTACT)
    text = contacts_lease(campaign=texting, volunteer=vera, count=1).contacts[0]
    attempt_record(contact=text, volunteer=vera, disposition=Disposition.DO_NOT_CONTACT)

    assert PhoneNumber.objects.get(number=call.phone).do_not_call
    assert PhoneNumber.objects.get(number=text.phone).sms_opted_out_at is not None


def test_calling_puts_the_volunteer_on_the_volunteer_rung(callable_people, make_campaign, make_volunteer):
    from barnstorm.segments.ladder import standings_for
    from barnstorm.segments.models import Level

    campaign = make_campaign()
    vera = make_volunteer()
    contact = contacts_lease(campaign=campaign, volunteer=vera).contacts[0]
    attempt_record(contact=contact, volunteer=vera, disposition=Disposition.NO_ANSWER)

    from django.utils import timezone

    assert standings_for([vera.person_id], now=timezone.now())[vera.person_id].level == Level.VOLUNTEER


def test_an_answer_to_a_step_a_chosen_jump_skipped_is_dropped_on_every_path(
    callable_people, make_campaign, make_volunteer, script
):
    from barnstorm.field.models import Choice

    support = script.steps.get(name="Support")
    notes = script.steps.get(name="Notes")
    Choice.objects.filter(step=support, label="Against").update(goto=notes)  # Against: skip the issues
    campaign = make_campaign("text")
    vera = make_volunteer()
    contact = contacts_lease(campaign=campaign, volunteer=vera).contacts[0]

    attempt = attempt_record(
        contact=contact, volunteer=vera, disposition="reached", answers=_answers(script, "Against")
    )

    assert sorted(a.choice.label if a.choice else a.text for a in attempt.answers.all()) == [
        "Against", "Call back after 6",
    ]  # fmt: skip
