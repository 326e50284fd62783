"""Supporters and what we know about them. People enter only through services.person_upsert."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Person(models.Model):
    honorific_prefix = models.CharField(_("prefix"), max_length=32, blank=True)
    given_name = models.CharField(_("first name"), max_length=128, blank=True)
    additional_name = models.CharField(_("middle name"), max_length=128, blank=True)
    family_name = models.CharField(_("last name"), max_length=128, blank=True)
    honorific_suffix = models.CharField(_("suffix"), max_length=32, blank=True)
    employer = models.CharField(_("employer"), max_length=200, blank=True)
    occupation = models.CharField(_("occupation"), max_length=200, blank=True)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    referral_code = models.CharField(_("referral code"), max_length=100, blank=True)
    tags = models.ManyToManyField("Tag", through="Tagging", related_name="people")
    lists = models.ManyToManyField("PeopleList", through="ListMembership", related_name="people")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(Lower("family_name"), Lower("given_name"), name="person_family_lower"),
            models.Index(Lower("given_name"), Lower("family_name"), name="person_given_family_lower"),
        ]

    def __str__(self) -> str:
        return self.full_name or f"Person {self.pk}"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p)


class EmailStatus(models.TextChoices):
    SUBSCRIBED = "subscribed", _("Subscribed")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    BOUNCING = "bouncing", _("Bouncing")
    SPAM_COMPLAINT = "spam_complaint", _("Spam complaint")


class EmailAddress(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="emails")
    # Normalised (trimmed, lower-cased); unique so that one address is one person, even under races.
    address = models.CharField(max_length=254, unique=True)
    status = models.CharField(max_length=16, choices=EmailStatus.choices, default=EmailStatus.SUBSCRIBED)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-is_primary", "id"]

    def __str__(self) -> str:
        return self.address


class PhoneKind(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    HOME = "home", _("Home")
    WORK = "work", _("Work")
    OTHER = "other", _("Other")


class PhoneNumber(models.Model):
    # No index of its own: the unique (person, number) constraint's index serves lookups by person.
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="phones", db_index=False)
    number = models.CharField(max_length=20, db_index=True, help_text=_("E.164, e.g. +15155550123"))
    kind = models.CharField(max_length=8, choices=PhoneKind.choices, default=PhoneKind.OTHER)
    sms_consent = models.BooleanField(default=False)
    sms_consent_at = models.DateTimeField(null=True, blank=True)
    sms_opted_out_at = models.DateTimeField(null=True, blank=True)
    do_not_call = models.BooleanField(default=False)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [models.UniqueConstraint(fields=["person", "number"], name="phone_unique_per_person")]

    def __str__(self) -> str:
        return self.number

    @property
    def can_text(self) -> bool:
        return self.sms_consent and self.sms_opted_out_at is None


class PostalAddress(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="addresses")
    line1 = models.CharField(_("address"), max_length=200, blank=True)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=2, blank=True, db_index=True)
    zip_code = models.CharField(_("ZIP code"), max_length=10, blank=True, db_index=True)
    county = models.CharField(_("county"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="US")
    # ZIP centroid from the offline `zipcodes` data; None when the ZIP is unknown.
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_primary", "-id"]
        indexes = [models.Index(fields=["latitude", "longitude"], name="address_latlng")]

    def __str__(self) -> str:
        parts = [self.line1, self.line2, self.city, f"{self.state} {self.zip_code}".strip()]
        return ", ".join(p for p in parts if p)


class Tag(models.Model):
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_name_unique_ci")]

    def __str__(self) -> str:
        return self.name


class Tagging(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, db_index=False)  # see the unique constraint
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "tag"], name="tagging_unique")]


class PeopleList(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ListMembership(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, db_index=False)  # see the unique constraint
    people_list = models.ForeignKey(PeopleList, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "people_list"], name="list_membership_unique")]


class LocalGroup(models.Model):
    """A chapter: supporters in one place who organise together, led by group leaders."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    members = models.ManyToManyField(Person, through="GroupMembership", related_name="local_groups")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GroupRole(models.TextChoices):
    LEADER = "leader", _("Leader")
    MEMBER = "member", _("Member")


class GroupMembership(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, db_index=False)  # see the unique constraint
    group = models.ForeignKey(LocalGroup, on_delete=models.CASCADE)
    role = models.CharField(max_length=8, choices=GroupRole.choices, default=GroupRole.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "group"], name="group_membership_unique")]


class MergeRecord(models.Model):
    """Audit of a manual merge: who merged whom into whom, and what the merged record held."""

    survivor = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="merges")
    merged_person_id = models.BigIntegerField(db_index=True)
    merged_snapshot = models.JSONField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One CSV import started from the staff pages, run by a task (imports.import_job_run)."""

    file_path = models.CharField(max_length=500)
    original_name = models.CharField(max_length=255)
    # Column header -> target field (see imports.TARGETS); "" ignores a column.
    mapping = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=8, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    report_path = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)
