"""Demo field campaigns for `barnstorm seed`: a phone bank, a texting campaign and a canvass in Iowa,
two weeks into their work.

One script, "Voter ID" (saved with `script_save`): an introduction, a support question from
"Strong support" to "Against" ("Against" jumps to the closing words, past the rest), the issues
that matter (several answers), a free-text "anything else" and a thank-you. Each campaign follows
it, targets a saved segment and is launched by `campaign_start`:

- "Iowa voter ID calls", a phone bank for Iowa's supporters (those with a number that may be
  called), tied to the next online phone bank party on the events calendar. A few hundred calls
  over the last two weeks in evening and weekend sessions: a volunteer takes a batch
  (`contacts_lease`) and calls it through (`attempt_record`). About 30 % are reached and
  answer the questions; most others don't pick up or get a message, a few are wrong numbers,
  refuse, have moved or ask not to be called. Whoever wasn't reached comes back after the retry wait.
- "Iowa caucus texts", peer-to-peer texting to Iowa's supporters who agreed to texts, from a pool
  of four sandbox numbers, with canned responses. Each first text is one `text_initial_send` in
  the recipient's daytime; about a third write back (through the sandbox phone and
  `text_inbound_record`), a few with STOP, which opts the number out the real way, and the
  volunteer answers with a canned response. A conversation quiet for a day and a half is recorded
  (`attempt_record`); the latest stay open with their volunteer, an opted-out one among them.
- "Des Moines doors", a canvass of Polk County: its households cut into turfs of 50 doors
  (`turfs_cut`), three of them claimed (`turf_claim`) and knocked door by door (`door_record`):
  one to the end a week ago, one half-way, one just started yesterday by the demo login.

The volunteers are six of Iowa's volunteers with accounts of their own: `volunteer`, who signs in
with the demo password (DEMO_PASSWORD, as `organizer` does), and five who sign in by email link.

Every write goes through the field services with `now=` set to when it happened; what they stamp
with the wall clock (attempts, texts, the activity log, opt-outs, launch times) is then moved back
to that moment. A few hundred calls, texts and doors: a few seconds for 20,000 people. Run again,
the step adds nothing: the campaigns are made once.
"""

from __future__ import annotations

import bisect
import math
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, IntegerField, Prefetch, Value, When
from django.utils import timezone

from barnstorm.accounts.models import Role, User
from barnstorm.activity.models import Activity
from barnstorm.events.models import Event, EventKind, EventStatus
from barnstorm.field import canvass, services, texting
from barnstorm.field.models import (
    Attempt,
    CampaignKind,
    CannedResponse,
    Contact,
    Disposition,
    Door,
    DoorResult,
    FieldCampaign,
    Script,
    SendingNumber,
    StepKind,
    TextMessage,
    Turf,
    TurfStatus,
)
from barnstorm.field.services import AnswerInput
from barnstorm.field.services_staff import (
    CannedInput,
    ChoiceInput,
    StepInput,
    campaign_save,
    campaign_start,
    script_save,
    sending_number_add,
)
from barnstorm.field.turfs import haversine_meters
from barnstorm.lib import seeding
from barnstorm.lib.bulk import bulk_update_objects
from barnstorm.lib.management.commands.seed import DEFAULT_PASSWORD
from barnstorm.lib.models import SandboxMessage
from barnstorm.lib.sms import sms_provider
from barnstorm.lib.sms.sandbox import SandboxProvider
from barnstorm.people.models import EmailAddress, Person, PhoneNumber, PostalAddress, Tagging
from barnstorm.segments.models import Segment, SegmentAudit, SegmentSnapshot, SnapshotMember
from barnstorm.segments.seed import demo_segments
from barnstorm.segments.services import segment_count_refresh, segment_save

IOWA = ZoneInfo("America/Chicago")
DEMO_LOGIN = "volunteer"
VOLUNTEERS = 6  # the demo login and five others
VOLUNTEER_TAGS = ("volunteer", "phone-banker", "canvasser")
CANVASS_COUNTY = "Polk County"

# At 20,000 supporters; fewer (by the square root) for smaller demos, never below the minimum.
CALLS_AT_20K, MIN_CALLS = 400, 40
FIRST_TEXTS_AT_20K, MIN_FIRST_TEXTS = 300, 30
DOORS_PER_TURF = 50

SCRIPT_NAME = "Voter ID"
PHONE_NAME = "Iowa voter ID calls"
TEXT_NAME = "Iowa caucus texts"
CANVASS_NAME = "Des Moines doors"

SUPPORT = {"Strong support": 27, "Lean support": 19, "Undecided": 28, "Lean against": 12, "Against": 14}
ISSUES = {"Jobs and wages": 30, "Health care": 28, "Clean water": 18, "Schools": 14, "Farm economy": 12, "Climate": 10}
ANYTHING_ELSE = [
    "Wants a yard sign.",
    "Asked how to caucus for the first time.",
    "Worried about the hospital in town closing.",
    "Would like Maya to visit Ames.",
    "Her son works at the packing plant: wages are the issue.",
    "Asked about property taxes.",
    "Can drive neighbors to the caucus.",
    "Wants to know Maya's position on the pipeline.",
]
CALL_NOTES = ["Call back after 6 pm.", "Hard of hearing: speak up.", "Prefers Spanish.", "Works nights."]

SEGMENTS = {
    "Iowa supporters": ({"type": "state", "state": ["IA"]}, "Supporters who live in Iowa."),
    "Iowa: can be texted": (
        {"and": [{"type": "state", "state": ["IA"]}, {"type": "sms_consent"}]},
        "Iowa supporters whose mobile number we may text.",
    ),
    "Polk County, Iowa": (
        {"type": "county", "county": CANVASS_COUNTY, "state": "IA"},
        "Des Moines and its suburbs: the canvass.",
    ),
}
ANSWERED_SEGMENT = "Strong support (Voter ID)"

# Phone bank ----------------------------------------------------------------------------------------

# What happens on a call: weights.
CALL_DISPOSITIONS = {
    Disposition.REACHED: 30,
    Disposition.NO_ANSWER: 42,
    Disposition.LEFT_MESSAGE: 11,
    Disposition.WRONG_NUMBER: 6,
    Disposition.REFUSED: 6,
    Disposition.MOVED: 3,
    Disposition.DO_NOT_CONTACT: 2,
}
# Local start times of a session: weekday evenings, weekend days.
CALL_HOURS = ((17, 17.5, 18, 18.5, 19), (10.5, 11, 13, 14))
CALLING_MINUTES = (1.5, 5)  # between two calls; a conversation takes longer

# Texting -------------------------------------------------------------------------------------------

SENDING_NUMBERS = ["+15155550101", "+15155550102", "+15155550103", "+15155550104"]
DAILY_CAP = 200
FIRST_TEXT = (
    'Hi {{ person.given_name|default:"there" }}, it\'s {{ volunteer.given_name }}, a volunteer with Maya Okafor. '
    "The Iowa caucuses are coming up: can Maya count on your support? Reply STOP to opt out."
)
CANNED = {
    "Caucus info": 'Thanks, {{ person.given_name|default:"friend" }}! Find your caucus site and time at '
    "okafor.example.org/caucus. Need a ride? Just ask.",
    "Volunteer ask": "That's great to hear! Could you make a few calls or knock doors with us one weekend? "
    "Sign up at okafor.example.org/volunteer",
    "Maya's plans": "Maya's plans for jobs, health care and clean water are at okafor.example.org/plans. "
    "Happy to answer questions!",
    "Wrong number": "Sorry to bother you! We'll fix our records.",
}
TEXT_HOURS = ((10, 11, 14, 17, 18), (10.5, 12, 14))
REPLY_SHARE = 0.38
# Who writes back, and how: weights, reply texts, what the volunteer answers with.
REPLIES = {
    "support": (38, ["Yes! Maya has my vote.", "Count me in", "Yes, absolutely.", "Already decided, I'm with Maya!"],
                "Volunteer ask"),
    "undecided": (27, ["Still making up my mind. What's her plan on health care?", "Maybe. Where do I caucus?",
                       "Not sure yet, who else is running?"], "Maya's plans"),
    "against": (16, ["No, I'm supporting someone else.", "Not interested, thanks.", "Nope."], None),
    "wrong": (8, ["Wrong number, sorry.", "You have the wrong person."], "Wrong number"),
    "stop": (11, ["STOP", "Stop", "stop texting me", "Please STOP."], None),
}  # fmt: skip
# What a reply says about support, as the volunteer records it.
TEXTED_SUPPORT = {
    "support": ("Strong support", "Strong support", "Lean support"),
    "undecided": ("Undecided", "Undecided", "Lean support"),
}
SECOND_REPLIES = ["Sure, I can make some calls.", "Maybe a Saturday. Send me the info.", "Thanks!"]
QUIET = timedelta(hours=36)  # a conversation quiet this long is recorded; newer ones stay open

# Canvass --------------------------------------------------------------------------------------------

DOOR_RESULTS = {
    DoorResult.NOT_HOME: 47,
    DoorResult.TALKED: 33,
    DoorResult.REFUSED: 9,
    DoorResult.MOVED: 4,
    DoorResult.INACCESSIBLE: 7,
}
DOOR_NOTES = ["Dog in the yard.", "Come back on a weekend.", "Gate locked.", "Asked for a yard sign."]
DOORS_PER_OUTING = 22


@dataclass(frozen=True)
class _Claim:
    days_ago: int
    hour: float  # local time of the claim
    share: float  # of the turf's doors knocked
    demo_login: bool = False


# A turf walked to the end a week ago, one half-way, and the demo login's, just started.
CLAIMS = [_Claim(8, 9.5, 1.0), _Claim(4, 16.5, 0.6), _Claim(1, 10, 0.3, demo_login=True)]


@dataclass
class _Totals:
    calls: int = 0
    reached: int = 0
    first_texts: int = 0
    replies: int = 0
    opt_outs: int = 0
    open_conversations: int = 0
    turfs: int = 0
    claimed: int = 0
    doors: int = 0


# Putting the clock back -------------------------------------------------------------------------------


@dataclass
class _History:
    """When each thing the services wrote really happened.

    The services are called with `now=` in the past, but stamp attempts, texts and the activity log
    with the wall clock. Each call is made `at(when)`, which notes where the activity log stood;
    `backdate` then gives every entry made since the time of the call that made it.
    """

    marks: list[int] = field(default_factory=list)  # the activity log's last id before each call
    times: list[datetime] = field(default_factory=list)
    attempts: dict[int, datetime] = field(default_factory=dict)
    texts: dict[int, datetime] = field(default_factory=dict)
    sandbox: dict[str, datetime] = field(default_factory=dict)  # by the provider's message id
    opt_outs: dict[str, datetime] = field(default_factory=dict)  # by number

    @contextmanager
    def at(self, when: datetime) -> Iterator[None]:
        with connection.cursor() as cursor:  # thousands of calls: the plain statement
            cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(Activity._meta.db_table)}")
            self.marks.append(cursor.fetchone()[0] or 0)
        self.times.append(when)
        yield

    def text(self, message: TextMessage, when: datetime) -> None:
        self.texts[message.pk] = when
        if message.provider_id:
            self.sandbox[message.provider_id] = when

    def attempts_backdate(self) -> None:
        """Before the next batch is leased: "not tried within the retry wait" reads these times."""
        bulk_update_objects([Attempt(pk=pk, created_at=when) for pk, when in self.attempts.items()], ["created_at"])
        self.attempts.clear()

    def backdate(self) -> None:
        self.attempts_backdate()
        bulk_update_objects([TextMessage(pk=pk, created_at=when) for pk, when in self.texts.items()], ["created_at"])
        sandbox = SandboxMessage.objects.filter(message_id__in=list(self.sandbox)).values_list("pk", "message_id")
        bulk_update_objects(
            [SandboxMessage(pk=pk, created_at=self.sandbox[mid]) for pk, mid in sandbox], ["created_at"]
        )
        phones = PhoneNumber.objects.filter(number__in=list(self.opt_outs), sms_opted_out_at__isnull=False)
        opted_out = [
            PhoneNumber(pk=pk, sms_opted_out_at=self.opt_outs[n]) for pk, n in phones.values_list("pk", "number")
        ]
        bulk_update_objects(opted_out, ["sms_opted_out_at"])
        if not self.marks:
            return
        entries = []
        for pk in Activity.objects.filter(pk__gt=self.marks[0]).order_by("pk").values_list("pk", flat=True):
            call = bisect.bisect_left(self.marks, pk) - 1  # the last call that started before it
            entries.append(Activity(pk=pk, occurred_at=self.times[call]))
        bulk_update_objects(entries, ["occurred_at"])


# When --------------------------------------------------------------------------------------------------


def _local(day: date, hour: float) -> datetime:
    """That time of day in Iowa, in UTC: the lease's raw SQL stores a datetime as given on SQLite."""
    return datetime.combine(day, clock(int(hour), round(hour % 1 * 60)), tzinfo=IOWA).astimezone(UTC)


def _sessions(
    rng: random.Random, now: datetime, days: int, per_day: tuple[int, ...], hours: tuple, length: timedelta
) -> list[datetime]:
    """Start times of volunteer sessions over the last `days` days, in Iowa's daytime, ended by now."""
    today = timezone.localtime(now, IOWA).date()
    weekday_hours, weekend_hours = hours
    starts = []
    for back in range(days, -1, -1):
        day = today - timedelta(days=back)
        for _ in range(rng.choice(per_day)):
            start = _local(day, rng.choice(weekend_hours if day.weekday() >= 5 else weekday_hours))
            start += timedelta(minutes=rng.choice((0, 0, 5, 15, 20)))
            if start + length < now - timedelta(minutes=10):
                starts.append(start)
    return sorted(starts)


def _spread(rng: random.Random, total: int, parts: int) -> list[int]:
    """`total` split over `parts`, unevenly (a volunteer makes 8 calls, another 25)."""
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    return [max(2, round(total * w / sum(weights))) for w in weights]


# Who ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Volunteer:
    user: User
    latitude: float | None
    longitude: float | None


def _demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD


@dataclass(frozen=True)
class _Candidate:
    person_id: int
    email: str
    # 0: a volunteer in Des Moines (Polk County), 1: one elsewhere in Iowa, 2: anyone in Iowa, 3: anyone.
    rank: int


def _volunteer_candidates(person_ids: list[int]) -> list[_Candidate]:
    """The demo's people who could volunteer (with an email, without a login yet), in id order."""
    tagged = set(Tagging.objects.filter(tag__name__in=VOLUNTEER_TAGS).values_list("person_id", flat=True))
    with_login = set(User.objects.exclude(person=None).values_list("person_id", flat=True))
    emails = dict(EmailAddress.objects.filter(is_primary=True).values_list("person_id", "address"))
    homes = {
        pid: (state, county)
        for pid, state, county in PostalAddress.objects.filter(is_primary=True, latitude__isnull=False)
        .exclude(line1="")
        .values_list("person_id", "state", "county")
    }
    candidates = []
    for pid in person_ids:
        if pid not in emails or pid in with_login:
            continue
        state, county = homes.get(pid, ("", ""))
        if state != "IA":
            rank = 3
        elif pid not in tagged:
            rank = 2
        else:
            rank = 0 if county == CANVASS_COUNTY else 1
        candidates.append(_Candidate(pid, emails[pid], rank))
    return candidates


def _demo_login(rng: random.Random, candidates: list[_Candidate]) -> User | None:
    """The `volunteer` login (made once): a volunteer of Des Moines if there is one, near the canvass."""
    user = User.objects.filter(username=DEMO_LOGIN).first()
    if user is not None or not candidates:
        return user
    best = min(c.rank for c in candidates)
    chosen = rng.choice([c for c in candidates if c.rank == best])
    return User.objects.create_user(
        DEMO_LOGIN, chosen.email, _demo_password(), role=Role.VOLUNTEER, person=Person.objects.get(pk=chosen.person_id)
    )


def _volunteers(rng: random.Random, demo: User, candidates: list[_Candidate]) -> list[_Volunteer]:
    """The demo login and up to five more, Iowa's volunteers first, who sign in by email link (their
    usernames are the ones such a link makes)."""
    picked: list[_Candidate] = []
    for ranks in ((0, 1), (2,), (3,)):
        tier = [c for c in candidates if c.rank in ranks and c.person_id != demo.person_id]
        picked += rng.sample(tier, min(VOLUNTEERS - 1 - len(picked), len(tier)))
    users = [demo]
    for candidate in picked:
        user = User(
            username=f"supporter-{candidate.person_id}",
            email=candidate.email,
            role=Role.VOLUNTEER,
            person_id=candidate.person_id,
        )
        user.set_unusable_password()
        user.save()
        users.append(user)
    homes = {
        pid: (lat, lng)
        for pid, lat, lng in PostalAddress.objects.filter(
            is_primary=True, person_id__in=[u.person_id for u in users if u.person_id]
        ).values_list("person_id", "latitude", "longitude")
    }
    return [_Volunteer(u, *homes.get(u.person_id, (None, None))) for u in users]


# What ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Script:
    script: Script
    support: int  # step ids
    issues: int
    anything_else: int
    choices: dict[str, int]  # label -> choice id, for both questions


def _script() -> _Script:
    """The "Voter ID" script, saved through the organizers' service (or kept from an earlier run)."""
    script = Script.objects.filter(name=SCRIPT_NAME).order_by("pk").first()
    if script is None or not {"Support", "Issues", "Anything else"} <= set(script.steps.values_list("name", flat=True)):
        steps = [
            StepInput(
                kind=StepKind.TEXT,
                text='Hi {{ person.given_name|default:"there" }}, I\'m {{ volunteer.given_name }}, a volunteer with '
                "Maya Okafor's campaign. Do you have a minute to talk about the caucuses?",
            ),
            StepInput(
                kind=StepKind.SINGLE,
                name="Support",
                text="If the caucuses were tonight, would you support Maya Okafor?",
                # "Against": thank them and stop there.
                choices=[ChoiceInput(label, goto=4 if label == "Against" else None) for label in SUPPORT],
            ),
            StepInput(
                kind=StepKind.MULTIPLE,
                name="Issues",
                text="Which issues matter most to you this year? Pick any.",
                choices=[ChoiceInput(label) for label in ISSUES],
            ),
            StepInput(kind=StepKind.FREE, name="Anything else", text="Is there anything else you'd like Maya to know?"),
            StepInput(
                kind=StepKind.TEXT,
                text='Thank you for your time, {{ person.given_name|default:"friend" }}. Have a good evening!',
            ),
        ]
        script = script_save(name=SCRIPT_NAME, steps=steps, actor=None)
    steps = {s.name: s for s in script.steps.prefetch_related("choices")}
    choices = {c.label: c.pk for name in ("Support", "Issues") for c in steps[name].choices.all()}
    return _Script(script, steps["Support"].pk, steps["Issues"].pk, steps["Anything else"].pk, choices)


def _answers(rng: random.Random, script: _Script, support: str | None = None) -> list[AnswerInput]:
    """A reached person's answers, along the script's path: "Against" skips the rest."""
    support = support or rng.choices(list(SUPPORT), list(SUPPORT.values()))[0]
    answers = [AnswerInput(step_id=script.support, choice_ids=[script.choices[support]])]
    if support == "Against":
        return answers
    if rng.random() < 0.85:
        issues: list[str] = []
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            left = [label for label in ISSUES if label not in issues]
            issues.append(rng.choices(left, [ISSUES[label] for label in left])[0])
        answers.append(AnswerInput(step_id=script.issues, choice_ids=[script.choices[label] for label in issues]))
    if rng.random() < 0.2:
        answers.append(AnswerInput(step_id=script.anything_else, text=rng.choice(ANYTHING_ELSE)))
    return answers


def _segments(since: datetime) -> dict[str, Segment]:
    return demo_segments(SEGMENTS, since=since)


def _phone_bank_party(now: datetime) -> Event | None:
    """The next online phone bank on the calendar (Iowa's first), else any phone bank ahead."""
    return (
        Event.objects.filter(kind=EventKind.PHONE_BANK, status=EventStatus.PUBLISHED, starts_at__gt=now)
        .annotate(elsewhere=Case(When(state="IA", then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("-is_virtual", "elsewhere", "starts_at", "pk")
        .first()
    )


def _campaign(fields: dict, *, launched_at: datetime, numbers=None, canned=None) -> FieldCampaign:
    """Saved and launched as an organizer would, then dated: made the day before, launched then.

    People who joined after the launch were not in the target then: they leave the contacts (and
    the snapshot) again.
    """
    values = {"event": None, "batch_size": 25, "lease_minutes": 30, "initial_message": "", **fields}
    campaign = campaign_save(fields=values, actor=None, sending_numbers=numbers, canned_responses=canned)
    campaign = campaign_start(campaign=campaign, actor=None)
    late = Person.objects.filter(created_at__gt=launched_at).values("pk")
    Contact.objects.filter(campaign=campaign, person__in=late).delete()
    SnapshotMember.objects.filter(snapshot=campaign.snapshot, person__in=late).delete()
    SegmentSnapshot.objects.filter(pk=campaign.snapshot_id).update(
        created_at=launched_at, size=SnapshotMember.objects.filter(snapshot=campaign.snapshot_id).count()
    )
    SegmentAudit.objects.filter(snapshot=campaign.snapshot_id).update(at=launched_at)
    FieldCampaign.objects.filter(pk=campaign.pk).update(created_at=launched_at - timedelta(hours=20))
    campaign.refresh_from_db()
    return campaign


# The phone bank ----------------------------------------------------------------------------------------


def _phone_bank(
    rng: random.Random, now: datetime, script: _Script, segment: Segment, volunteers: list[_Volunteer],
    history: _History, calls: int, totals: _Totals,
) -> FieldCampaign:  # fmt: skip
    starts = _sessions(rng, now, 14, (1, 2, 2, 3), CALL_HOURS, timedelta(hours=2))
    event = _phone_bank_party(now)
    campaign = _campaign(
        {"name": PHONE_NAME, "kind": CampaignKind.PHONE, "script": script.script, "segment": segment,
         "event": event, "retry_hours": 24, "max_attempts": 3},
        launched_at=(starts[0] if starts else now) - timedelta(hours=rng.uniform(3, 30)),
    )  # fmt: skip
    users = [v.user for v in volunteers]
    weights = [3, 5, 4, 3, 2, 2][: len(users)]
    dispositions, disposition_weights = list(CALL_DISPOSITIONS), list(CALL_DISPOSITIONS.values())
    for start, count in zip(starts, _spread(rng, calls, len(starts)), strict=True):
        volunteer = rng.choices(users, weights)[0]
        services.contacts_pool_rescan(campaign.pk)  # sessions are hours apart: the pool's hint would have expired
        batch = services.contacts_lease(campaign=campaign, volunteer=volunteer, count=count, now=start)
        when = start + timedelta(minutes=rng.uniform(1, 4))
        for contact in batch.contacts:
            if when >= now:  # still calling: the rest go back untouched
                services.contacts_release(campaign=campaign, volunteer=volunteer)
                break
            disposition = rng.choices(dispositions, disposition_weights)[0]
            reached = disposition == Disposition.REACHED
            notes = rng.choice(CALL_NOTES) if rng.random() < 0.06 else ""
            with history.at(when):
                attempt = services.attempt_record(
                    contact=contact,
                    volunteer=volunteer,
                    disposition=disposition,
                    answers=_answers(rng, script) if reached else [],
                    notes=notes,
                    now=when,
                )
            history.attempts[attempt.pk] = when
            totals.calls += 1
            totals.reached += reached
            when += timedelta(minutes=rng.uniform(*CALLING_MINUTES) * (2.5 if reached else 1))
        history.attempts_backdate()
    return campaign


# Texting -------------------------------------------------------------------------------------------------


@dataclass
class _Conversation:
    """How one texting conversation goes, planned before it starts."""

    gap: timedelta  # after the previous first text: one click each
    reply: str | None = None  # kind, see REPLIES
    body: str = ""
    reply_after: timedelta = timedelta(0)
    answer_after: timedelta | None = None  # the volunteer's canned response
    second: str = ""  # their answer to it
    record_after: timedelta = QUIET


@dataclass
class _TextSession:
    start: datetime
    volunteer: User
    conversations: list[_Conversation]

    def recorded(self, conversation: _Conversation, sent_at: datetime, now: datetime) -> bool:
        return sent_at + conversation.record_after < now


def _conversation(rng: random.Random) -> _Conversation:
    conversation = _Conversation(gap=timedelta(seconds=rng.uniform(12, 50)))
    if rng.random() < REPLY_SHARE:
        kinds = list(REPLIES)
        kind = rng.choices(kinds, [REPLIES[k][0] for k in kinds])[0]
        conversation.reply, conversation.body = kind, rng.choice(REPLIES[kind][1])
        # Most people answer within minutes, some hours later.
        conversation.reply_after = timedelta(minutes=min(rng.expovariate(1 / 40), 18 * 60) + 1)
        if REPLIES[kind][2] and rng.random() < 0.8:
            conversation.answer_after = conversation.reply_after + timedelta(minutes=rng.uniform(2, 15))
            if kind == "support" and rng.random() < 0.4:
                conversation.second = rng.choice(SECOND_REPLIES)
    last = conversation.answer_after or conversation.reply_after
    conversation.record_after = last + QUIET + timedelta(hours=rng.uniform(0, 10))
    return conversation


def _text_sessions(
    rng: random.Random, now: datetime, volunteers: list[_Volunteer], first_texts: int
) -> list[_TextSession]:
    """The sittings of the last twelve days; the latest is the demo login's, whose conversations
    are still open when they sign in."""
    starts = _sessions(rng, now, 12, (1, 1, 2), TEXT_HOURS, timedelta(hours=1))
    users = [v.user for v in volunteers]
    sessions = [
        _TextSession(start, rng.choice(users[1:] or users), [_conversation(rng) for _ in range(count)])
        for start, count in zip(starts, _spread(rng, first_texts, len(starts)), strict=True)
    ]
    if sessions:
        sessions[-1].volunteer = users[0]
    return sessions


def _fit(sessions: list[_TextSession], contacts: int, now: datetime) -> list[_TextSession]:
    """No more first texts than most of the campaign's people (a small demo has few): the latest
    sittings keep theirs. One of the latest open conversations has texted STOP, so the demo login's
    page shows what an opt-out looks like."""
    room = round(contacts * 0.7)
    kept = []
    for session in reversed(sessions):
        session.conversations = session.conversations[:room]
        room -= len(session.conversations)
        if session.conversations:
            kept.insert(0, session)
    if not kept:
        return kept
    last = kept[-1]
    sent_at, still_open = last.start, []
    for conversation in last.conversations:
        sent_at += conversation.gap
        if not last.recorded(conversation, sent_at, now):
            still_open.append(conversation)
    if still_open and not any(c.reply == "stop" for c in still_open):
        stopper = next((c for c in still_open if c.reply is None), still_open[-1])
        stopper.reply, stopper.body, stopper.answer_after, stopper.second = "stop", "STOP", None, ""
        stopper.reply_after = stopper.reply_after or timedelta(minutes=6)
    return kept


def _texting(
    rng: random.Random, now: datetime, script: _Script, segment: Segment, volunteers: list[_Volunteer],
    history: _History, first_texts: int, totals: _Totals,
) -> FieldCampaign:  # fmt: skip
    numbers = []
    for number in SENDING_NUMBERS:
        existing = SendingNumber.objects.filter(number=number).first()
        numbers.append(existing or sending_number_add(number=number, daily_cap=DAILY_CAP, actor=None))
    sessions = _text_sessions(rng, now, volunteers, first_texts)
    campaign = _campaign(
        {"name": TEXT_NAME, "kind": CampaignKind.TEXT, "script": script.script, "segment": segment,
         "retry_hours": 24, "max_attempts": 1, "initial_message": FIRST_TEXT},
        launched_at=(sessions[0].start if sessions else now) - timedelta(hours=rng.uniform(3, 30)),
        numbers=numbers,
        canned=[CannedInput(title=title, body=body) for title, body in CANNED.items()],
    )  # fmt: skip
    provider = sms_provider()
    if not isinstance(provider, SandboxProvider):
        # Never text invented numbers for real: with Twilio configured the campaign starts empty.
        return campaign
    canned = {c.title: c.body for c in CannedResponse.objects.filter(campaign=campaign)}
    for session in _fit(sessions, campaign.contacts.count(), now):
        _text_session(rng, now, campaign, script, session, canned, provider, history, totals)
    return campaign


def _text_session(
    rng: random.Random, now: datetime, campaign: FieldCampaign, script: _Script, session: _TextSession,
    canned: dict[str, str], provider: SandboxProvider, history: _History, totals: _Totals,
) -> None:  # fmt: skip
    """One sitting of first texts, then what came of each conversation, in that order."""
    volunteer = session.volunteer
    services.contacts_pool_rescan(campaign.pk)
    held = services.contacts_held(campaign=campaign, volunteer=volunteer, now=session.start).count()
    batch = services.contacts_lease(
        campaign=campaign, volunteer=volunteer, count=held + len(session.conversations), now=session.start
    )
    sent = []
    sent_at = session.start
    for contact, conversation in zip(batch.contacts[held:], session.conversations, strict=False):
        sent_at += conversation.gap
        try:
            with history.at(sent_at):
                message = texting.text_initial_send(contact=contact, volunteer=volunteer, now=sent_at)
        except ValidationError:  # outside the recipient's texting hours, or the day's caps used up
            continue
        history.text(message, sent_at)
        sent.append((contact, conversation, message, sent_at))
        totals.first_texts += 1

    for contact, conversation, message, sent_at in sent:
        replied_at = sent_at + conversation.reply_after
        if conversation.reply and replied_at < now:
            _inbound(provider, history, contact, message, conversation.body, replied_at)
            totals.replies += 1
            totals.opt_outs += conversation.reply == "stop"
            answered_at = sent_at + conversation.answer_after if conversation.answer_after else None
            if answered_at and answered_at < now:
                title = REPLIES[conversation.reply][2]
                body = texting.text_render(canned[title], person=contact.person, volunteer=volunteer)
                try:
                    with history.at(answered_at):
                        answer = texting.text_reply_send(
                            contact=contact, volunteer=volunteer, body=body, now=answered_at
                        )
                except ValidationError:  # a reply in the night: the volunteer lets it be
                    pass
                else:
                    history.text(answer, answered_at)
                    second_at = answered_at + timedelta(minutes=rng.uniform(3, 30))
                    if conversation.second and second_at < now:
                        _inbound(provider, history, contact, answer, conversation.second, second_at)
        if not session.recorded(conversation, sent_at, now):
            totals.open_conversations += 1
            continue
        recorded_at = sent_at + conversation.record_after
        disposition, answers = _text_outcome(rng, script, conversation)
        with history.at(recorded_at):
            attempt = services.attempt_record(
                contact=contact, volunteer=volunteer, disposition=disposition, answers=answers, now=recorded_at
            )
        history.attempts[attempt.pk] = recorded_at
    history.attempts_backdate()


def _inbound(
    provider: SandboxProvider, history: _History, contact: Contact, to: TextMessage, body: str, when: datetime
) -> None:
    """The person's phone writes back (the sandbox keeps it) and the webhook's service records it."""
    received = provider.receive(from_=contact.phone, body=body, to=to.from_number)
    with history.at(when):
        message = texting.text_inbound_record(
            from_number=received.from_, to_number=received.to, body=received.body, provider_id=received.message_id
        )
    history.text(message, when)
    if texting.is_opt_out(body):
        history.opt_outs.setdefault(contact.phone, when)


def _text_outcome(rng: random.Random, script: _Script, conversation: _Conversation) -> tuple[str, list]:
    """How the volunteer records a finished conversation."""
    kind = conversation.reply
    if kind in TEXTED_SUPPORT:
        return Disposition.REACHED, _answers(rng, script, rng.choice(TEXTED_SUPPORT[kind]))
    if kind == "against" and conversation.body.startswith("No,"):  # "supporting someone else"
        return Disposition.REACHED, _answers(rng, script, "Against")
    return {
        None: Disposition.NO_ANSWER,
        "against": Disposition.REFUSED,
        "wrong": Disposition.WRONG_NUMBER,
        "stop": Disposition.DO_NOT_CONTACT,
    }[kind], []


# The canvass ------------------------------------------------------------------------------------------


def _canvass(
    rng: random.Random, now: datetime, script: _Script, segment: Segment, volunteers: list[_Volunteer],
    history: _History, totals: _Totals,
) -> FieldCampaign:  # fmt: skip
    today = timezone.localtime(now, IOWA).date()
    claims = [(claim, _local(today - timedelta(days=claim.days_ago), claim.hour)) for claim in CLAIMS]
    claims = [(claim, at) for claim, at in claims if at < now - timedelta(minutes=30)]
    first = min((at for _, at in claims), default=now)
    campaign = _campaign(
        {"name": CANVASS_NAME, "kind": CampaignKind.CANVASS, "script": script.script, "segment": segment,
         "lease_minutes": 60, "retry_hours": 48, "max_attempts": 2},
        launched_at=first - timedelta(days=rng.uniform(1, 2)),
    )  # fmt: skip
    totals.turfs = canvass.turfs_cut(campaign=campaign, doors_per_turf=DOORS_PER_TURF, actor=None).turfs
    # The demo login first: the turf nearest their home is theirs, and in a small demo the only one.
    claims = sorted(claims, key=lambda pair: not pair[0].demo_login)[: totals.turfs]
    others = volunteers[1:] or volunteers
    for i, (claim, claimed_at) in enumerate(claims):
        volunteer = volunteers[0] if claim.demo_login else others[i % len(others)]
        turf = _nearest_open_turf(campaign, volunteer)
        if turf is None:
            break
        with history.at(claimed_at):
            canvass.turf_claim(turf=turf, volunteer=volunteer.user, now=claimed_at)
        totals.claimed += 1
        _walk(rng, now, script, turf, volunteer.user, claimed_at, claim.share, history, totals)
    return campaign


def _nearest_open_turf(campaign: FieldCampaign, volunteer: _Volunteer) -> Turf | None:
    turfs = list(Turf.objects.filter(campaign=campaign, status=TurfStatus.OPEN).order_by("number"))
    if volunteer.latitude is None or not turfs:
        return turfs[0] if turfs else None
    return min(turfs, key=lambda t: haversine_meters(volunteer.latitude, volunteer.longitude, t.latitude, t.longitude))


def _walk(
    rng: random.Random, now: datetime, script: _Script, turf: Turf, volunteer: User, claimed_at: datetime,
    share: float, history: _History, totals: _Totals,
) -> None:  # fmt: skip
    """Knock the first `share` of the turf's doors in route order, an outing of a couple of hours at a time."""
    doors = list(
        Door.objects.filter(turf=turf)
        .order_by("position")
        .prefetch_related(Prefetch("contacts", queryset=Contact.objects.order_by("pk")))
    )
    results, weights = list(DOOR_RESULTS), list(DOOR_RESULTS.values())
    when = claimed_at + timedelta(minutes=rng.uniform(15, 40))
    for i, door in enumerate(doors[: max(1, math.ceil(len(doors) * share))]):
        if i and i % DOORS_PER_OUTING == 0:  # the next outing: the next day, morning or after work
            day = timezone.localtime(when, IOWA).date() + timedelta(days=1)
            when = _local(day, 10 if day.weekday() >= 5 else 16.5) + timedelta(minutes=rng.uniform(0, 30))
        if when >= now - timedelta(minutes=5):
            break
        result = rng.choices(results, weights)[0]
        spoken = {}
        if result == DoorResult.TALKED:
            people = list(door.contacts.all())
            talked = [people[0], *(c for c in people[1:] if rng.random() < 0.4)]
            spoken = {c.pk: _answers(rng, script) for c in talked}
        notes = rng.choice(DOOR_NOTES) if rng.random() < 0.05 else ""
        with history.at(when):
            canvass.door_record(
                door=door, volunteer=volunteer, result=result, answers_by_contact=spoken, notes=notes, now=when
            )
        for pk in Attempt.objects.filter(contact__door=door).values_list("pk", flat=True):
            history.attempts[pk] = when
        totals.doors += 1
        when += timedelta(minutes=rng.uniform(3, 8) * (2 if spoken else 1))
    history.attempts_backdate()


# The step ------------------------------------------------------------------------------------------------


def _scaled(people: int, at_20k: int, minimum: int) -> int:
    return max(minimum, round(at_20k * min(1.0, math.sqrt(people / 20_000))))


def seed_field_demo(context: seeding.SeedContext) -> None:
    person_ids = sorted(context.shared.get("people.person_ids") or [])
    if not person_ids:
        context.log("  field: no supporters to call, text or visit")
        return
    started = time.monotonic()
    rng = context.rng("field")
    now = context.now.astimezone(UTC)  # see _local
    candidates = _volunteer_candidates(person_ids)
    with transaction.atomic():
        demo = _demo_login(rng, candidates)
    if demo is None:
        context.log("  field: nobody with an email address to volunteer")
        return
    if FieldCampaign.objects.filter(name__in=[PHONE_NAME, TEXT_NAME, CANVASS_NAME]).exists():
        context.log("  field: the demo campaigns are here already")
        return

    history, totals = _History(), _Totals()
    with transaction.atomic():  # a few commits: SQLite pays per commit
        volunteers = _volunteers(rng, demo, candidates)
        script = _script()
        segments = _segments(since=now - timedelta(days=30))
    with transaction.atomic():
        phone = _phone_bank(
            rng, now, script, segments["Iowa supporters"], volunteers, history,
            _scaled(len(person_ids), CALLS_AT_20K, MIN_CALLS), totals,
        )  # fmt: skip
    with transaction.atomic():
        text = _texting(
            rng, now, script, segments["Iowa: can be texted"], volunteers, history,
            _scaled(len(person_ids), FIRST_TEXTS_AT_20K, MIN_FIRST_TEXTS), totals,
        )  # fmt: skip
    with transaction.atomic():
        door = _canvass(rng, now, script, segments["Polk County, Iowa"], volunteers, history, totals)
        history.backdate()
        # The beat's job, done once at the seed's "now": batches whose lease has run out go back.
        for campaign in (phone, text, door):
            services.contacts_expire_leases(campaign=campaign, now=now)
            services.contacts_pool_rescan(campaign.pk)
        _dates(script, volunteers, min(phone.created_at, text.created_at, door.created_at))
        answered = _answered_segment(script)
        for segment in [*segments.values(), answered]:
            segment_count_refresh(segment=segment)

    party = f" for “{phone.event.title}”" if phone.event_id else ""
    context.log(
        f"  field: a phone bank{party} ({totals.calls:,} calls, {totals.reached:,} reached), texting"
        f" ({totals.first_texts:,} first texts, {totals.replies:,} replies, {totals.opt_outs} STOPs,"
        f" {totals.open_conversations} conversations open), a canvass ({totals.turfs} turfs, {totals.claimed}"
        f" claimed, {totals.doors} doors knocked) by {len(volunteers)} volunteers, one of them the login"
        f" {DEMO_LOGIN!r} ({time.monotonic() - started:.1f}s)"
    )


def _dates(script: _Script, volunteers: list[_Volunteer], first_campaign: datetime) -> None:
    """The script was written, and the volunteers joined, before the first campaign."""
    Script.objects.filter(pk=script.script.pk, created_at__gt=first_campaign).update(
        created_at=first_campaign - timedelta(days=1)
    )
    User.objects.filter(pk__in=[v.user.pk for v in volunteers], date_joined__gt=first_campaign).update(
        date_joined=first_campaign - timedelta(days=3)
    )


def _answered_segment(script: _Script) -> Segment:
    """The answers at work: everyone who told a volunteer "Strong support"."""
    segment = Segment.objects.filter(name=ANSWERED_SEGMENT).order_by("pk").first()
    if segment is None:
        query = {"type": "answered", "question": script.support, "response": "Strong support"}
        segment = segment_save(
            name=ANSWERED_SEGMENT, query=query, description="Said “Strong support” on a call, text or door.", actor=None
        )
    return segment


# After mailings (40), whose "Iowa supporters" segment the phone bank calls; before the engagement
# step (90), so the ladder's first pass counts the volunteers' calls, texts and doors.
seeding.register("field", order=50, demo=seed_field_demo)
