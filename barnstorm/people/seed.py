"""Demo supporters for `barnstorm seed`: a fictional campaign in Iowa, New Hampshire, Nevada and
South Carolina — the early states, where a grassroots campaign is won or lost.

Everyone here is invented: names are drawn from common first and last names, email addresses
use the reserved example.com/.org/.net domains, phone numbers use the 555 exchange (555-01xx
first, which is reserved for fiction), and street numbers are random. ZIP codes are real, so
that maps, radius searches and time zones behave as they will with real supporters.

Two modes:
- demo (`seed_people_demo`): every person enters through `person_upsert_many`, the one intake
  path, so the data obeys every rule; tags, lists, groups, consent changes and their activity
  go through the people services too. Afterwards the timestamps are moved back over the past
  year with bulk updates, so that timelines and dashboards show a history.
- fast (`seed_people_fast`): benchmark scale (millions). People and contact points are written
  straight into their tables with `bulk_insert_rows` (COPY on PostgreSQL); no tags, lists,
  groups or activity.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import phonenumbers
import zipcodes
from django.db.models import Max, OuterRef, Subquery

from barnstorm.activity.models import Activity
from barnstorm.lib import seeding
from barnstorm.lib.bulk import bulk_insert_rows
from barnstorm.people import services
from barnstorm.people.models import (
    EmailAddress,
    EmailStatus,
    GroupMembership,
    GroupRole,
    ListMembership,
    LocalGroup,
    PeopleList,
    Person,
    PhoneKind,
    PhoneNumber,
    PostalAddress,
    Tag,
    Tagging,
)
from barnstorm.people.normalize import ZipInfo, zip_info, zips_in_state
from barnstorm.people.services import AddressInput, PersonInput

BATCH_SIZE = 1000
FAST_CHUNK = 50_000

FIRST_NAMES = """
Aaliyah Aaron Abigail Adam Adrian Aiden Aisha Alan Alejandro Alex Alexis Alice Alicia Alyssa Amanda Amara Amber Amir
Amy Ana Andre Andrea Andrew Angela Anita Ann Anthony Antonio Arjun Ashley Austin Ava Barbara Ben Benjamin Beth
Betty Bianca Brandon Brenda Brian Brittany Bruce Camila Carl Carla Carlos Carmen Carol Caroline Carter Catherine
Cesar Charles Charlotte Chen Cheryl Chloe Chris Christina Christopher Cindy Claire Cody Connor Craig Crystal Cynthia
Daniel Danielle Darius David Dawn Deborah Denise Dennis Derek Destiny Diana Diego Dolores Dominic Donald Donna Dorothy
Douglas Dylan Ebony Eduardo Elena Elijah Elizabeth Ella Emily Emma Eric Erica Erin Esther Ethan Eugene Eva Evelyn
Fatima Felipe Fernando Frances Francisco Frank Gabriel Gabriela Gary George Gerald Gloria Grace Gregory Guadalupe
Hailey Hannah Harold Hassan Heather Hector Helen Henry Hiroshi Hope Hunter Ian Imani Irene Isaac Isabel Isabella
Ivan Jacob Jacqueline Jada Jake Jamal James Jamie Janet Janice Jasmine Jason Javier Jayden Jean Jeffrey Jennifer
Jeremy Jerome Jesse Jessica Jesus Jill Joan Joanna Joe John Jonathan Jordan Jorge Jose Joseph Joshua Joyce Juan
Judith Julia Julian Julie Justin Kaitlyn Karen Katherine Kathleen Kayla Keisha Keith Kelly Kenji Kenneth Kevin
Kimberly Kyle Lakisha Latoya Laura Lauren Lawrence Leah Leonardo Leslie Liam Lily Linda Lisa Logan Lucas Lucia Luis
Luke Madison Malik Manuel Marcus Margaret Maria Marie Marilyn Mario Mark Marquis Martha Martin Mary Mason Matthew Maya
Megan Melissa Mia Michael Michelle Miguel Min Mohamed Monica Nancy Naomi Natalie Nathan Nicholas Nicole Noah Nora
Olivia Omar Pablo Pamela Patricia Patrick Paul Paula Peter Philip Priya Rachel Rafael Ramon Raymond Rebecca Ricardo
Richard Robert Roberto Rosa Rose Ruth Ryan Samantha Samuel Sandra Sara Sarah Scott Sean Shanice Sharon Shirley Sofia
Sophia Stephanie Stephen Steven Susan Tamika Tanya Terrence Teresa Thomas Tiffany Timothy Tyler Tyrone Valentina
Vanessa Victor Victoria Vincent Virginia Wei Wendy William Xavier Yolanda Yusuf Zachary Zoe
""".split()

LAST_NAMES = """
Abbott Acosta Adams Aguilar Ahmed Ali Allen Alvarez Anderson Andrews Armstrong Arnold Baker Banks Barnes Bell Bennett
Berry Bishop Black Boyd Bradley Brooks Brown Bryant Burke Burns Butler Byrd Caldwell Campbell Carpenter Carroll
Carter Castillo Castro Chan Chang Chavez Chen Clark Cole Coleman Collins Cook Cooper Cruz Cunningham Daniels Davis
Delgado Diaz Dixon Dominguez Douglas Duncan Dunn Edwards Ellis Espinoza Evans Fields Fisher Fleming Flores Ford
Foster Fowler Fox Franklin Freeman Garcia Gardner Gibson Gomez Gonzalez Gordon Graham Grant Gray Green Greene Griffin
Gutierrez Hall Hamilton Hansen Harris Harrison Hart Hawkins Hayes Henderson Henry Hernandez Hicks Hill Hoffman
Holmes Hopkins Howard Hudson Hughes Hunt Hunter Jackson James Jenkins Jensen Jimenez Johnson Johnston Jones Jordan
Kaur Keller Kelly Kennedy Kim King Knight Kowalski Kumar Larson Lawrence Lee Lewis Lim Little Long Lopez Lynch
Marshall Martin Martinez Mason Matthews McCarthy McDonald Medina Mendoza Meyer Miller Mills Mitchell Moore Morales
Moreno Morgan Morris Murphy Murray Myers Nelson Nguyen Nichols Nielsen O'Brien O'Connor Olson Ortiz Owens Palmer
Park Parker Patel Patterson Payne Perez Perry Peters Peterson Phillips Pierce Porter Powell Price Ramirez Ramos
Reed Reyes Reynolds Rice Richardson Riley Rivera Roberts Robertson Robinson Rodriguez Rogers Romero Rose Ross Ruiz
Russell Ryan Sanchez Sanders Santos Schmidt Schneider Schultz Scott Shah Shaw Silva Simmons Simpson Singh Smith
Snyder Soto Spencer Stephens Stevens Stewart Stone Sullivan Swanson Tanaka Taylor Thomas Thompson Torres Tran
Tucker Turner Vargas Vasquez Wagner Walker Wallace Walsh Ward Warren Washington Watkins Watson Weaver Webb Wells
West Wheeler White Williams Willis Wilson Wong Wood Woods Wright Yang Young Zhang
""".split()

STREET_NAMES = """
Main Oak Maple Elm Cedar Pine Walnut Locust Grand Park Lake Hill Church Mill Spring Market Washington Lincoln Jefferson
Franklin Adams Madison Jackson Highland Prospect Ridge Sunset Meadow Forest River Union School Center Elm Garfield
University Ingersoll Harrison Palmetto Magnolia Dogwood Peachtree Sumter Desert Sierra Mesa Canyon Juniper Aspen
Granite Birch Chestnut Orchard Prairie Cottonwood Willow Bluff Liberty Hickory Sycamore Poplar Valley
""".split()
STREET_SUFFIXES = ["St", "Ave", "Rd", "Dr", "Ln", "Ct", "Blvd", "Way", "Pl", "Cir"]
APARTMENT_SHARE = 0.12

EMAIL_DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com", "inbox.example.org"]

# (employer, occupation), invented or generic. 40% of supporters give one.
JOBS = [
    tuple(line.split(" | "))
    for line in """
Self-employed | Farmer
Self-employed | Carpenter
Self-employed | Consultant
Self-employed | Hair stylist
Self-employed | Electrician
Retired | Retired
Retired | Retired teacher
Not employed | Not employed
Not employed | Student
Prairie Valley Community Schools | Teacher
Granite State Regional Hospital | Nurse
Silver State Medical Center | Registered nurse
Palmetto Health Partners | Physician assistant
Hawkeye Feed & Seed | Sales associate
Lowcountry Logistics | Truck driver
Desert Sun Hotel & Casino | Housekeeper
Desert Sun Hotel & Casino | Cook
Riverbend Meatpacking Co. | Line worker
Cedar Valley Manufacturing | Machinist
Seacoast Brewing Company | Brewer
Upstate Textile Cooperative | Mill worker
County of Polk | Social worker
City of Manchester | Firefighter
State of Nevada | Clerk
Midlands Technical College | Professor
Heartland Credit Union | Teller
Sunbelt Software LLC | Software engineer
Tri-County Public Library | Librarian
Main Street Diner | Server
Big Sky Wind Services | Wind turbine technician
Coastal Carolina Fisheries | Fisherman
Mountain West Construction | Laborer
Quad Cities Auto Repair | Mechanic
Lakeside Child Care Center | Child care worker
Tahoe Resorts Group | Ski instructor
Summit Legal Aid | Attorney
""".strip().splitlines()
]
PRESS = [
    ("Quad-City Gazette", "Reporter"),
    ("Granite State Ledger", "Political reporter"),
    ("Silver State Sun", "Editor"),
    ("Palmetto Public Radio", "Producer"),
    ("Iowa Farm Weekly", "Columnist"),
]

SOURCES = {
    "signup form": 40,
    "petition": 14,
    "house party": 8,
    "phone bank": 6,
    "website": 10,
    "referral": 8,
}

# Tags given at signup: name, share of supporters.
SIGNUP_TAGS = [
    ("volunteer", 0.16),
    ("donor-prospect", 0.10),
    ("student", 0.07),
    ("union-member", 0.06),
    ("veteran", 0.03),
    ("house-party-host", 0.02),
    ("precinct-captain", 0.01),
]
# Tags that staff add later, one by one, with their own activity: name, share.
LATER_TAGS = [("phone-banker", 0.025), ("canvasser", 0.025), ("event-attendee", 0.03), ("volunteer", 0.02)]

LISTS = {
    "Iowa caucus volunteers": "Iowa supporters who offered to help on caucus night.",
    "NH phone bank": "New Hampshire supporters with a phone number, for the weekly phone bank.",
    "Nevada canvass captains": "Volunteers who lead canvass teams in Clark and Washoe counties.",
    "South Carolina faith leaders": "Pastors and congregation leaders who support the campaign.",
    "House party hosts": "Supporters who hosted or offered to host a house party.",
    "Press list": "Reporters and editors who cover the campaign.",
}


@dataclass(frozen=True)
class StatePlan:
    name: str
    share: float
    hubs: tuple[str, ...]  # cities where most supporters live
    area_codes: tuple[str, ...]
    spanish_share: float
    rally: tuple[str, int]  # a rally in this state: its name and how many days ago


STATES = {
    "IA": StatePlan(
        name="Iowa",
        share=0.34,
        hubs=tuple(
            "Des Moines|West Des Moines|Ankeny|Cedar Rapids|Iowa City|Davenport|Ames|Waterloo|Sioux City|"
            "Dubuque|Council Bluffs".split("|")
        ),
        area_codes=("515", "319", "563", "641", "712"),
        spanish_share=0.04,
        rally=("Des Moines kickoff rally", 330),
    ),
    "NH": StatePlan(
        name="New Hampshire",
        share=0.20,
        hubs=tuple("Manchester|Nashua|Concord|Portsmouth|Dover|Keene|Rochester|Hanover|Durham".split("|")),
        area_codes=("603",),
        spanish_share=0.02,
        rally=("Manchester town hall", 240),
    ),
    "NV": StatePlan(
        name="Nevada",
        share=0.20,
        hubs=tuple("Las Vegas|North Las Vegas|Henderson|Reno|Sparks|Carson City".split("|")),
        area_codes=("702", "725", "775"),
        spanish_share=0.22,
        rally=("Las Vegas rally", 150),
    ),
    "SC": StatePlan(
        name="South Carolina",
        share=0.26,
        hubs=tuple(
            "Columbia|Charleston|North Charleston|Greenville|Spartanburg|Rock Hill|Florence|Orangeburg|"
            "Myrtle Beach".split("|")
        ),
        area_codes=("803", "843", "864", "854", "839"),
        spanish_share=0.03,
        rally=("Columbia rally", 75),
    ),
}

GROUPS = [
    ("Des Moines for Barnstorm", "des-moines", "50309"),
    ("Cedar Rapids Barnstormers", "cedar-rapids", "52401"),
    ("Iowa City Students for Barnstorm", "iowa-city-students", "52240"),
    ("Quad Cities for Barnstorm", "quad-cities", "52801"),
    ("Manchester for Barnstorm", "manchester", "03101"),
    ("Seacoast Barnstorm", "seacoast", "03801"),
    ("Nashua for Barnstorm", "nashua", "03060"),
    ("Las Vegas for Barnstorm", "las-vegas", "89101"),
    ("Reno-Sparks Barnstorm", "reno-sparks", "89501"),
    ("Columbia for Barnstorm", "columbia", "29201"),
    ("Lowcountry for Barnstorm", "lowcountry", "29401"),
    ("Upstate SC for Barnstorm", "upstate-sc", "29601"),
]
# Cumulative shares of supporters whose address stops working or who ask to hear less.
EMAIL_TROUBLE = [(EmailStatus.UNSUBSCRIBED, 0.03), (EmailStatus.BOUNCING, 0.04), (EmailStatus.SPAM_COMPLAINT, 0.042)]
GROUP_SHARE = 0.05  # of the supporters in a group's state and near it
GROUP_RADIUS_KM = 60


# What one invented supporter looks like ------------------------------------------------------


@cache
def _state_zips(state: str) -> tuple[list[ZipInfo], list[ZipInfo]]:
    """(ZIPs in hub cities, all residential ZIPs) of a state."""
    residential = {z["zip_code"] for z in zipcodes.filter_by(state=state, zip_code_type="STANDARD", active=True)}
    places = [z for z in zips_in_state(state) if z.zip_code in residential]
    hubs = set(STATES[state].hubs)
    return [z for z in places if z.city in hubs], places


@cache
def area_codes_with_555() -> tuple[str, ...]:
    """US area codes whose 555 numbers phonenumbers accepts: the overflow for large runs."""
    return tuple(
        str(npa) for npa in range(201, 990) if phonenumbers.is_valid_number(phonenumbers.parse(f"+1{npa}5550100"))
    )


# 555-0100..0199 are reserved for fiction; the rest of the 555 exchange is unassigned in practice.
_LINES = [*range(100, 200), *range(200, 10_000), *range(0, 100)]


def fictional_phone(area_codes: tuple[str, ...], k: int) -> str:
    """The k-th number of a sequence over `area_codes`, distinct for k < len(area_codes) * 10,000."""
    npa = area_codes[k % len(area_codes)]
    return f"+1{npa}555{_LINES[(k // len(area_codes)) % len(_LINES)]:04d}"


def _demo_phone(state: str, counters: dict[str, int]) -> str:
    """A new number in the state's own area codes, or elsewhere once those run out."""
    area_codes = STATES[state].area_codes
    if counters[state] < len(area_codes) * 10_000:
        counters[state] += 1
        return fictional_phone(area_codes, counters[state] - 1)
    ours = {code for plan in STATES.values() for code in plan.area_codes}
    elsewhere = tuple(code for code in area_codes_with_555() if code not in ours)
    counters["elsewhere"] = counters.get("elsewhere", 0) + 1
    return fictional_phone(elsewhere, counters["elsewhere"] - 1)


def pick_state(rng: random.Random) -> str:
    return rng.choices(list(STATES), weights=[plan.share for plan in STATES.values()])[0]


def pick_zip(rng: random.Random, state: str) -> ZipInfo:
    hubs, places = _state_zips(state)
    return rng.choice(hubs if hubs and rng.random() < 0.7 else places)


def street_address(rng: random.Random) -> tuple[str, str]:
    line1 = f"{rng.randint(1, 9899)} {rng.choice(STREET_NAMES)} {rng.choice(STREET_SUFFIXES)}"
    line2 = f"Apt {rng.randint(1, 40)}{rng.choice('ABCD')}" if rng.random() < APARTMENT_SHARE else ""
    return line1, line2


def email_local_part(rng: random.Random, given: str, family: str) -> str:
    given, family = given.lower(), family.lower().replace("'", "")
    pattern = rng.random()
    if pattern < 0.35:
        return f"{given}.{family}"
    if pattern < 0.55:
        return f"{given}{family}"
    if pattern < 0.75:
        return f"{given[0]}{family}"
    if pattern < 0.85:
        return f"{given}_{family}"
    return f"{family}.{given}"


def _signup_time(rng: random.Random, now: datetime, plan: StatePlan) -> tuple[datetime, str]:
    """When a supporter signed up over the past year, and the rally it was at ("" if none).

    Signups grow toward the present, with a spike on the day of each state's rally.
    """
    if rng.random() < 0.12:
        rally, days_ago = plan.rally
        day = now - timedelta(days=days_ago + rng.choice((0, 0, 0, 1, 2)))
        return day.replace(hour=rng.randint(17, 21), minute=rng.randint(0, 59)), rally
    days_ago = 365 * (1 - math.sqrt(rng.random()))
    hour = rng.choice((7, 8, 9, 11, 12, 12, 13, 17, 18, 19, 20, 20, 21, 22))
    when = (now - timedelta(days=days_ago)).replace(hour=hour, minute=rng.randint(0, 59))
    return min(when, now - timedelta(minutes=5)), ""


# Demo mode ------------------------------------------------------------------------------------


@dataclass
class _Supporter:
    data: PersonInput
    signed_up_at: datetime


def seed_people_demo(context: seeding.SeedContext) -> None:
    rng = context.rng("people")
    started = time.monotonic()
    for name, description in LISTS.items():
        if not PeopleList.objects.filter(name=name).exists():
            services.people_list_create(name=name, description=description)
    first_activity = (Activity.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    used_emails: set[str] = set()
    phone_counters = dict.fromkeys(STATES, 0)

    supporters = [_invent_supporter(rng, context.now, i, used_emails, phone_counters) for i in range(context.people)]
    supporters.sort(key=lambda s: s.signed_up_at)  # ids then follow signup order, as in real life
    person_ids: list[int] = []
    for start in range(0, len(supporters), BATCH_SIZE):
        batch = supporters[start : start + BATCH_SIZE]
        _drop_taken_contacts(batch)
        results = services.person_upsert_many(
            rows=[s.data for s in batch], activity_kind="signup", activity_data={"demo": True}
        )
        _backdate_batch(batch, results)
        person_ids.extend(r.person.pk for r in results)
        if (start // BATCH_SIZE) % 5 == 4:
            context.log(f"  people: {start + len(batch):,} of {len(supporters):,} ({time.monotonic() - started:.0f}s)")
    context.log(f"  people: {len(person_ids):,} supporters ({time.monotonic() - started:.1f}s)")

    later = _seed_later_actions(rng, context.now, person_ids)
    groups = _seed_groups(rng, context.now, person_ids, later)
    _backdate_later_activity(later, first_activity)
    # The tags and lists this run created existed before the first signup.
    Tag.objects.filter(created_at__gte=context.now).update(created_at=context.now - timedelta(days=366))
    PeopleList.objects.filter(created_at__gte=context.now).update(created_at=context.now - timedelta(days=366))
    context.shared["people.person_ids"] = person_ids
    context.log(
        f"  people: tags, lists, {groups} local groups, consent changes and activity"
        f" ({time.monotonic() - started:.1f}s)"
    )


def _invent_supporter(
    rng: random.Random, now: datetime, index: int, used_emails: set[str], phone_counters: dict[str, int]
) -> _Supporter:
    state = pick_state(rng)
    plan = STATES[state]
    given, family = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    signed_up_at, rally = _signup_time(rng, now, plan)

    local = email_local_part(rng, given, family)
    email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
    while email in used_emails:
        email = f"{local}{rng.randint(1, 9999)}@{rng.choice(EMAIL_DOMAINS)}"
    used_emails.add(email)

    phone, kind, sms = "", PhoneKind.OTHER, None
    if rng.random() < 0.65:
        phone = _demo_phone(state, phone_counters)
        kind = rng.choices([PhoneKind.MOBILE, PhoneKind.HOME, PhoneKind.WORK], weights=[80, 15, 5])[0]
        sms = True if kind == PhoneKind.MOBILE and rng.random() < 0.55 else None

    place = pick_zip(rng, state)
    line1, line2 = street_address(rng) if rng.random() < 0.8 else ("", "")
    address = AddressInput(line1=line1, line2=line2, city=place.city, state=state, zip_code=place.zip_code)

    employer = occupation = ""
    tags: list[str] = []
    lists: list[str] = []
    if index % 400 == 7:  # a handful of reporters, on the press list
        employer, occupation = rng.choice(PRESS)
        lists.append("Press list")
    else:
        if rng.random() < 0.4:
            employer, occupation = rng.choice(JOBS)
        tags = [name for name, share in SIGNUP_TAGS if rng.random() < share]
        if occupation == "Student" and "student" not in tags:
            tags.append("student")
        if rng.random() < plan.spanish_share:
            tags.append("spanish-speaker")
        if rally:
            tags.append("rally-2026")
        if state == "SC" and rng.random() < 0.01:
            tags.append("faith-leader")
            lists.append("South Carolina faith leaders")
        if "volunteer" in tags and state == "IA" and rng.random() < 0.6:
            lists.append("Iowa caucus volunteers")
        if "volunteer" in tags and state == "NV" and rng.random() < 0.15:
            lists.append("Nevada canvass captains")
        if state == "NH" and phone and rng.random() < 0.15:
            lists.append("NH phone bank")
        if "house-party-host" in tags:
            lists.append("House party hosts")

    source = rally or rng.choices(list(SOURCES), list(SOURCES.values()))[0]
    data = PersonInput(
        email=email,
        phone=phone,
        phone_kind=kind,
        sms_consent=sms,
        given_name=given,
        family_name=family,
        employer=employer,
        occupation=occupation,
        source=source,
        referral_code=f"ref-{rng.randint(1000, 9999)}" if source == "referral" else "",
        address=address,
        tags=tags,
        lists=lists,
        resubscribe=True,
    )
    return _Supporter(data=data, signed_up_at=signed_up_at)


def _drop_taken_contacts(batch: list[_Supporter]) -> None:
    """On a database that already has people, never fold a new supporter into someone else."""
    emails = {s.data.email for s in batch}
    phones = {s.data.phone for s in batch if s.data.phone}
    taken_emails = set(EmailAddress.objects.filter(address__in=emails).values_list("address", flat=True))
    taken_phones = set(PhoneNumber.objects.filter(number__in=phones).values_list("number", flat=True))
    for supporter in batch:
        data = supporter.data
        if data.email in taken_emails:
            local, domain = data.email.split("@")
            data.email = f"{local}.{supporter.signed_up_at:%y%m%d%H%M%S%f}@{domain}"
        if data.phone in taken_phones:
            data.phone, data.sms_consent = "", None


def _backdate_batch(batch: list[_Supporter], results: list[services.UpsertResult]) -> None:
    people = []
    for supporter, result in zip(batch, results, strict=True):
        person = result.person
        person.created_at = person.modified_at = supporter.signed_up_at
        people.append(person)
    Person.objects.bulk_update(people, ["created_at", "modified_at"], batch_size=BATCH_SIZE)
    ids = [p.pk for p in people]
    signed_up = Subquery(Person.objects.filter(pk=OuterRef("person_id")).values("created_at")[:1])
    for model in (EmailAddress, PostalAddress, Tagging, ListMembership):
        model.objects.filter(person_id__in=ids).update(created_at=signed_up)
    PhoneNumber.objects.filter(person_id__in=ids).update(created_at=signed_up)
    PhoneNumber.objects.filter(person_id__in=ids, sms_consent=True).update(sms_consent_at=signed_up)
    Activity.objects.filter(person_id__in=ids, kind="signup").update(occurred_at=signed_up)


def _after(rng: random.Random, signed_up_at: datetime, now: datetime) -> datetime:
    """A moment between a signup and now, more often soon after the signup."""
    span = (now - signed_up_at).total_seconds()
    return signed_up_at + timedelta(seconds=span * rng.random() ** 2)


@dataclass
class _Later:
    """What happened to supporters after they signed up, to backdate once the services ran."""

    # (person id, activity kind) -> when
    activity_times: dict[tuple[int, str], datetime]
    email_status_times: dict[int, datetime]
    opt_out_times: dict[int, datetime]
    membership_times: dict[tuple[int, int], datetime]


def _seed_later_actions(rng: random.Random, now: datetime, person_ids: list[int]) -> _Later:
    later = _Later({}, {}, {}, {})
    signed_up = dict(Person.objects.filter(pk__in=person_ids).values_list("pk", "created_at"))
    people = Person.objects.in_bulk(person_ids)

    for name, share in LATER_TAGS:
        for pid in person_ids:
            if rng.random() < share:
                services.person_tag_add(person=people[pid], name=name)
                later.activity_times[(pid, "tag_added")] = _after(rng, signed_up[pid], now)

    # A few addresses stop working or ask to hear less from us.
    primary_emails = dict(
        EmailAddress.objects.filter(person_id__in=person_ids, is_primary=True).values_list("person_id", "address")
    )
    for pid in person_ids:
        roll = rng.random()
        status = next((status for status, upto in EMAIL_TROUBLE if roll < upto), None)
        if status and pid in primary_emails:
            services.email_status_set(address=primary_emails[pid], status=status)
            when = _after(rng, signed_up[pid], now)
            later.activity_times[(pid, "email_status")] = later.email_status_times[pid] = when

    texting = PhoneNumber.objects.filter(person_id__in=person_ids, sms_consent=True).values_list("person_id", "number")
    for pid, number in texting:
        if rng.random() < 0.02:
            services.phone_sms_opt_out(number=number)
            when = _after(rng, signed_up[pid], now)
            later.activity_times[(pid, "sms_opt_out")] = later.opt_out_times[pid] = when
    return later


def _distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    dlat, dlng = math.radians(lat2 - lat1), math.radians(lng2 - lng1)
    a = math.sin(dlat / 2) ** 2 + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(dlng / 2) ** 2
    return 12_742 * math.asin(math.sqrt(a))


def _seed_groups(rng: random.Random, now: datetime, person_ids: list[int], later: _Later) -> int:
    groups = []
    for name, slug, zip_code in GROUPS:
        group = LocalGroup.objects.filter(slug=slug).first()
        if group is None:
            place = zip_info(zip_code)
            description = f"Supporters in and around {place.city} who knock doors, make calls and host house parties."
            group = services.local_group_create(name=name, slug=slug, zip_code=zip_code, description=description)
        groups.append(group)
    LocalGroup.objects.filter(pk__in=[g.pk for g in groups]).update(created_at=now - timedelta(days=360))

    volunteers = set(
        Tagging.objects.filter(person_id__in=person_ids, tag__name="volunteer").values_list("person_id", flat=True)
    )
    nearest: dict[int, list[int]] = {g.pk: [] for g in groups}
    addresses = PostalAddress.objects.filter(person_id__in=person_ids, is_primary=True).values_list(
        "person_id", "state", "latitude", "longitude"
    )
    for pid, state, lat, lng in addresses:
        if lat is None:
            continue
        candidates = [(_distance_km(lat, lng, g.latitude, g.longitude), g.pk) for g in groups if g.state == state]
        distance, group_id = min(candidates, default=(math.inf, None))
        share = GROUP_SHARE * (3 if pid in volunteers else 1)
        if group_id and distance <= GROUP_RADIUS_KM and rng.random() < share:
            nearest[group_id].append(pid)

    people = Person.objects.in_bulk([pid for members in nearest.values() for pid in members])
    signed_up = {pid: p.created_at for pid, p in people.items()}
    for group in groups:
        members = nearest[group.pk]
        leaders = set([pid for pid in members if pid in volunteers][:2] or members[:1])
        for pid in members:
            role = GroupRole.LEADER if pid in leaders else GroupRole.MEMBER
            services.group_member_add(group=group, person=people[pid], role=role)
            when = _after(rng, signed_up[pid], now)
            later.activity_times[(pid, "group_joined")] = later.membership_times[(pid, group.pk)] = when
    return len(groups)


def _backdate_later_activity(later: _Later, first_activity_id: int) -> None:
    kinds = {kind for _, kind in later.activity_times}
    entries = []
    for pk, person_id, kind in Activity.objects.filter(id__gte=first_activity_id, kind__in=kinds).values_list(
        "pk", "person_id", "kind"
    ):
        when = later.activity_times.get((person_id, kind))
        if when is not None:
            entries.append(Activity(pk=pk, occurred_at=when))
    Activity.objects.bulk_update(entries, ["occurred_at"], batch_size=BATCH_SIZE)

    emails = [
        EmailAddress(pk=pk, status_changed_at=later.email_status_times[pid])
        for pk, pid in EmailAddress.objects.filter(person_id__in=later.email_status_times, is_primary=True).values_list(
            "pk", "person_id"
        )
    ]
    EmailAddress.objects.bulk_update(emails, ["status_changed_at"], batch_size=BATCH_SIZE)
    phones = [
        PhoneNumber(pk=pk, sms_opted_out_at=later.opt_out_times[pid])
        for pk, pid in PhoneNumber.objects.filter(
            person_id__in=later.opt_out_times, sms_opted_out_at__isnull=False
        ).values_list("pk", "person_id")
    ]
    PhoneNumber.objects.bulk_update(phones, ["sms_opted_out_at"], batch_size=BATCH_SIZE)
    memberships = [
        GroupMembership(pk=pk, created_at=later.membership_times[(pid, gid)])
        for pk, pid, gid in GroupMembership.objects.filter(
            person_id__in={p for p, _ in later.membership_times}
        ).values_list("pk", "person_id", "group_id")
        if (pid, gid) in later.membership_times
    ]
    GroupMembership.objects.bulk_update(memberships, ["created_at"], batch_size=BATCH_SIZE)


# Fast mode ------------------------------------------------------------------------------------


FAST_COLUMNS = {
    Person: "id given_name family_name employer occupation source created_at modified_at".split(),
    EmailAddress: "person_id address status is_primary created_at status_changed_at".split(),
    PhoneNumber: "person_id number kind sms_consent sms_consent_at is_primary created_at".split(),
    PostalAddress: "person_id line1 line2 city state zip_code county latitude longitude is_primary created_at".split(),
}


def seed_people_fast(context: seeding.SeedContext) -> None:
    """`context.people` more people, written straight into the tables (benchmark scale)."""
    started = time.monotonic()
    first_id = (Person.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    end_id = first_id + context.people
    # Seeded by the first id too, so that topping a database up adds new faces.
    rng = random.Random(f"{context.seed}:fast:{first_id}")
    area_codes = area_codes_with_555()
    year = 365 * 24 * 3600
    for chunk_start in range(first_id, end_id, FAST_CHUNK):
        rows: dict = {model: [] for model in FAST_COLUMNS}
        for pid in range(chunk_start, min(chunk_start + FAST_CHUNK, end_id)):
            given, family = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            created = context.now - timedelta(seconds=rng.random() * year)
            employer, occupation = rng.choice(JOBS) if rng.random() < 0.4 else ("", "")
            rows[Person].append((pid, given, family, employer, occupation, "signup form", created, created))

            # The id in the address keeps every address unique at any scale.
            email = f"{email_local_part(rng, given, family)}.{pid}@{rng.choice(EMAIL_DOMAINS)}"
            roll = rng.random()
            status = next((status for status, upto in EMAIL_TROUBLE if roll < upto), None)
            changed = created if status else None
            rows[EmailAddress].append((pid, email, status or EmailStatus.SUBSCRIBED, True, created, changed))

            if rng.random() < 0.65:
                sms = rng.random() < 0.45
                number = fictional_phone(area_codes, pid)
                rows[PhoneNumber].append((pid, number, PhoneKind.MOBILE, sms, created if sms else None, True, created))

            state = pick_state(rng)
            place = pick_zip(rng, state)
            line1, line2 = street_address(rng)
            where = (place.city, state, place.zip_code, place.county, place.latitude, place.longitude)
            rows[PostalAddress].append((pid, line1, line2, *where, True, created))

        for model, columns in FAST_COLUMNS.items():
            bulk_insert_rows(model, columns, rows[model], chunk_size=FAST_CHUNK)
        written = min(chunk_start + FAST_CHUNK, end_id) - first_id
        elapsed = time.monotonic() - started
        if written == context.people or (written // FAST_CHUNK) % 10 == 0:
            context.log(
                f"  people (fast): {written:,} of {context.people:,} ({elapsed:.0f}s, {written / elapsed:,.0f}/s)"
            )
    context.shared["people.person_ids"] = range(first_id, end_id)


seeding.register("people", order=10, demo=seed_people_demo, fast=seed_people_fast)
