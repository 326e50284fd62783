"""Forms for the organizers' field pages. They parse input; what a script or a campaign may be is
services_staff's call, and its errors land on the fields or steps they name."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from barnstorm.events.models import Event, EventStatus
from barnstorm.field.models import FieldCampaign, Script, SendingNumber, Step, StepKind
from barnstorm.field.services_staff import (
    CAMPAIGN_FIELDS,
    FIXED_AFTER_LAUNCH,
    LIMITS,
    CannedInput,
    ChoiceInput,
    StepInput,
    step_error_key,
)
from barnstorm.segments.models import Segment

MIN_CHOICE_SLOTS = 4
SPARE_CHOICE_SLOTS = 2  # empty rows under the answers filled in, for more


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's errors on the form's fields they name; the rest at the top of the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, errors in error.error_dict.items():
        form.add_error(key if key in form.fields else None, errors)


# Scripts ---------------------------------------------------------------------------------------------


class ScriptForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Script name"), max_length=200, required=False)


class StepForm(forms.Form):
    """One step: what kind, its text, a short name for a question, and rows of answers, each of
    which may jump to a later step. Answer rows are named choice_<n>_label / _goto / _id."""

    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=[("", gettext_lazy("Choose…")), *StepKind.choices])
    name = forms.CharField(
        label=gettext_lazy("Short name"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Questions: what results and segments call it, e.g. Support."),
    )
    text = forms.CharField(
        label=gettext_lazy("Text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "What the volunteer reads or asks. {{ person.given_name }} is the contact's first name."
        ),
    )

    def __init__(self, *args, step_labels: list[str] | None = None, index: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the steps below this one: the service refuses any other jump anyway.
        later = list(enumerate(step_labels or []))[index + 1 :]
        goto_choices = [("", _("next step"))] + [(str(i), label) for i, label in later]
        self.slots = self._slot_count()
        for n in range(self.slots):
            self.fields[f"choice_{n}_id"] = forms.IntegerField(widget=forms.HiddenInput, required=False)
            self.fields[f"choice_{n}_label"] = forms.CharField(
                label=_("Answer %(n)s") % {"n": n + 1}, max_length=200, required=False
            )
            self.fields[f"choice_{n}_goto"] = forms.TypedChoiceField(
                label=_("then go to"), choices=goto_choices, coerce=int, empty_value=None, required=False
            )

    def _slot_count(self) -> int:
        if self.is_bound:
            posted = 0
            while self.add_prefix(f"choice_{posted}_label") in self.data:
                posted += 1
            filled = sum(1 for n in range(posted) if self.data.get(self.add_prefix(f"choice_{n}_label"), "").strip())
        else:
            posted = filled = sum(1 for key in self.initial if key.startswith("choice_") and key.endswith("_label"))
        return max(MIN_CHOICE_SLOTS, posted, filled + SPARE_CHOICE_SLOTS)

    def choice_rows(self) -> list[tuple]:
        """(id, label, goto) bound fields, a row per answer slot, for the template."""
        return [
            (self[f"choice_{n}_id"], self[f"choice_{n}_label"], self[f"choice_{n}_goto"]) for n in range(self.slots)
        ]

    @staticmethod
    def initial_for(step: Step, index_of: dict[int, int]) -> dict:
        number = index_of[step.pk] + 1
        initial = {"id": step.pk, "kind": step.kind, "name": step.name, "text": step.text, "ORDER": number}
        for n, choice in enumerate(step.choices.all()):
            initial[f"choice_{n}_id"] = choice.pk
            initial[f"choice_{n}_label"] = choice.label
            initial[f"choice_{n}_goto"] = index_of.get(choice.goto_id)
        return initial


class BaseStepFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "step_labels": self._step_labels(), "index": index or 0}

    def _step_labels(self) -> list[str]:
        if not hasattr(self, "_labels"):
            labels = []
            for i in range(self.total_form_count()):
                if self.is_bound:
                    name = self.data.get(f"{self.prefix}-{i}-name", "") or self.data.get(f"{self.prefix}-{i}-text", "")
                else:
                    initial = self.initial[i] if self.initial and i < len(self.initial) else {}
                    name = initial.get("name") or initial.get("text", "")
                short = name.strip()[:40]
                labels.append(_("step %(n)s") % {"n": i + 1} + (f": {short}" if short else ""))
            self._labels = labels
        return self._labels

    def step_inputs(self) -> tuple[list[StepInput], list[StepForm]]:
        """The steps to save, in their new order (deleted and untouched blank ones left out), and
        the form of each, to put the service's errors on. Call after is_valid()."""
        chosen = self.ordered_forms
        list_index = {self.forms.index(form): i for i, form in enumerate(chosen)}
        steps = []
        for form in chosen:
            data = form.cleaned_data
            choices = []
            for n in range(form.slots):
                label = data.get(f"choice_{n}_label", "").strip()
                if not label:
                    continue
                goto = data.get(f"choice_{n}_goto")
                choices.append(
                    ChoiceInput(
                        label=label,
                        id=data.get(f"choice_{n}_id"),
                        # A jump to a step being deleted is "not a later step of this script".
                        goto=None if goto is None else list_index.get(goto, -1),
                    )
                )
            steps.append(
                StepInput(
                    kind=data.get("kind", ""),
                    text=data.get("text", ""),
                    name=data.get("name", ""),
                    id=data.get("id"),
                    choices=choices,
                )
            )
        return steps, chosen

    def add_service_errors(self, error: ValidationError, chosen: list[StepForm], script_form: ScriptForm) -> None:
        if not hasattr(error, "error_dict"):
            script_form.add_error(None, error)
            return
        by_key = {step_error_key(i): form for i, form in enumerate(chosen)}
        for key, errors in error.error_dict.items():
            if key in by_key:
                by_key[key].add_error(None, errors)
            else:
                script_form.add_error(key if key in script_form.fields else None, errors)


StepFormSet = forms.formset_factory(
    StepForm, formset=BaseStepFormSet, extra=1, can_delete=True, can_order=True, max_num=100, validate_max=True
)


def step_formset(*, script: Script | None, steps: list[Step], data=None) -> BaseStepFormSet:
    index_of = {step.pk: i for i, step in enumerate(steps)}
    initial = [StepForm.initial_for(step, index_of) for step in steps]
    formset = StepFormSet(data, initial=initial, prefix="steps")
    for form in formset.forms:
        form.fields["ORDER"].label = "#"
        form.fields["ORDER"].widget.attrs["style"] = "width: 4.5rem"
        form.fields["DELETE"].label = _("Remove")
    return formset


def with_one_more_step(data) -> dict:
    """The posted form, with room for one more (blank) step."""
    data = data.copy()
    data["steps-TOTAL_FORMS"] = str(int(data.get("steps-TOTAL_FORMS") or 0) + 1)
    return data


# Campaigns ----------------------------------------------------------------------------------------


class CampaignForm(forms.Form):
    sending_numbers = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Send texts from"),
        queryset=SendingNumber.objects.filter(is_active=True).order_by("number"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Texting: the pool of numbers; each stays under its daily cap."),
    )

    def __init__(self, *args, campaign: FieldCampaign | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        fields = forms.fields_for_model(FieldCampaign, fields=CAMPAIGN_FIELDS)
        self.fields = {**fields, **self.fields}
        self.fields["script"].queryset = Script.objects.order_by("name")
        self.fields["segment"].queryset = Segment.objects.only("id", "name").order_by("name")
        self.fields["segment"].empty_label = _("(choose before launching)")
        self.fields["event"].queryset = _event_choices(campaign)
        self.fields["event"].label = _("Phone bank party (event)")
        self.fields["event"].help_text = _("Optional: the event whose attendees call together.")
        self.fields["initial_message"].help_text = _(
            "Texting only. {{ person.given_name }} is the contact's first name."
        )
        self.fields["initial_message"].widget.attrs["rows"] = 4
        for name, (low, high) in LIMITS.items():
            self.fields[name].widget.attrs["style"] = "max-width: 8rem"
            self.fields[name].help_text = _("%(low)s to %(high)s") % {"low": low, "high": high}
        if campaign is not None:
            self.fields["sending_numbers"].queryset = SendingNumber.objects.filter(
                Q(is_active=True) | Q(campaigns=campaign)
            ).distinct()
            if campaign.status != "draft":
                for name in FIXED_AFTER_LAUNCH:
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _("Fixed once the campaign has launched.")

    @staticmethod
    def initial_for(campaign: FieldCampaign | None) -> dict:
        if campaign is None:
            return {name: FieldCampaign._meta.get_field(name).get_default() for name in CAMPAIGN_FIELDS}
        initial = {name: getattr(campaign, name) for name in CAMPAIGN_FIELDS}
        initial.update(
            script=campaign.script_id,
            segment=campaign.segment_id,
            event=campaign.event_id,
            sending_numbers=list(campaign.sending_numbers.all()),
        )
        return initial

    def service_fields(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in CAMPAIGN_FIELDS}

    add_service_errors = _add_errors


def _event_choices(campaign: FieldCampaign | None):
    """Events that are coming up or just happened, and the campaign's own."""
    recent = Q(ends_at__gte=timezone.now() - timedelta(days=7)) & ~Q(
        status__in=(EventStatus.REJECTED, EventStatus.CANCELLED)
    )
    if campaign is not None and campaign.event_id:
        recent |= Q(pk=campaign.event_id)
    return Event.objects.filter(recent).only("id", "title", "starts_at").order_by("starts_at")


class CannedForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=100, required=False)
    body = forms.CharField(label=gettext_lazy("Text"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class BaseCannedFormSet(forms.BaseFormSet):
    def canned_inputs(self) -> list[CannedInput]:
        return [
            CannedInput(
                title=f.cleaned_data.get("title", ""), body=f.cleaned_data.get("body", ""), id=f.cleaned_data.get("id")
            )
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]


CannedFormSet = forms.formset_factory(
    CannedForm, formset=BaseCannedFormSet, extra=2, can_delete=True, max_num=50, validate_max=True
)


def canned_formset(*, campaign: FieldCampaign | None, data=None) -> BaseCannedFormSet:
    initial = (
        [{"id": c.pk, "title": c.title, "body": c.body} for c in campaign.canned_responses.all()] if campaign else []
    )
    formset = CannedFormSet(data, initial=initial, prefix="canned")
    for form in formset.forms:
        form.fields["DELETE"].label = _("Remove")
    return formset


class NumberForm(forms.Form):
    number = forms.CharField(
        label=gettext_lazy("Number"), max_length=20, help_text=gettext_lazy("E.164, e.g. +15155550100")
    )
    daily_cap = forms.IntegerField(label=gettext_lazy("Texts a day"), initial=200)

    add_service_errors = _add_errors


class ReassignForm(forms.Form):
    who = forms.CharField(
        label=gettext_lazy("Give them to"),
        max_length=254,
        help_text=gettext_lazy("The volunteer's username or email address."),
    )
