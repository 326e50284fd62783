"""Writes to the supporter CRM. Every intake path (forms, API, imports, admin) comes here.

`person_upsert` is the only way a person enters Barnstorm. It matches an existing person by
normalised email, then by phone, merges the new facts in without erasing old ones, and relies
on the unique email address to never create two people for one address, even under races.
`person_upsert_many` is the same service for a batch of rows (imports), with the same rules.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.text import capfirst, slugify
from django.utils.translation import gettext as _

from barnstorm.activity.services import activity_record, activity_record_many
from barnstorm.lib.bulk import bulk_insert_objects, bulk_insert_rows, bulk_update_objects, rows_where_in
from barnstorm.people.models import (
    EmailAddress,
    EmailStatus,
    GroupMembership,
    GroupRole,
    ListMembership,
    LocalGroup,
    MergeRecord,
    PeopleList,
    Person,
    PhoneKind,
    PhoneNumber,
    PostalAddress,
    Tag,
    Tagging,
)
from barnstorm.people.normalize import email_key, normalize_email, normalize_phone, normalize_zip, zip_info
from barnstorm.people.signals import person_merged

NAME_FIELDS = ("honorific_prefix", "given_name", "additional_name", "family_name", "honorific_suffix")
# Facts that change over a life (a new job): the newest non-blank value wins.
CURRENT_FIELDS = ("employer", "occupation")
# First touch is kept: where the person came from and who referred them.
FIRST_TOUCH_FIELDS = ("source", "referral_code")
SCALAR_FIELDS = NAME_FIELDS + CURRENT_FIELDS + FIRST_TOUCH_FIELDS


@dataclass
class AddressInput:
    line1: str = ""
    line2: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    country: str = "US"


@dataclass
class PersonInput:
    """What one intake path knows about a person. Blank means "not said", never "erase"."""

    email: str = ""
    phone: str = ""
    phone_kind: str = PhoneKind.OTHER
    # True records explicit consent to texts; False and None change nothing (opting out
    # is its own service, phone_sms_opt_out).
    sms_consent: bool | None = None
    honorific_prefix: str = ""
    given_name: str = ""
    additional_name: str = ""
    family_name: str = ""
    honorific_suffix: str = ""
    employer: str = ""
    occupation: str = ""
    source: str = ""
    referral_code: str = ""
    address: AddressInput | None = None
    tags: Sequence[str] = ()
    lists: Sequence[str] = ()
    custom_fields: dict = field(default_factory=dict)
    # An explicit opt-in (a signup form) resubscribes an address that had unsubscribed;
    # an import never does.
    resubscribe: bool = False
    # Set on the copies normalized() returns, so that normalising twice costs nothing.
    is_normalized: bool = field(default=False, repr=False, compare=False)

    def normalized(self) -> PersonInput:
        """A copy in canonical form; raises ValidationError naming every bad field."""
        if self.is_normalized:
            return self
        errors: dict[str, list] = {}
        email = phone = ""
        if self.email.strip():
            try:
                email = normalize_email(self.email)
            except ValidationError as e:
                errors["email"] = e.messages
        if self.phone.strip():
            try:
                phone = normalize_phone(self.phone)
            except ValidationError as e:
                errors["phone"] = e.messages
        if not email and not phone and not errors:
            errors["email"] = [_("An email address or a phone number is required")]
        address = None
        if self.address is not None:
            address, address_errors = _normalized_address(self.address)
            errors.update(address_errors)
        if errors:
            raise ValidationError(errors)
        result = dataclasses.replace(
            self,
            email=email,
            phone=phone,
            address=address,
            tags=_clean_names(self.tags),
            lists=_clean_names(self.lists),
            is_normalized=True,
            **{name: getattr(self, name).strip() for name in SCALAR_FIELDS},
        )
        # Too long for its column: refused here, by name, rather than failing a whole batch later.
        if errors := _length_errors(result):
            raise ValidationError(errors)
        return result


@functools.cache
def _length_limits() -> dict[str, tuple[int, str]]:
    """Each input field's column width and the label to name it by."""

    def limit(model, name, label=None):
        field = model._meta.get_field(name)
        return field.max_length, str(label or capfirst(field.verbose_name))

    return {
        **{name: limit(Person, name) for name in SCALAR_FIELDS},
        "email": limit(EmailAddress, "address", _("Email")),
        **{name: limit(PostalAddress, name) for name in ("line1", "line2", "city", "zip_code", "country")},
        "tags": limit(Tag, "name", _("Tag")),
        "lists": limit(PeopleList, "name", _("List")),
    }


def _length_errors(data: PersonInput) -> dict[str, list[str]]:
    limits = _length_limits()
    values = [(name, getattr(data, name)) for name in (*SCALAR_FIELDS, "email")]
    if data.address is not None:
        values += [(name, getattr(data.address, name)) for name in ("line1", "line2", "city", "zip_code", "country")]
    values += [("tags", name) for name in data.tags] + [("lists", name) for name in data.lists]
    errors: dict[str, list[str]] = {}
    for name, value in values:
        width, label = limits[name]
        if len(value) > width and name not in errors:
            errors[name] = [_("%(field)s is longer than %(limit)d characters") % {"field": label, "limit": width}]
    return errors


def _clean_names(names: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for name in names:
        name = " ".join(name.split())
        if name:
            seen.setdefault(name.lower(), name)
    return tuple(seen.values())


def _normalized_address(address: AddressInput) -> tuple[AddressInput | None, dict]:
    values = {f.name: " ".join(getattr(address, f.name).split()) for f in dataclasses.fields(address)}
    if not any(values[k] for k in ("line1", "city", "zip_code")):
        return None, {}
    errors = {}
    if values["zip_code"]:
        try:
            values["zip_code"] = normalize_zip(values["zip_code"])
        except ValidationError as e:
            errors["zip_code"] = e.messages
    values["state"] = values["state"].upper()
    if len(values["state"]) > 2:
        errors["state"] = [_("Use the two-letter state code")]
    info = zip_info(values["zip_code"]) if values["zip_code"] and not errors else None
    if info:
        values["city"] = values["city"] or info.city
        values["state"] = values["state"] or info.state
    return AddressInput(**values), errors


@dataclass
class UpsertResult:
    person: Person
    created: bool


def person_upsert(
    *,
    data: PersonInput,
    actor=None,
    activity_kind: str | None = "signup",
    activity_data: dict | None = None,
) -> UpsertResult:
    """Find or create the person `data` describes and merge it in. Raises ValidationError."""
    return person_upsert_many(rows=[data], actor=actor, activity_kind=activity_kind, activity_data=activity_data)[0]


def person_upsert_many(
    *,
    rows: Sequence[PersonInput],
    actor=None,
    activity_kind: str | None = "signup",
    activity_data: dict | None = None,
) -> list[UpsertResult]:
    """person_upsert for a batch: one result per row, in order, in a few queries per batch.

    Rows in one batch that share an email (or, failing that, a phone) are the same person.
    Raises ValidationError if any row is invalid; callers that must keep the good rows
    (imports) normalise each row first and pass only the good ones.
    """
    rows = [row.normalized() for row in rows]
    # A concurrent request may insert the same new address between our lookup and our
    # insert; the unique index refuses the second, and the retry then finds the first.
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _upsert_batch(rows, actor, activity_kind, activity_data or {})
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _upsert_batch(rows, actor, activity_kind, activity_data) -> list[UpsertResult]:
    now = timezone.now()
    emails = {row.email for row in rows if row.email}
    phones = {row.phone for row in rows if row.phone}
    known_emails = {
        address: (pk, person_id, status)
        for pk, address, person_id, status in rows_where_in(
            EmailAddress, "address", emails, ["id", "address", "person", "status"]
        )
    }
    by_email = {address: person_id for address, (_pk, person_id, _status) in known_emails.items()}
    by_phone: dict[str, int] = {}
    for number, person_id in sorted(rows_where_in(PhoneNumber, "number", phones, ["number", "person"])):
        by_phone.setdefault(number, person_id)  # a shared number belongs to its earliest person

    # Resolve every row to an existing person id or to a new person ("new", index). An email
    # or phone a row brings is owned from then on by the person it resolved to (existing or
    # new), so a later row in the batch matches it exactly as it would one row at a time.
    targets: list[int | tuple[str, int]] = []
    email_owner: dict[str, int | tuple[str, int]] = dict(by_email)
    phone_owner: dict[str, int | tuple[str, int]] = dict(by_phone)
    new_people: list[Person] = []
    for row in rows:
        target = email_owner.get(row.email) if row.email else None
        if target is None and row.phone:
            target = phone_owner.get(row.phone)
        if target is None:
            target = ("new", len(new_people))
            new_people.append(Person())
        if row.email:
            email_owner.setdefault(row.email, target)
        if row.phone:
            # setdefault: like the lookup by phone, the earliest owner of a shared number wins.
            phone_owner.setdefault(row.phone, target)
        targets.append(target)

    for row, target in zip(rows, targets, strict=True):
        if isinstance(target, tuple):
            _merge_scalars(new_people[target[1]], row)
    # New rows go in with COPY (PostgreSQL); ids are reserved first so contact points can point at them.
    bulk_insert_objects(new_people)

    existing_ids = {t for t in targets if isinstance(t, int)}
    people = Person.objects.in_bulk(existing_ids)
    changed_people: dict[int, Person] = {}
    for row, target in zip(rows, targets, strict=True):
        if isinstance(target, int) and _merge_scalars(people[target], row):
            changed_people[target] = people[target]
    if changed_people:
        bulk_update_objects(list(changed_people.values()), [*SCALAR_FIELDS, "custom_fields", "modified_at"])
    people.update((person.pk, person) for person in new_people)
    person_ids = [t if isinstance(t, int) else new_people[t[1]].pk for t in targets]

    # People created just now have no contact points yet: nothing of theirs to look up.
    new_ids = {p.pk for p in new_people}
    _credit_recruiters(rows, person_ids, new_ids, now)
    _add_emails(rows, person_ids, now, new_ids, known_emails)
    _add_phones(rows, person_ids, now, new_ids)
    _add_addresses(rows, person_ids, new_ids)
    _add_tags(rows, person_ids)
    _add_lists(rows, person_ids)

    if activity_kind is None:  # the caller records its own, richer activity (a donation, an RSVP)
        return [UpsertResult(person=people[pid], created=pid in new_ids) for pid in person_ids]
    activity_record_many(
        kind=activity_kind,
        person_ids=person_ids,
        data=[{**activity_data, **({"source": row.source} if row.source else {})} for row in rows],
        actor=actor,
        occurred_at=now,
    )
    return [UpsertResult(person=people[pid], created=pid in new_ids) for pid in person_ids]


def _merge_scalars(person: Person, row: PersonInput) -> bool:
    """Merge a row's facts into a person. Returns whether anything changed."""
    changed = False
    for name in NAME_FIELDS + FIRST_TOUCH_FIELDS:
        value = getattr(row, name)
        if value and not getattr(person, name):
            setattr(person, name, value)
            changed = True
    for name in CURRENT_FIELDS:
        value = getattr(row, name)
        if value and getattr(person, name) != value:
            setattr(person, name, value)
            changed = True
    if row.custom_fields:
        merged = {**person.custom_fields, **{k: v for k, v in row.custom_fields.items() if v not in ("", None)}}
        if merged != person.custom_fields:
            person.custom_fields = merged
            changed = True
    if changed:
        person.modified_at = timezone.now()
    return changed


RECRUITED_BY = re.compile(r"share_(\d{1,18})")


def _credit_recruiters(rows, person_ids, new_ids: set[int], now) -> None:
    """A new person who came through someone's share link ("share_<their id>") was recruited by them."""
    credits = []
    for row, pid in zip(rows, person_ids, strict=True):
        match = RECRUITED_BY.fullmatch(row.referral_code or "")
        if pid in new_ids and match and int(match.group(1)) != pid:
            credits.append((int(match.group(1)), pid))
    if not credits:
        return
    known = set(Person.objects.filter(pk__in={r for r, _ in credits}).values_list("pk", flat=True))
    credits = [(r, pid) for r, pid in credits if r in known]
    if credits:
        activity_record_many(
            kind="recruited",
            person_ids=[r for r, _ in credits],
            data=[{"recruit_id": pid} for _, pid in credits],
            occurred_at=now,
        )


def _add_emails(rows, person_ids, now, new_ids: set[int], known: dict[str, tuple[int, int, str]]) -> None:
    """`known`: the batch's addresses already in the table, looked up in this transaction. One
    taken by another transaction since then makes the insert fail on the unique index, and the
    batch is tried again (person_upsert_many)."""
    wanted = {row.email: (pid, row.resubscribe) for row, pid in zip(rows, person_ids, strict=True) if row.email}
    if not wanted:
        return
    existing = {p for p, _ in wanted.values()} - new_ids
    with_email = {pid for (pid,) in rows_where_in(EmailAddress, "person", existing, ["person"])} if existing else set()
    new, resubscribed = [], []
    for address, (pid, resubscribe) in wanted.items():
        if address not in known:
            new.append((pid, address, pid not in with_email))
            with_email.add(pid)
            continue
        pk, _owner, status = known[address]  # the owner is pid: rows resolved to it by this address
        if resubscribe and status == EmailStatus.UNSUBSCRIBED:
            resubscribed.append(pk)
    bulk_insert_rows(EmailAddress, ["person", "address", "is_primary"], new, reset_sequence=False)
    if resubscribed:
        EmailAddress.objects.filter(pk__in=resubscribed).update(status=EmailStatus.SUBSCRIBED, status_changed_at=now)


def _add_phones(rows, person_ids, now, new_ids: set[int]) -> None:
    wanted: dict[tuple[int, str], PersonInput] = {}
    for row, pid in zip(rows, person_ids, strict=True):
        if row.phone:
            previous = wanted.get((pid, row.phone))
            if previous is None or row.sms_consent:
                wanted[(pid, row.phone)] = row
    if not wanted:
        return
    existing = {pid for pid, _ in wanted} - new_ids
    known = {
        (pid, number): (pk, sms_consent)
        for pk, pid, number, sms_consent in (
            rows_where_in(PhoneNumber, "person", existing, ["id", "person", "number", "sms_consent"])
            if existing
            else ()
        )
    }
    with_phone = {pid for pid, _ in known}
    new, consented = [], []
    for (pid, number), row in wanted.items():
        phone = known.get((pid, number))
        if phone is None:
            consent = bool(row.sms_consent)
            new.append((pid, number, row.phone_kind, consent, now if consent else None, pid not in with_phone))
            with_phone.add(pid)
        elif row.sms_consent and not phone[1]:
            consented.append(phone[0])
    bulk_insert_rows(
        PhoneNumber,
        ["person", "number", "kind", "sms_consent", "sms_consent_at", "is_primary"],
        new,
        reset_sequence=False,
    )
    if consented:
        PhoneNumber.objects.filter(pk__in=consented).update(sms_consent=True, sms_consent_at=now)


ADDRESS_COLUMNS = [
    "person",
    "line1",
    "line2",
    "city",
    "state",
    "zip_code",
    "country",
    "county",
    "latitude",
    "longitude",
]


def _address_key(line1: str, zip_code: str) -> tuple[str, str]:
    return (" ".join(line1.lower().split()), zip_code[:5])


def _add_addresses(rows, person_ids, new_ids: set[int]) -> None:
    wanted: dict[int, AddressInput] = {}
    for row, pid in zip(rows, person_ids, strict=True):
        if row.address is not None:
            wanted[pid] = row.address  # the last address given in a batch is the current one
    if not wanted:
        return
    known: dict[int, list[PostalAddress]] = {}
    existing = wanted.keys() - new_ids
    for address in PostalAddress.objects.filter(person_id__in=existing) if existing else ():
        known.setdefault(address.person_id, []).append(address)
    new, demote, fill = [], [], []
    for pid, given in wanted.items():
        key = _address_key(given.line1, given.zip_code)
        same = next((a for a in known.get(pid, []) if _address_key(a.line1, a.zip_code) == key), None)
        if same is not None:
            # Same place: fill in what the old record lacked (a second line, a city).
            updated = False
            for name in ("line2", "city", "state"):
                if getattr(given, name) and not getattr(same, name):
                    setattr(same, name, getattr(given, name))
                    updated = True
            if updated:
                fill.append(same)
            continue
        info = zip_info(given.zip_code) if given.zip_code else None
        new.append(
            (pid, given.line1, given.line2, given.city, given.state, given.zip_code, given.country or "US")
            + ((info.county, info.latitude, info.longitude) if info else ("", None, None))
        )
        demote.extend(a.pk for a in known.get(pid, []) if a.is_primary)
    if demote:
        PostalAddress.objects.filter(pk__in=demote).update(is_primary=False)
    if fill:
        bulk_update_objects(fill, ["line2", "city", "state"])
    # A new address is the person's current one: primary.
    bulk_insert_rows(
        PostalAddress, [*ADDRESS_COLUMNS, "is_primary"], (row + (True,) for row in new), reset_sequence=False
    )


def tags_get_or_create(*, names: Iterable[str]) -> dict[str, Tag]:
    """Tags by lower-cased name, creating the missing ones (names compare case-insensitively)."""
    names = _clean_names(names)
    if not names:
        return {}
    found = {
        t.name.lower(): t
        for t in Tag.objects.annotate(lname=Lower("name")).filter(lname__in=[n.lower() for n in names])
    }
    missing = [Tag(name=n) for n in names if n.lower() not in found]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        found = {
            t.name.lower(): t
            for t in Tag.objects.annotate(lname=Lower("name")).filter(lname__in=[n.lower() for n in names])
        }
    return found


def _add_tags(rows, person_ids) -> None:
    tags = tags_get_or_create(names=[name for row in rows for name in row.tags])
    if not tags:
        return
    wanted = {(pid, tags[name.lower()].pk) for row, pid in zip(rows, person_ids, strict=True) for name in row.tags}
    # A racing request that tags the same person in between trips the unique constraint,
    # and person_upsert_many starts the batch again.
    have = set(rows_where_in(Tagging, "person", {pid for pid, _ in wanted}, ["person", "tag"]))
    bulk_insert_rows(Tagging, ["person", "tag"], sorted(wanted - have), reset_sequence=False)


def _add_lists(rows, person_ids) -> None:
    names = _clean_names(name for row in rows for name in row.lists)
    if not names:
        return
    for name in names:
        PeopleList.objects.get_or_create(name=name)
    lists = {pl.name.lower(): pl for pl in PeopleList.objects.filter(name__in=names)}
    ListMembership.objects.bulk_create(
        [
            ListMembership(person_id=pid, people_list=lists[name.lower()])
            for row, pid in zip(rows, person_ids, strict=True)
            for name in row.lists
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )


# Tags, lists and groups ---------------------------------------------------------------------


@transaction.atomic
def person_tag_add(*, person: Person, name: str, actor=None) -> Tag:
    tag = tags_get_or_create(names=[name])[" ".join(name.split()).lower()]
    _, created = Tagging.objects.get_or_create(person=person, tag=tag)
    if created:
        activity_record(person_id=person.pk, kind="tag_added", data={"tag": tag.name}, actor=actor)
    return tag


@transaction.atomic
def person_tag_remove(*, person: Person, tag: Tag, actor=None) -> None:
    deleted, _ = Tagging.objects.filter(person=person, tag=tag).delete()
    if deleted:
        activity_record(person_id=person.pk, kind="tag_removed", data={"tag": tag.name}, actor=actor)


def tag_rename(*, tag: Tag, name: str) -> Tag:
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("A tag needs a name")})
    clash = Tag.objects.annotate(lname=Lower("name")).filter(lname=name.lower()).exclude(pk=tag.pk)
    if clash.exists():
        raise ValidationError({"name": _("A tag called %(name)s already exists") % {"name": name}})
    tag.name = name
    tag.save(update_fields=["name"])
    return tag


def tag_delete(*, tag: Tag) -> None:
    tag.delete()


def people_list_create(*, name: str, description: str = "") -> PeopleList:
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("A list needs a name")})
    if PeopleList.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": _("A list called %(name)s already exists") % {"name": name}})
    return PeopleList.objects.create(name=name, description=description)


def people_list_add(*, people_list: PeopleList, person_ids: Iterable[int]) -> int:
    created = ListMembership.objects.bulk_create(
        [ListMembership(person_id=pid, people_list=people_list) for pid in person_ids],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return len(created)


def people_list_remove(*, people_list: PeopleList, person: Person) -> None:
    ListMembership.objects.filter(people_list=people_list, person=person).delete()


def local_group_create(*, name: str, zip_code: str = "", description: str = "", slug: str = "") -> LocalGroup:
    """A new local group, placed on the map by its ZIP code. Raises ValidationError by field."""
    name = " ".join(name.split())
    group = LocalGroup(name=name, description=description.strip())
    if zip_code:
        try:
            info = zip_info(normalize_zip(zip_code))
        except ValidationError as e:
            raise ValidationError({"zip_code": e.messages}) from None
        group.zip_code, group.city, group.state = info.zip_code, info.city, info.state
        group.latitude, group.longitude = info.latitude, info.longitude
    base = slug or slugify(name)[:90] or "group"
    group.slug, suffix = base, 2
    while LocalGroup.objects.filter(slug=group.slug).exists():
        group.slug, suffix = f"{base}-{suffix}", suffix + 1
    group.full_clean()
    group.save()
    return group


@transaction.atomic
def group_member_add(*, group: LocalGroup, person: Person, role: str = GroupRole.MEMBER, actor=None) -> GroupMembership:
    membership, created = GroupMembership.objects.get_or_create(group=group, person=person, defaults={"role": role})
    if not created and membership.role != role and role == GroupRole.LEADER:
        membership.role = role
        membership.save(update_fields=["role"])
    if created:
        activity_record(person_id=person.pk, kind="group_joined", data={"group": group.name, "role": role}, actor=actor)
    return membership


# Consent ------------------------------------------------------------------------------------


# How final each address status is. Unsubscribes, bounces and complaints — from a recipient, a
# provider's report or staff — only ever move an address up this list: an unsubscribe never
# changes a bouncing or complained address (as "unsubscribed" its owner could resubscribe it),
# a bounce never changes a complaint, a complaint always applies. Only the owner's own opt-in
# (from "unsubscribed") moves one back down, through email_status_set.
EMAIL_FINALITY = {
    EmailStatus.SUBSCRIBED: 0,
    EmailStatus.UNSUBSCRIBED: 1,
    EmailStatus.BOUNCING: 2,
    EmailStatus.SPAM_COMPLAINT: 3,
}


def email_status_advance(*, address: str, status: str, actor=None, context: dict | None = None) -> int:
    """Move an address towards less mail (see EMAIL_FINALITY), never back. Takes effect at once.
    Returns the number of addresses changed."""
    return _email_status_change(
        address, status, actor, context, allowed=lambda current: EMAIL_FINALITY[current] < EMAIL_FINALITY[status]
    )


def email_status_set(*, address: str, status: str, actor=None, context: dict | None = None) -> int:
    """Change an address's status to any other (an owner's resubscribe, demo data). Every path
    towards less mail uses email_status_advance instead.

    `context` is kept in the activity (e.g. the mailing an unsubscribe came from). Returns the
    number of addresses changed (0 if unknown or already in that status).
    """
    return _email_status_change(address, status, actor, context, allowed=lambda current: current != status)


def _email_status_change(address: str, status: str, actor, context, *, allowed) -> int:
    address = email_key(address)
    with transaction.atomic():
        email = EmailAddress.objects.select_for_update().filter(address=address).first()
        if email is None or not allowed(email.status):
            return 0
        email.status = status
        email.status_changed_at = timezone.now()
        email.save(update_fields=["status", "status_changed_at"])
        activity_record(
            person_id=email.person_id,
            kind="email_status",
            data={"address": address, "status": status, **(context or {})},
            actor=actor,
        )
    return 1


def phone_sms_opt_out(*, number: str, actor=None) -> int:
    """Opt a number out of texts everywhere, for every person who has it."""
    return _phones_restrict(
        number=number,
        still=Q(sms_opted_out_at=None),
        change={"sms_opted_out_at": timezone.now()},
        kind="sms_opt_out",
        actor=actor,
    )


def phone_do_not_call_set(*, number: str, actor=None) -> int:
    """Mark a number do-not-call everywhere, for every person who has it."""
    return _phones_restrict(
        number=number, still=Q(do_not_call=False), change={"do_not_call": True}, kind="do_not_call", actor=actor
    )


def _phones_restrict(*, number: str, still: Q, change: dict, kind: str, actor) -> int:
    """Apply `change` to every row of `number` that `still` allows more, logging it on each person."""
    number = normalize_phone(number)
    with transaction.atomic():
        phones = list(PhoneNumber.objects.select_for_update().filter(still, number=number))
        PhoneNumber.objects.filter(pk__in=[p.pk for p in phones]).update(**change)
        for phone in phones:
            activity_record(person_id=phone.person_id, kind=kind, data={"number": number}, actor=actor)
    return len(phones)


# Merge --------------------------------------------------------------------------------------


@transaction.atomic
def person_merge(*, survivor: Person, other: Person, actor=None) -> MergeRecord:
    """Merge `other` into `survivor`: every record that points at `other` moves, then it goes.

    Works over every relation to Person, so the records of apps added later move too.
    Where a move would duplicate a unique row (the same tag twice), the survivor's row stays.
    """
    if survivor.pk == other.pk:
        raise ValidationError(_("A person cannot be merged with themselves"))
    survivor = Person.objects.select_for_update().get(pk=survivor.pk)
    other = Person.objects.select_for_update().get(pk=other.pk)
    snapshot = _person_snapshot(other)

    # Hidden relations too (related_name="+", such as a line item's donor): they point at the person all the same.
    relations = [f for f in Person._meta.get_fields(include_hidden=True) if f.auto_created and not f.concrete]
    for relation in relations:
        if relation.many_to_many:
            continue  # moved through their through-models' foreign keys
        model, fk = relation.related_model, relation.field
        if relation.one_to_one:
            if model.objects.filter(**{fk.name: survivor}).exists():
                # The survivor has one already: the other's is let go (or, if it can't be
                # detached — a row keyed by the person, like a derived score — dropped).
                if fk.null:
                    model.objects.filter(**{fk.name: other}).update(**{fk.name: None})
                else:
                    model.objects.filter(**{fk.name: other}).delete()
            else:
                model.objects.filter(**{fk.name: other}).update(**{fk.name: survivor})
            continue
        _drop_unique_collisions(model, fk.name, survivor, other)
        model.objects.filter(**{fk.name: other}).update(**{fk.name: survivor})

    for name in SCALAR_FIELDS:
        if not getattr(survivor, name) and getattr(other, name):
            setattr(survivor, name, getattr(other, name))
    survivor.custom_fields = {**other.custom_fields, **survivor.custom_fields}
    survivor.save()
    # One primary of each kind of contact point.
    for model in (EmailAddress, PhoneNumber, PostalAddress):
        primaries = list(model.objects.filter(person=survivor, is_primary=True).values_list("pk", flat=True))
        model.objects.filter(pk__in=primaries[1:]).update(is_primary=False)

    record = MergeRecord.objects.create(
        survivor=survivor, merged_person_id=other.pk, merged_snapshot=snapshot, actor=actor
    )
    other.delete()
    activity_record(person_id=survivor.pk, kind="merged", data={"merged_person_id": snapshot["id"]}, actor=actor)
    person_merged.send(sender=Person, survivor=survivor, merged_person_id=snapshot["id"], actor=actor)
    return record


def _drop_unique_collisions(model, fk_name: str, survivor: Person, other: Person) -> None:
    for constraint in model._meta.constraints:
        fields = getattr(constraint, "fields", ())
        if not isinstance(constraint, models.UniqueConstraint) or fk_name not in fields:
            continue
        rest = [f for f in fields if f != fk_name]
        taken = model.objects.filter(**{fk_name: survivor}).values_list(*rest)
        for values in taken:
            model.objects.filter(**{fk_name: other}, **dict(zip(rest, values, strict=True))).delete()


def _person_snapshot(person: Person) -> dict:
    return {
        "id": person.pk,
        **{k: v for k, v in model_to_dict(person, exclude=["tags", "lists"]).items() if k != "id"},
        "emails": list(person.emails.values_list("address", flat=True)),
        "phones": list(person.phones.values_list("number", flat=True)),
        "created_at": person.created_at.isoformat(),
    }
