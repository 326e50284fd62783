"""Canvassing: the campaign's households cut into turfs, claimed by one volunteer, walked door by door.

A door is a household: every contact of the campaign whose primary address has the same street
line (normalised: case, punctuation, "Street"/"St") in the same ZIP code. Contacts without a
street line are not canvassable and get no door (`CutSummary.unplaced` counts them).

Where a door is: our addresses are geocoded offline to their ZIP code's centroid, so a ZIP code's
households share one point. Before cutting, `turfs.spread` lays each such group out on a small
grid around the centroid, sorted by street and house number, and the door is stored at its grid
point: the map shows one numbered marker per door, and a street's doors share a turf and follow
each other on the walk. With rooftop geocoding nothing coincides and nothing moves.

Cutting again replaces only the turfs nobody is working on: a turf that is claimed or done, or
that has a knocked door (released half-walked), keeps its doors, its number and its order, and
new contacts at those addresses join those doors. Every other door is cut afresh; the replaced
turfs' numbers are reused.

Recording: `attempt_record` takes a contact only from the volunteer holding it. A claim leases
the turf's contacts to the claimer (the turf's lease: a day, or the campaign's lease if longer;
they show as "with a volunteer"), and each door knocked extends it. Because a claim can outlast
any lease, `door_record` also re-leases the door's unfinished contacts to whoever records it,
once it has checked that they hold the turf (or are staff), inside the same transaction: the
claim is what decides, the lease is what `attempt_record` checks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from barnstorm.field import turfs
from barnstorm.field.models import (
    CampaignKind,
    CampaignStatus,
    Contact,
    ContactStatus,
    Disposition,
    Door,
    DoorResult,
    FieldCampaign,
    Turf,
    TurfStatus,
)
from barnstorm.field.services import AnswerInput, attempt_record
from barnstorm.lib.bulk import bulk_insert_rows
from barnstorm.people.models import PostalAddress

logger = logging.getLogger(__name__)

DOORS_PER_TURF_MIN = 5
DOORS_PER_TURF_MAX = 500
TURF_LEASE = timedelta(days=1)
_BULK = 1000
_HOUSEHOLDS = "canvass_cut_households"  # the temporary table of one cut

# What a door's result means for the people living there. Talked: reached for the people spoken
# to, not home for the others. Couldn't reach the door: nobody was asked anything, no attempt.
RESULT_DISPOSITIONS = {
    DoorResult.NOT_HOME: Disposition.NOT_HOME,
    DoorResult.REFUSED: Disposition.REFUSED,
    DoorResult.MOVED: Disposition.MOVED,
}


# Households --------------------------------------------------------------------------------------

_ABBREVIATIONS = {
    "STREET": "ST", "AVENUE": "AVE", "AV": "AVE", "ROAD": "RD", "DRIVE": "DR", "BOULEVARD": "BLVD",
    "LANE": "LN", "COURT": "CT", "PLACE": "PL", "CIRCLE": "CIR", "TERRACE": "TER", "PARKWAY": "PKWY",
    "HIGHWAY": "HWY", "TRAIL": "TRL", "SQUARE": "SQ", "NORTH": "N", "SOUTH": "S", "EAST": "E",
    "WEST": "W", "NORTHEAST": "NE", "NORTHWEST": "NW", "SOUTHEAST": "SE", "SOUTHWEST": "SW",
}  # fmt: skip
_PUNCTUATION = re.compile(r"[^\w\s]")


def household_key(line1: str, zip_code: str) -> tuple[str, str]:
    """Two addresses with the same key are one door: '12 Elm Street' and '12 elm st.' in 50309."""
    words = _PUNCTUATION.sub(" ", line1.upper()).split()
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words), (zip_code or "").strip()[:5]


def _walking_order(key: tuple[str, str]) -> tuple:
    """ZIP code, street name, house number: the order households on one point are laid out in."""
    street, zip_code = key
    number, _, name = street.partition(" ")
    if number.isdigit():
        return zip_code, name, int(number), street
    return zip_code, street, 0, street


@dataclass
class _Household:
    line1: str
    city: str
    zip_code: str
    latitude: float
    longitude: float
    contact_ids: list[int]


def _households(campaign: FieldCampaign) -> tuple[dict[tuple[str, str], _Household], int]:
    """The campaign's households by key, and how many of its contacts have no street address."""
    contacts = Contact.objects.filter(campaign=campaign)
    addresses: dict[int, tuple] = {}
    rows = (
        PostalAddress.objects.filter(
            is_primary=True,
            latitude__isnull=False,
            longitude__isnull=False,
            person_id__in=contacts.values("person_id"),
        )
        .order_by("person_id", "-pk")
        .values_list("person_id", "line1", "city", "zip_code", "latitude", "longitude")
    )
    for person_id, *address in rows:
        addresses.setdefault(person_id, tuple(address))
    households: dict[tuple[str, str], _Household] = {}
    unplaced = 0
    for contact_id, person_id in contacts.order_by("pk").values_list("pk", "person_id"):
        address = addresses.get(person_id)
        if address is None or not address[0].strip():
            unplaced += 1
            continue
        line1, city, zip_code, lat, lng = address
        key = household_key(line1, zip_code)
        household = households.get(key)
        if household is None:
            household = households[key] = _Household(line1.strip(), city, zip_code[:10], lat, lng, [])
        household.contact_ids.append(contact_id)
    return households, unplaced


def _contacts_door_set(campaign: FieldCampaign, pairs: Iterable[tuple[int, int]]) -> None:
    """Point each of the campaign's contacts at its door ((contact id, door id) pairs), the rest at none.

    One UPDATE from a temporary table of the pairs: a campaign's 100,000 contacts are set in a
    second or two, where a bulk_update's CASE per row would take minutes.
    """
    contact = connection.ops.quote_name(Contact._meta.db_table)
    # Both databases roll DDL back with the transaction: a cut that fails leaves no table behind.
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {_HOUSEHOLDS} (contact_id bigint PRIMARY KEY, door_id bigint NOT NULL)")
        cursor.executemany(f"INSERT INTO {_HOUSEHOLDS} (contact_id, door_id) VALUES (%s, %s)", list(pairs))
        cursor.execute(
            f"UPDATE {contact} SET door_id = "
            f"(SELECT h.door_id FROM {_HOUSEHOLDS} h WHERE h.contact_id = {contact}.id) WHERE campaign_id = %s",
            [campaign.pk],
        )
        cursor.execute(f"DROP TABLE {_HOUSEHOLDS}")


# Cutting -----------------------------------------------------------------------------------------


@dataclass
class CutSummary:
    turfs: int  # cut now
    kept: int  # left as they were: claimed, done or partly knocked
    doors: int  # in the turfs cut now
    unplaced: int  # contacts without a street address: no door


def turfs_cut(*, campaign: FieldCampaign, doors_per_turf: int = 50, actor) -> CutSummary:
    """Group the campaign's contacts into doors and cut the doors nobody is working on into turfs.

    Each new turf gets about `doors_per_turf` doors (see turfs.cut), walked in the order
    turfs.route gives, numbered from 1 along the route.
    """
    if not DOORS_PER_TURF_MIN <= doors_per_turf <= DOORS_PER_TURF_MAX:
        raise ValidationError(
            {"doors_per_turf": f"Choose between {DOORS_PER_TURF_MIN} and {DOORS_PER_TURF_MAX} doors per turf."}
        )
    with transaction.atomic():
        campaign = FieldCampaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.kind != CampaignKind.CANVASS:
            raise ValidationError("Only a canvass has turfs.")
        kept_turfs = set(
            Turf.objects.filter(campaign=campaign)
            .filter(Q(status__in=(TurfStatus.CLAIMED, TurfStatus.DONE)) | Q(doors__knocked_at__isnull=False))
            .values_list("pk", flat=True)
            .distinct()
        )
        kept = Q(turf_id__in=kept_turfs) | Q(turf__isnull=True, knocked_at__isnull=False)
        kept_doors: dict[tuple[str, str], int] = {}
        for pk, line1, zip_code in (
            Door.objects.filter(kept, campaign=campaign).order_by("pk").values_list("pk", "line1", "zip_code")
        ):
            kept_doors.setdefault(household_key(line1, zip_code), pk)

        # Everything else is cut afresh. Those doors are unknocked, so nothing but Contact.door
        # points at them, and every contact of the campaign is pointed at its door again below,
        # in this transaction (the foreign key is checked at commit).
        _delete(Door.objects.filter(campaign=campaign).exclude(kept))
        Turf.objects.filter(campaign=campaign).exclude(pk__in=kept_turfs).delete()
        households, unplaced = _households(campaign)
        keys = sorted((key for key in households if key not in kept_doors), key=_walking_order)
        new_turfs = _cut_into_turfs(campaign, [households[key] for key in keys], doors_per_turf, kept_turfs)
        cut_doors = {
            (turf_id, position): pk
            for pk, turf_id, position in Door.objects.filter(campaign=campaign)
            .exclude(kept)
            .values_list("pk", "turf_id", "position")
        }
        door_ids = dict(kept_doors)
        for turf, order in new_turfs:
            for position, index in enumerate(order, 1):
                door_ids[keys[index]] = cut_doors[(turf.pk, position)]
        _contacts_door_set(
            campaign,
            (
                (contact_id, door_ids[key])
                for key, household in households.items()
                for contact_id in household.contact_ids
            ),
        )

    summary = CutSummary(turfs=len(new_turfs), kept=len(kept_turfs), doors=len(keys), unplaced=unplaced)
    logger.info("canvass %s: turfs cut by user %s: %s", campaign.pk, getattr(actor, "pk", None), summary)
    return summary


def _delete(queryset) -> None:
    """One DELETE of the rows `queryset` selects, without loading them (nothing cascades from them)."""
    sql, params = queryset.values("pk").query.sql_with_params()
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id IN ({sql})", params)


def _cut_into_turfs(
    campaign: FieldCampaign, households: list[_Household], doors_per_turf: int, kept: set[int]
) -> list[tuple[Turf, list[int]]]:
    """Spread, cut and route `households` into new turfs and insert their doors.

    Returns each new turf with its households (indexes into `households`) in walking order.
    """
    if not households:
        return []
    points = turfs.spread([(i, h.latitude, h.longitude) for i, h in enumerate(households)])
    taken = set(Turf.objects.filter(pk__in=kept).values_list("number", flat=True))
    numbers = (n for n in range(1, len(households) + len(taken) + 2) if n not in taken)
    new_turfs: list[tuple[Turf, list[int]]] = []
    for members in turfs.cut(points, doors_per_turf):
        order, meters = turfs.route([points[i] for i in members])
        lat, lng = turfs.centroid([points[i] for i in order])
        turf = Turf(campaign=campaign, number=next(numbers), route_meters=meters, latitude=lat, longitude=lng)
        new_turfs.append((turf, order))
    Turf.objects.bulk_create([turf for turf, _ in new_turfs], batch_size=_BULK)
    rows = (
        (campaign.pk, turf.pk, position, households[i].line1, households[i].city, households[i].zip_code,
         points[i][1], points[i][2])
        for turf, order in new_turfs
        for position, i in enumerate(order, 1)
    )  # fmt: skip
    columns = ["campaign", "turf", "position", "line1", "city", "zip_code", "latitude", "longitude"]
    bulk_insert_rows(Door, columns, rows, reset_sequence=False)
    return new_turfs


# Claiming ----------------------------------------------------------------------------------------


def turf_claim(*, turf: Turf, volunteer, now: datetime | None = None) -> Turf:
    """`volunteer` takes the turf, alone: anyone else asking for it after them is refused.

    The claim is one conditional UPDATE (status open → claimed), so of two volunteers asking at
    once exactly one gets it. Claiming a turf you already hold changes nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        turf = Turf.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=turf.pk)
        if turf.status == TurfStatus.CLAIMED and turf.claimed_by_id == volunteer.pk:
            return turf
        if turf.campaign.status != CampaignStatus.ACTIVE:
            raise ValidationError("This canvass isn't taking volunteers right now.")
        claimed = Turf.objects.filter(pk=turf.pk, status=TurfStatus.OPEN).update(
            status=TurfStatus.CLAIMED, claimed_by=volunteer, claimed_at=now
        )
        if not claimed:
            raise ValidationError(
                "This turf is already walked."
                if turf.status == TurfStatus.DONE
                else "Someone else has claimed this turf."
            )
        turf.status, turf.claimed_by, turf.claimed_at = TurfStatus.CLAIMED, volunteer, now
        _contacts_lease(Contact.objects.filter(door__turf=turf), turf.campaign, volunteer, now)
    logger.info("canvass %s: turf %s claimed by user %s", turf.campaign_id, turf.number, volunteer.pk)
    return turf


def turf_release(*, turf: Turf, actor) -> Turf:
    """The claimer (or staff) gives the turf back: open again, its unvisited people back in the pool."""
    with transaction.atomic():
        turf = Turf.objects.select_for_update().get(pk=turf.pk)
        if turf.status != TurfStatus.CLAIMED:
            raise ValidationError("This turf isn't claimed.")
        if turf.claimed_by_id != actor.pk and not actor.is_organizer:
            raise PermissionDenied("This turf isn't yours.")
        Contact.objects.filter(door__turf=turf, status=ContactStatus.LEASED).update(
            status=ContactStatus.AVAILABLE, leased_to=None, leased_until=None
        )
        claimer = turf.claimed_by_id
        turf.status, turf.claimed_by, turf.claimed_at = TurfStatus.OPEN, None, None
        turf.save(update_fields=["status", "claimed_by", "claimed_at"])
    logger.info("canvass %s: turf %s (user %s) released by user %s", turf.campaign_id, turf.number, claimer, actor.pk)
    return turf


def _contacts_lease(contacts, campaign: FieldCampaign, volunteer, now: datetime) -> int:
    until = now + max(TURF_LEASE, timedelta(minutes=campaign.lease_minutes))
    return contacts.exclude(status=ContactStatus.DONE).update(
        status=ContactStatus.LEASED, leased_to=volunteer, leased_until=until
    )


def turfs_visible_to(user, campaign: FieldCampaign):
    """The turfs whose walk list `user` may open: the ones they claimed; every one for staff."""
    qs = Turf.objects.filter(campaign=campaign)
    if user.is_authenticated and user.is_organizer:
        return qs
    if not user.is_authenticated:
        return qs.none()
    return qs.filter(claimed_by=user).exclude(status=TurfStatus.OPEN)


# Knocking ----------------------------------------------------------------------------------------


def door_record(
    *,
    door: Door,
    volunteer,
    result: str,
    answers_by_contact: dict[int, list[AnswerInput]] | None = None,
    notes: str = "",
    now: datetime | None = None,
) -> Door:
    """What happened at one door, and an attempt for each of its people not finished with yet.

    Not home, refused, moved: that disposition for everyone at the door. Talked: "reached" with
    their answers for each person in `answers_by_contact` (the people spoken to; with a single
    person at the door, them), "not home" for the others. Couldn't reach the door: no attempt,
    the door just counts as visited. The turf is done when every door has a result.
    """
    now = now or timezone.now()
    answers_by_contact = answers_by_contact or {}
    if result not in DoorResult.values:
        raise ValidationError({"result": "Choose what happened at the door."})
    with transaction.atomic():
        door = Door.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=door.pk)
        if door.turf_id is None:
            raise ValidationError("This door isn't in a turf.")
        turf = Turf.objects.select_for_update().get(pk=door.turf_id)
        holds = turf.claimed_by_id == volunteer.pk and turf.status in (TurfStatus.CLAIMED, TurfStatus.DONE)
        if not (holds or volunteer.is_organizer):
            raise PermissionDenied("This turf isn't yours.")
        contacts = list(Contact.objects.filter(door=door).order_by("pk"))
        known = {c.pk for c in contacts}
        if set(answers_by_contact) - known:
            raise ValidationError("Those answers are for someone who doesn't live here.")
        waiting = [c for c in contacts if c.status != ContactStatus.DONE]
        dispositions = _door_dispositions(result, waiting, answers_by_contact)
        _contacts_lease(Contact.objects.filter(pk__in=list(dispositions)), door.campaign, volunteer, now)
        for contact in waiting:
            disposition = dispositions.get(contact.pk)
            if disposition is not None:
                answers = answers_by_contact.get(contact.pk, []) if disposition == Disposition.REACHED else []
                attempt_record(
                    contact=contact, volunteer=volunteer, disposition=disposition, answers=answers, notes=notes, now=now
                )
        door.result, door.knocked_at, door.knocked_by = result, now, volunteer
        door.save(update_fields=["result", "knocked_at", "knocked_by"])
        if holds:
            # A claimer at work keeps the rest of their turf for another day (a claim can last
            # longer than any lease: a weekend's canvass).
            held = Contact.objects.filter(door__turf=turf, leased_to=volunteer, status=ContactStatus.LEASED)
            _contacts_lease(held, door.campaign, volunteer, now)
        if turf.status == TurfStatus.CLAIMED and not Door.objects.filter(turf=turf, knocked_at__isnull=True).exists():
            turf.status = TurfStatus.DONE
            turf.save(update_fields=["status"])
    return door


def _door_dispositions(result: str, waiting: list[Contact], answers_by_contact: dict) -> dict[int, str]:
    if result == DoorResult.INACCESSIBLE:
        return {}
    if result != DoorResult.TALKED:
        return {c.pk: RESULT_DISPOSITIONS[result] for c in waiting}
    spoken = set(answers_by_contact)
    if not spoken:
        if len(waiting) > 1:
            raise ValidationError("Tick who you spoke with.")
        spoken = {c.pk for c in waiting}
    if not spoken & {c.pk for c in waiting}:
        raise ValidationError("Everyone you spoke with here has already been reached.")
    return {c.pk: Disposition.REACHED if c.pk in spoken else Disposition.NOT_HOME for c in waiting}


# Adjusting turfs ---------------------------------------------------------------------------------


def door_move(*, door: Door, to_turf: Turf, actor) -> Door:
    """An organizer moves a door into another turf of the campaign; both turfs are walked anew.

    The door's unfinished people follow the turf: leased to its claimer, or back in the pool. A
    turf left without doors is removed unless someone holds it; a done turf given an unknocked
    door is claimed (or open) again.
    """
    if not getattr(actor, "is_organizer", False):
        raise PermissionDenied("Only organizers change turfs.")
    with transaction.atomic():
        door = Door.objects.select_for_update().get(pk=door.pk)
        if to_turf.campaign_id != door.campaign_id:
            raise ValidationError("That turf is in another campaign.")
        if door.turf_id == to_turf.pk:
            return door
        locked = {
            t.pk: t for t in Turf.objects.select_for_update().filter(pk__in=[door.turf_id, to_turf.pk]).order_by("pk")
        }
        source, target = locked.get(door.turf_id), locked[to_turf.pk]
        door.turf = target
        door.save(update_fields=["turf"])
        contacts = Contact.objects.filter(door=door)
        if target.status != TurfStatus.OPEN and target.claimed_by_id:
            _contacts_lease(contacts, door.campaign, target.claimed_by, timezone.now())
        else:
            contacts.filter(status=ContactStatus.LEASED).update(
                status=ContactStatus.AVAILABLE, leased_to=None, leased_until=None
            )
        for turf in (source, target):
            if turf is not None:
                _turf_reroute(turf)
    logger.info(
        "canvass %s: door %s moved from turf %s to turf %s by user %s",
        door.campaign_id, door.pk, source.number if source else None, target.number, actor.pk,
    )  # fmt: skip
    return door


def _turf_reroute(turf: Turf) -> None:
    """Order the turf's doors again, and settle its length, middle and status."""
    doors = list(Door.objects.filter(turf=turf).order_by("position", "pk"))
    if not doors:
        if turf.status == TurfStatus.OPEN:
            turf.delete()
        else:
            turf.route_meters = 0
            turf.save(update_fields=["route_meters"])
        return
    by_id = {d.pk: d for d in doors}
    order, meters = turfs.route([(d.pk, d.latitude, d.longitude) for d in doors])
    for position, pk in enumerate(order, 1):
        by_id[pk].position = position
    Door.objects.bulk_update(doors, ["position"], batch_size=_BULK)
    turf.route_meters = meters
    turf.latitude, turf.longitude = turfs.centroid([(d.pk, d.latitude, d.longitude) for d in doors])
    walked = all(d.knocked_at is not None for d in doors)
    if walked and turf.status == TurfStatus.CLAIMED:
        turf.status = TurfStatus.DONE
    elif not walked and turf.status == TurfStatus.DONE:
        turf.status = TurfStatus.CLAIMED if turf.claimed_by_id else TurfStatus.OPEN
    turf.save(update_fields=["route_meters", "latitude", "longitude", "status"])
