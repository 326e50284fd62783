"""Forms for the staff mailing pages. They parse input; what a mailing may be is the service's call
(`services.mailing_save` checks subjects, templates and the model's limits, and its errors land on
these fields)."""

from __future__ import annotations

from email.utils import parseaddr

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from barnstorm.mailings.models import AbMeasure, Mailing, Topic
from barnstorm.mailings.services import MAILING_FIELDS, MAX_VARIANTS
from barnstorm.segments.models import Segment

SUBJECT_FIELDS = [f"subject_{i}" for i in range(MAX_VARIANTS)]
STARTER_HTML = '<p>Hi {{ person.given_name|default:"Friend" }},</p>\n\n<p></p>\n'


class MailingForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Internal name"), max_length=200, help_text=gettext_lazy("Only staff see it.")
    )
    from_name = forms.CharField(label=gettext_lazy("From name"), max_length=100)
    from_address = forms.EmailField(label=gettext_lazy("From address"))
    reply_to = forms.EmailField(
        label=gettext_lazy("Reply-to"), required=False, help_text=gettext_lazy("Blank: replies go to the from address.")
    )
    # Not required here: the service says what is wrong with the subjects, once, for every caller.
    subject_0 = forms.CharField(label=gettext_lazy("Subject A"), max_length=300, required=False)
    subject_1 = forms.CharField(label=gettext_lazy("Subject B"), max_length=300, required=False)
    subject_2 = forms.CharField(label=gettext_lazy("Subject C"), max_length=300, required=False)
    subject_3 = forms.CharField(label=gettext_lazy("Subject D"), max_length=300, required=False)
    html_body = forms.CharField(
        label=gettext_lazy("HTML body"), strip=False, widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "true"})
    )
    text_body = forms.CharField(
        label=gettext_lazy("Plain-text body"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("Optional: made from the HTML when left empty."),
    )
    segment = forms.ModelChoiceField(
        label=gettext_lazy("Send to"),
        queryset=Segment.objects.only("id", "name").order_by("name"),
        required=False,
        empty_label=gettext_lazy("(choose before sending)"),
    )
    exclusions = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Leave out people in"),
        queryset=Segment.objects.only("id", "name").order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    topic = forms.ModelChoiceField(
        label=gettext_lazy("Topic"),
        queryset=Topic.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("(none: only unsubscribes stop it)"),
        help_text=gettext_lazy("People who opted out of the topic are left out."),
    )
    rate_limit = forms.IntegerField(
        label=gettext_lazy("Messages per second"),
        min_value=0,
        initial=0,
        help_text=gettext_lazy("0: as fast as the workers go."),
    )
    # Its limits (1–100) are the model's: mailing_save refuses a share outside them.
    ab_sample_percent = forms.IntegerField(
        label=gettext_lazy("A/B test sample (%)"),
        initial=20,
        help_text=gettext_lazy("With two or more subjects: the share that gets the variants; the rest get the winner."),
    )
    ab_measure = forms.ChoiceField(label=gettext_lazy("Winner by"), choices=AbMeasure.choices, initial=AbMeasure.CLICKS)
    ab_wait_minutes = forms.IntegerField(label=gettext_lazy("Pick the winner after (minutes)"), min_value=0, initial=60)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SUBJECT_FIELDS[1:]:
            self.fields[name].help_text = _("Optional: another subject to test.")

    @classmethod
    def initial_for(cls, mailing: Mailing | None) -> dict:
        """What the form starts with: a new mailing's defaults, or the mailing as saved."""
        if mailing is None:
            from_name, from_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
            return {
                "from_name": from_name or settings.SITE_NAME,
                "from_address": from_address,
                "html_body": STARTER_HTML,
            }
        initial = {name: getattr(mailing, name) for name in MAILING_FIELDS}
        initial.update(segment=mailing.segment_id, topic=mailing.topic_id, exclusions=list(mailing.exclusions.all()))
        for variant in mailing.variants.all():
            initial[f"subject_{variant.index}"] = variant.subject
        return initial

    def _subjects_given(self) -> list[str]:
        return [name for name in SUBJECT_FIELDS if self.cleaned_data.get(name, "").strip()]

    def service_arguments(self) -> dict:
        """The keyword arguments of services.mailing_save, from the cleaned data."""
        data = self.cleaned_data
        return {
            "fields": {name: data[name] for name in MAILING_FIELDS},
            "subjects": [data[name] for name in self._subjects_given()],
            "exclusions": list(data["exclusions"]),
        }

    def add_service_errors(self, error: ValidationError) -> None:
        """Put the service's errors on the fields they name.

        The service numbers subjects as it got them (blank ones left out), so its subject_1 is the
        second subject filled in, which may be the form's subject_2.
        """
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        given = self._subjects_given()
        for key, errors in error.error_dict.items():
            if key.startswith("subject_") and key[len("subject_") :].isdigit():
                index = int(key[len("subject_") :])
                key = given[index] if index < len(given) else SUBJECT_FIELDS[0]
            if key != NON_FIELD_ERRORS and key not in self.fields:
                key = None
            self.add_error(None if key == NON_FIELD_ERRORS else key, errors)


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(
        label=gettext_lazy("Send at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A datetime-local input has no zone: it is read, and shown, in the site's time zone.
        self.fields["send_at"].help_text = _("Time zone: %(zone)s") % {"zone": timezone.get_current_timezone_name()}


class TestSendForm(forms.Form):
    to = forms.EmailField(label=gettext_lazy("Send a test to"))


class TopicForm(forms.ModelForm):
    class Meta:
        model = Topic
        fields = ["name", "description"]

    def validate_unique(self):
        """Left to services.topic_create: the table's constraint decides, even for two adds at once."""
