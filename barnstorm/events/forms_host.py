"""Forms of the host and organizer pages. They parse; the services in services.py and
services_host.py decide."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from barnstorm.events.models import Event, EventCampaign, EventKind, EventStatus
from barnstorm.events.services import EventInput
from barnstorm.events.services_host import SPAWN_KINDS, CampaignInput, EventChanges
from barnstorm.people.models import LocalGroup
from barnstorm.people.normalize import zip_info
from barnstorm.people.services import AddressInput, PersonInput


def add_service_errors(form: forms.Form, error) -> None:
    """Show a service's ValidationError on the fields it names, everything else above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)


# Where virtual events say their time is (in-person events take their ZIP code's zone).
TIME_ZONES = [
    ("America/New_York", gettext_lazy("Eastern")),
    ("America/Chicago", gettext_lazy("Central")),
    ("America/Denver", gettext_lazy("Mountain")),
    ("America/Phoenix", gettext_lazy("Arizona")),
    ("America/Los_Angeles", gettext_lazy("Pacific")),
    ("America/Anchorage", gettext_lazy("Alaska")),
    ("Pacific/Honolulu", gettext_lazy("Hawaii")),
]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class _WhenFields(forms.Form):
    """A date and two clock times, read in the event's own zone."""

    date = forms.DateField(label=gettext_lazy("Date"), widget=DATE)
    start_time = forms.TimeField(label=gettext_lazy("Starts"), widget=TIME)
    end_time = forms.TimeField(label=gettext_lazy("Ends"), widget=TIME)

    def zone_name(self) -> str:
        raise NotImplementedError

    def aware(self, time: datetime.time) -> datetime.datetime:
        return datetime.datetime.combine(self.cleaned_data["date"], time, tzinfo=ZoneInfo(self.zone_name()))


class HostEventForm(_WhenFields):
    """ "Host an event": any signed-in supporter; organizers may name another person as host."""

    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("Type of event"), choices=())
    description = forms.CharField(
        label=gettext_lazy("What will happen"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    is_virtual = forms.BooleanField(label=gettext_lazy("Online (virtual) event"), required=False)
    virtual_url = forms.URLField(
        label=gettext_lazy("Link to join (online events)"), required=False, assume_scheme="https"
    )
    timezone = forms.ChoiceField(
        label=gettext_lazy("Time zone (online events)"), choices=TIME_ZONES, required=False, initial="America/New_York"
    )
    venue = forms.CharField(
        label=gettext_lazy("Place (a café, a union hall, your home)"), max_length=200, required=False
    )
    street = forms.CharField(label=gettext_lazy("Street address"), max_length=200, required=False)
    zip_code = forms.CharField(
        label=gettext_lazy("ZIP code"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    is_private_home = forms.BooleanField(
        label=gettext_lazy("It's a private home: show the street address only to people who RSVP"), required=False
    )
    capacity = forms.IntegerField(
        label=gettext_lazy("How many people can come (blank: no limit)"), min_value=1, required=False
    )
    group = forms.ModelChoiceField(
        label=gettext_lazy("Local group hosting it"),
        queryset=LocalGroup.objects.none(),
        required=False,
        empty_label=gettext_lazy("None"),
    )
    campaign = forms.ModelChoiceField(
        label=gettext_lazy("Part of"),
        queryset=EventCampaign.objects.all(),
        required=False,
        empty_label=gettext_lazy("None"),
    )

    kinds: tuple[str, ...] = tuple(k for k in EventKind.values if k != EventKind.RALLY)
    field_order = [
        "title", "kind", "description", "date", "start_time", "end_time", "is_virtual", "virtual_url", "timezone",
        "venue", "street", "zip_code", "is_private_home", "capacity", "group", "campaign",
    ]  # fmt: skip

    def __init__(self, *args, groups=None, staff: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = EventKind.values if staff else self.kinds
        self.fields["kind"].choices = [(k, label) for k, label in EventKind.choices if k in kinds]
        if groups is not None:
            self.fields["group"].queryset = groups
        # Only choices someone can make: most hosts lead no group, and there may be no campaign yet.
        for name in ("group", "campaign"):
            if not self.fields[name].queryset.exists():
                del self.fields[name]
        if staff:
            self.fields["host_email"] = forms.EmailField(
                label=gettext_lazy("Host's email (blank: you)"), required=False
            )

    def zone_name(self) -> str:
        data = self.cleaned_data
        if data.get("is_virtual"):
            return data.get("timezone") or "America/New_York"
        place = zip_info((data.get("zip_code") or "").strip())
        return place.timezone if place and place.timezone else "America/New_York"

    def to_input(self, **extra) -> EventInput:
        data = self.cleaned_data
        return EventInput(
            title=data["title"],
            kind=data["kind"],
            starts_at=self.aware(data["start_time"]),
            ends_at=self.aware(data["end_time"]),
            description=data["description"],
            timezone=self.zone_name(),
            is_virtual=data["is_virtual"],
            virtual_url=data["virtual_url"],
            venue=data["venue"],
            street=data["street"],
            zip_code=data["zip_code"].strip(),
            is_private_home=data["is_private_home"],
            capacity=data["capacity"],
            group_id=data["group"].pk if data.get("group") else None,
            campaign_id=data["campaign"].pk if data.get("campaign") else None,
            **extra,
        )


class SpawnEventForm(HostEventForm):
    """The barnstorm flow: an attendee proposes their own phone bank or canvass."""

    kinds = tuple(SPAWN_KINDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("group", "campaign"):  # the meeting's campaign is theirs; groups are for leaders
            self.fields.pop(name, None)


class EventEditForm(_WhenFields):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("What will happen"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    capacity = forms.IntegerField(
        label=gettext_lazy("How many people can come (blank: no limit)"), min_value=1, required=False
    )
    field_order = ["title", "description", "date", "start_time", "end_time", "capacity"]

    def __init__(self, *args, event: Event, **kwargs):
        self.event = event
        zone = ZoneInfo(event.timezone)
        start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
        initial = {
            "title": event.title,
            "description": event.description,
            "date": start.date(),
            "start_time": start.time().replace(second=0, microsecond=0),
            "end_time": end.time().replace(second=0, microsecond=0),
            "capacity": event.capacity,
        }
        super().__init__(*args, initial=initial, **kwargs)

    def zone_name(self) -> str:
        return self.event.timezone

    def clean(self):
        data = super().clean()
        if self.event.status == EventStatus.CANCELLED:
            raise forms.ValidationError(_("A cancelled event can't be changed."))
        return data

    def to_changes(self) -> EventChanges:
        data = self.cleaned_data
        return EventChanges(
            title=data["title"],
            description=data["description"],
            starts_at=self.aware(data["start_time"]),
            ends_at=self.aware(data["end_time"]),
            capacity=data["capacity"],
        )


class MessageForm(forms.Form):
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=150)
    body = forms.CharField(label=gettext_lazy("Message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 8}))


class WalkInForm(forms.Form):
    """Someone at the door without an RSVP: a name, and an email or a phone to reach them again."""

    given_name = forms.CharField(label=gettext_lazy("First name"), max_length=128)
    family_name = forms.CharField(label=gettext_lazy("Last name"), max_length=128)
    email = forms.CharField(
        label=gettext_lazy("Email"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=gettext_lazy("Mobile phone"), max_length=32, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    zip_code = forms.CharField(
        label=gettext_lazy("ZIP code"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    sms_consent = forms.BooleanField(
        label=gettext_lazy("They agree to get campaign texts (reply STOP to opt out)"), required=False
    )

    def clean(self):
        data = super().clean()
        if not data.get("email", "").strip() and not data.get("phone", "").strip():
            raise forms.ValidationError(_("An email address or a phone number is needed."))
        return data

    def to_input(self) -> PersonInput:
        data = self.cleaned_data
        return PersonInput(
            email=data["email"],
            phone=data["phone"],
            phone_kind="mobile",
            sms_consent=True if data["sms_consent"] and data["phone"] else None,
            given_name=data["given_name"],
            family_name=data["family_name"],
            address=AddressInput(zip_code=data["zip_code"]) if data["zip_code"] else None,
            source="event walk-in",
        )


class RejectForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why (the host sees this)"), max_length=300)


class StaffFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", gettext_lazy("Any status")), *EventStatus.choices], required=False)
    kind = forms.ChoiceField(choices=[("", gettext_lazy("Any type")), *EventKind.choices], required=False)
    campaign = forms.ModelChoiceField(
        queryset=EventCampaign.objects.all(), required=False, empty_label=gettext_lazy("Any campaign")
    )
    when = forms.ChoiceField(
        choices=[
            ("", gettext_lazy("Any time")),
            ("upcoming", gettext_lazy("Upcoming")),
            ("past", gettext_lazy("Past")),
        ],
        required=False,
    )
    q = forms.CharField(required=False, max_length=100)


class CampaignForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    slug = forms.SlugField(label=gettext_lazy("Address (letters, digits and dashes)"), max_length=100)
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def to_input(self) -> CampaignInput:
        return CampaignInput(**self.cleaned_data)
