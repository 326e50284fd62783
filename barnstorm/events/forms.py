"""Forms of the supporter's side of events: the search and the RSVP."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from barnstorm.events.models import EventKind, Shift
from barnstorm.events.selectors import Place, place_for_zip
from barnstorm.people.forms import PersonFieldsForm
from barnstorm.people.normalize import zip_info

RADIUS_CHOICES = [
    (5, _("5 miles")),
    (10, _("10 miles")),
    (25, _("25 miles")),
    (50, _("50 miles")),
    (100, _("100 miles")),
]
DEFAULT_MILES = 25
VIRTUAL = "virtual"
WHEN_CHOICES = [
    ("", _("Any time")),
    ("today", _("Today")),
    ("weekend", _("This weekend")),
    ("week", _("Next 7 days")),
    ("month", _("Next 30 days")),
]


@dataclass(frozen=True)
class SearchCriteria:
    """The arguments of selectors.events_search, read from the form."""

    place: Place | None
    miles: int
    kinds: list[str] | None
    virtual: bool | None
    date_from: datetime.datetime | None
    date_to: datetime.datetime | None


class EventSearchForm(forms.Form):
    zip = forms.CharField(
        label=_("ZIP code"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code", "placeholder": "50309"}),
    )
    # Filled by "Use my location" (the browser's geolocation); a typed ZIP code wins over them.
    lat = forms.FloatField(min_value=-90, max_value=90, required=False, widget=forms.HiddenInput)
    lng = forms.FloatField(min_value=-180, max_value=180, required=False, widget=forms.HiddenInput)
    miles = forms.TypedChoiceField(
        label=_("Within"), choices=RADIUS_CHOICES, coerce=int, required=False, empty_value=DEFAULT_MILES
    )
    type = forms.ChoiceField(
        label=_("Type"),
        choices=[("", _("All types")), *EventKind.choices, (VIRTUAL, _("Virtual (online)"))],
        required=False,
    )
    when = forms.ChoiceField(label=_("When"), choices=WHEN_CHOICES, required=False)

    def clean(self):
        data = super().clean()
        data["place"] = None
        code = (data.get("zip") or "").strip()
        if code:
            data["place"] = place_for_zip(code)
            if data["place"] is None:
                self.add_error(
                    "zip",
                    _("We don't know the ZIP code “%(zip)s”. Check it, or use your location.") % {"zip": code[:10]},
                )
        elif data.get("lat") is not None and data.get("lng") is not None:
            data["place"] = Place(data["lat"], data["lng"], str(_("your location")))
        return data

    def criteria(self, *, now: datetime.datetime | None = None) -> SearchCriteria:
        data = self.cleaned_data
        kind = data.get("type") or ""
        date_from, date_to = self._dates(data.get("when") or "", now or timezone.now())
        return SearchCriteria(
            place=data["place"],
            miles=data.get("miles") or DEFAULT_MILES,
            kinds=[kind] if kind in EventKind.values else None,
            virtual=True if kind == VIRTUAL else None,
            date_from=date_from,
            date_to=date_to,
        )

    def _dates(self, when: str, now: datetime.datetime):
        """ "Today" and "this weekend" are the searcher's: in the ZIP code's zone when there is one."""
        if not when:
            return None, None
        info = zip_info((self.cleaned_data.get("zip") or "").strip())
        zone = ZoneInfo((info.timezone if info else "") or settings.TIME_ZONE)
        local_now = now.astimezone(zone)
        midnight = datetime.datetime.combine(local_now.date(), datetime.time(), tzinfo=zone)
        if when == "today":
            return now, midnight + datetime.timedelta(days=1)
        if when == "weekend":
            saturday = midnight + datetime.timedelta(days=(5 - local_now.weekday()) % 7)
            if local_now.weekday() == 6:  # Sunday: this weekend is today
                saturday = midnight - datetime.timedelta(days=1)
            return max(now, saturday), saturday + datetime.timedelta(days=2)
        days = 7 if when == "week" else 30
        return now, now + datetime.timedelta(days=days)


# --- RSVP --------------------------------------------------------------------------------------


def shift_label(shift: Shift, zone: ZoneInfo) -> str:
    """A shift as a person picks it, in the event's own zone; `seats_left` is annotated by the view."""
    start, end = shift.starts_at.astimezone(zone), shift.ends_at.astimezone(zone)
    label = f"{date_format(start, 'D, M j, g:i A')} – {date_format(end, 'g:i A T')}"
    seats_left = getattr(shift, "seats_left", None)
    if seats_left is not None:
        if seats_left <= 0:
            label += " · " + str(_("full: waitlist"))
        else:
            label += " · " + ngettext("%(n)d spot left", "%(n)d spots left", seats_left) % {"n": seats_left}
    return label


class RsvpChoicesForm(forms.Form):
    """What an attendee chooses, and may change later from their link: guests and shift."""

    guests = forms.IntegerField(
        label=_("Guests you're bringing"),
        min_value=0,
        initial=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
    )
    shift = forms.TypedChoiceField(
        label=_("Pick a shift"), coerce=int, required=False, empty_value=None, widget=forms.RadioSelect
    )

    def __init__(self, *args, shifts=(), zone: ZoneInfo | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if shifts:
            zone = zone or ZoneInfo(settings.TIME_ZONE)
            self.fields["shift"].choices = [(s.pk, shift_label(s, zone)) for s in shifts]
            self.fields["shift"].required = True
        else:
            del self.fields["shift"]


class RsvpForm(RsvpChoicesForm, PersonFieldsForm):
    # A field people never see; bots fill every field they find.
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))
