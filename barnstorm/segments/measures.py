"""Is the base engaged or only donating? The "not an ATM" measures, and the next step to ask of a person.

- The not-an-ATM index: of the people who gave in the last 90 days, the share who also took a
  non-donation action (any kind on the volunteer rung or above of ENGAGEMENT_LADDER) in the
  same 90 days. Both sides are read from the activity log through its (kind, occurred_at) index.
- Movement: moves up and down the ladder per week, from LevelChange (indexed on changed_at).
- New hosts per barnstorm meeting: the events proposed at barnstorm meetings held in a window
  (Event.spawned_from) per meeting, and how many distinct people host them.

All reads; nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from barnstorm.activity.models import Activity
from barnstorm.donations.models import DonationPage
from barnstorm.events.models import Event, EventKind, EventStatus
from barnstorm.events.selectors import events_search, place_for_zip
from barnstorm.people.models import Person, PostalAddress
from barnstorm.segments import ladder
from barnstorm.segments.models import Level, LevelChange

WINDOW = timedelta(days=90)
LIVE_EVENT = Q(status__in=[EventStatus.PUBLISHED, EventStatus.PENDING])


@dataclass(frozen=True)
class AtmIndex:
    donors: int  # gave in the window
    engaged_donors: int  # of them, also took a non-donation action in the window

    @property
    def share(self) -> float | None:
        return self.engaged_donors / self.donors if self.donors else None


def not_an_atm_index(*, now: datetime | None = None, window: timedelta = WINDOW) -> AtmIndex:
    now = now or timezone.now()
    since = now - window
    recent = Activity.objects.filter(occurred_at__gte=since, occurred_at__lte=now).order_by()
    donors = recent.filter(kind__in=ladder.donation_kinds()).values("person_id").distinct()
    # Per donor, one probe of the (person, time) index: an IN over every volunteer action would be
    # a subplan too big to hash at millions of rows, re-scanned for each donor.
    acted = Exists(recent.filter(person_id=OuterRef("pk"), kind__in=ladder.kinds_at_or_above(Level.VOLUNTEER)))
    counts = Person.objects.filter(pk__in=donors).aggregate(donors=Count("pk"), engaged=Count("pk", filter=Q(acted)))
    return AtmIndex(donors=counts["donors"], engaged_donors=counts["engaged"])


@dataclass(frozen=True)
class WeekOfMoves:
    start: date  # the Monday
    up: int
    down: int


def ladder_movement_by_week(*, weeks: int = 12, now: datetime | None = None) -> list[WeekOfMoves]:
    """Moves up and down the ladder in each of the last `weeks` weeks (Monday to Sunday, site time)."""
    today = timezone.localdate(now or timezone.now())
    first_monday = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    start = timezone.make_aware(datetime.combine(first_monday, datetime.min.time()))
    rows = (
        LevelChange.objects.filter(changed_at__gte=start)
        .annotate(day=TruncDate("changed_at", tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values("day")
        .annotate(
            up=Count("id", filter=Q(to_level__gt=F("from_level"))),
            down=Count("id", filter=Q(to_level__lt=F("from_level"))),
        )
    )
    up = [0] * weeks
    down = [0] * weeks
    for row in rows:  # at most 7 × weeks rows: grouped by day, folded into weeks here (portable)
        day = row["day"].date() if isinstance(row["day"], datetime) else row["day"]
        index = (day - first_monday).days // 7
        if 0 <= index < weeks:
            up[index] += row["up"]
            down[index] += row["down"]
    return [WeekOfMoves(first_monday + timedelta(weeks=i), up[i], down[i]) for i in range(weeks)]


@dataclass(frozen=True)
class BarnstormYield:
    meetings: int  # barnstorm meetings that started in the window
    spawned_events: int  # events proposed at them (not rejected or cancelled)
    new_hosts: int  # distinct people hosting those events

    @property
    def events_per_meeting(self) -> float | None:
        return self.spawned_events / self.meetings if self.meetings else None

    @property
    def hosts_per_meeting(self) -> float | None:
        return self.new_hosts / self.meetings if self.meetings else None


def new_hosts_per_barnstorm(*, now: datetime | None = None, window: timedelta = WINDOW) -> BarnstormYield:
    now = now or timezone.now()
    meetings = Event.objects.filter(
        kind=EventKind.BARNSTORM, status=EventStatus.PUBLISHED, starts_at__gte=now - window, starts_at__lte=now
    ).order_by()
    spawned = Event.objects.filter(LIVE_EVENT, spawned_from__in=meetings.values("pk")).order_by()
    totals = spawned.aggregate(events=Count("pk"), hosts=Count("host_id", distinct=True))
    return BarnstormYield(meetings=meetings.count(), spawned_events=totals["events"], new_hosts=totals["hosts"])


# Ladder-aware asks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    kind: str  # "attend", "host", "give", "recruit"
    title: str
    reason: str
    url: str
    event: Event | None = None


def next_step_for(person: Person, *, now: datetime | None = None) -> Ask:
    """The next step up the ladder to ask of this person (the thank-you page); see `next_steps_for`."""
    return next_steps_for([person.pk], now=now)[person.pk]


def next_steps_for(person_ids: Sequence[int], *, now: datetime | None = None) -> dict[int, Ask]:
    """Each person's next step up the ladder to ask of them (thank-you pages, mailings):

    - a donor who never attended an event → the nearest upcoming event (by their primary ZIP);
    - a volunteer who never hosted → host an event;
    - a host or group leader → bring others along (recruit);
    - a supporter → the nearest event if there is one, else a first gift.
    Reads the people's activity kinds and standing afresh, so it is right even before the ladder
    refresh has run. The same few queries for any number of people, plus one event search per
    ZIP among those asked to an event.
    """
    now = now or timezone.now()
    ids = list(person_ids)
    done: dict[int, set[str]] = defaultdict(set)
    kinds = Activity.objects.filter(person_id__in=ids, kind__in=ladder.kinds_at_or_above(Level.DONOR))
    for person_id, kind in kinds.order_by().values_list("person_id", "kind").distinct():
        done[person_id].add(kind)
    standings = ladder.standings_for(ids, now=now)
    hosts = set(Event.objects.filter(host_id__in=ids).order_by().values_list("host_id", flat=True).distinct())
    zips = _primary_zips(ids)
    events_by_zip: dict[str, Event | None] = {}
    host_url = reverse("events:host")

    def nearest_event(person_id: int) -> Event | None:
        zip_code = zips.get(person_id, "")
        if zip_code not in events_by_zip:
            place = place_for_zip(zip_code) if zip_code else None
            found = events_search(place=place, date_from=now, limit=1)
            events_by_zip[zip_code] = found[0] if found else None
        return events_by_zip[zip_code]

    donate_url = None
    asks = {}
    for person_id in ids:
        level = standings[person_id].level
        attended = bool(done[person_id] & {"attended", "rsvp"})
        hosted = "hosted_event" in done[person_id] or person_id in hosts
        if level >= Level.LEADER or hosted:
            ask = Ask("recruit", _("Bring a friend to your next event"), _("You already lead."), reverse("events:mine"))
        elif level == Level.VOLUNTEER:
            ask = Ask("host", _("Host an event of your own"), _("You have taken part; lead next."), host_url)
        elif level == Level.DONOR and attended:
            ask = Ask("host", _("Host an event of your own"), _("You give and show up."), host_url)
        elif (event := nearest_event(person_id)) is not None:
            reason = _("Meet supporters near you.")
            if level == Level.DONOR:
                reason = _("Thank you for giving; come meet us.")
            ask = Ask("attend", event.title, reason, reverse("events:detail", args=[event.pk]), event)
        elif level == Level.DONOR:
            ask = Ask("host", _("Host an event of your own"), _("There is no event near you yet."), host_url)
        else:
            donate_url = _donate_url() if donate_url is None else donate_url
            ask = Ask("give", _("Chip in to the campaign"), _("A first gift powers everything else."), donate_url)
        asks[person_id] = ask
    return asks


def _donate_url() -> str:
    """The newest donation page taking gifts (settings.ENGAGEMENT_DONATE_URL overrides)."""
    if getattr(settings, "ENGAGEMENT_DONATE_URL", ""):
        return settings.ENGAGEMENT_DONATE_URL
    slug = DonationPage.objects.filter(is_active=True).order_by("-created_at").values_list("slug", flat=True).first()
    return reverse("donations:donate", args=[slug]) if slug else ""


def _primary_zips(person_ids: list[int]) -> dict[int, str]:
    """Each person's ZIP code: their primary address's, else their newest address's."""
    zips: dict[int, str] = {}
    addresses = PostalAddress.objects.filter(person_id__in=person_ids).exclude(zip_code="")
    rows = addresses.order_by("person_id", "-is_primary", "-id").values_list("person_id", "zip_code")
    for person_id, zip_code in rows:
        zips.setdefault(person_id, zip_code)
    return zips
