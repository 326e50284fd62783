"""Committees, donation pages, contributions and the rows that make them exactly-once and compliant.

Money is integer cents. A contribution is one charge to one donor; its line items are the
parts designated to each recipient committee and election, and are what FEC reports and
contribution limits count. Aggregates are sums over line items (indexed by donor, committee and
election), so a merge or a refund can never leave a stored total out of step.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Office(models.TextChoices):
    HOUSE = "H", _("House")
    SENATE = "S", _("Senate")
    PRESIDENT = "P", _("President")


class ReportForm(models.TextChoices):
    F3 = "F3", _("Form 3 (House or Senate)")
    F3P = "F3P", _("Form 3P (President)")


class OverLimitPolicy(models.TextChoices):
    REFUSE = "refuse", _("Refuse the contribution at the form")
    REDESIGNATE = "redesignate", _("Redesignate the excess to the general election")
    REFUND = "refund", _("Accept, and queue the excess for refund within 60 days")


class Committee(models.Model):
    name = models.CharField(_("name"), max_length=200)
    fec_id = models.CharField(
        _("FEC committee id"),
        max_length=9,
        unique=True,
        validators=[RegexValidator(r"^C\d{8}$", _("An FEC committee id is C followed by 8 digits."))],
    )
    candidate_name = models.CharField(_("candidate"), max_length=200, blank=True)
    candidate_fec_id = models.CharField(_("candidate FEC id"), max_length=9, blank=True)
    office = models.CharField(_("office"), max_length=1, choices=Office.choices, default=Office.HOUSE)
    office_state = models.CharField(_("state"), max_length=2, blank=True)
    office_district = models.CharField(_("district"), max_length=2, blank=True)
    report_form = models.CharField(_("report form"), max_length=3, choices=ReportForm.choices, default=ReportForm.F3)
    street1 = models.CharField(_("street"), max_length=34, blank=True)
    street2 = models.CharField(_("street, line 2"), max_length=34, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    state = models.CharField(_("state"), max_length=2, blank=True)
    zip_code = models.CharField(_("ZIP"), max_length=9, blank=True)
    treasurer_given_name = models.CharField(_("treasurer first name"), max_length=20, blank=True)
    treasurer_family_name = models.CharField(_("treasurer last name"), max_length=30, blank=True)
    # The election contributions are designated to: the primary until its date, then the general.
    election_year = models.PositiveSmallIntegerField(_("election year"))
    primary_date = models.DateField(_("primary date"), null=True, blank=True)
    over_limit_policy = models.CharField(
        _("over-limit policy"), max_length=12, choices=OverLimitPolicy.choices, default=OverLimitPolicy.REFUSE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ContributionLimit(models.Model):
    """The individual-to-candidate limit per election, for the two-year cycle ending in `cycle`."""

    cycle = models.PositiveSmallIntegerField(unique=True, help_text=_("The even year the cycle ends"))
    amount_cents = models.PositiveIntegerField()

    class Meta:
        ordering = ["cycle"]

    def __str__(self) -> str:
        return f"{self.cycle - 1}–{self.cycle}: ${self.amount_cents / 100:,.0f}"


class Frequency(models.TextChoices):
    ONE_TIME = "one_time", _("One time")
    MONTHLY = "monthly", _("Monthly")
    WEEKLY = "weekly", _("Weekly")


class DonationPage(models.Model):
    slug = models.SlugField(_("address"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    image = models.ImageField(_("image"), upload_to="donation-pages/", blank=True)
    # Up to seven suggested amounts, in cents; one may be highlighted.
    suggested_amounts_cents = models.JSONField(_("suggested amounts"), default=list, blank=True)
    highlighted_amount_cents = models.PositiveIntegerField(_("highlighted amount"), null=True, blank=True)
    min_amount_cents = models.PositiveIntegerField(_("minimum amount"), default=100)
    max_amount_cents = models.PositiveIntegerField(_("maximum amount"), default=700000)
    frequencies = models.JSONField(_("frequencies offered"), default=list, blank=True)
    is_active = models.BooleanField(_("taking donations"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class PageRecipient(models.Model):
    """One committee a page's contributions go to, with its share in basis points (1/100 of a percent)."""

    page = models.ForeignKey(DonationPage, on_delete=models.CASCADE, related_name="recipients")
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="+")
    share_bp = models.PositiveIntegerField(_("share (basis points)"), default=10000)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["page", "committee"], name="page_recipient_unique")]


class Method(models.TextChoices):
    CARD = "card", _("Card")
    PAYPAL = "paypal", _("PayPal")
    CHECK = "check", _("Check")
    CASH = "cash", _("Cash")


class Source(models.TextChoices):
    WEB = "web", _("Donation page")
    EXPRESS = "express", _("Express giving")
    RECURRING = "recurring", _("Recurring installment")
    STAFF = "staff", _("Entered by staff")
    IMPORT = "import", _("Imported")
    API = "api", _("API")


class ContributionStatus(models.TextChoices):
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")
    CHARGED_BACK = "charged_back", _("Charged back")


class Contribution(models.Model):
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="contributions")
    page = models.ForeignKey(DonationPage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    amount_cents = models.PositiveIntegerField()
    refunded_cents = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=ContributionStatus.choices, default=ContributionStatus.PAID)
    method = models.CharField(max_length=8, choices=Method.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    received_at = models.DateTimeField(db_index=True)
    # Derived from the donation attempt (or the import row, or the installment): the same key
    # twice is the same contribution, whichever path arrives second.
    idempotency_key = models.CharField(max_length=80, unique=True)
    processor = models.CharField(max_length=12, blank=True)
    charge_id = models.CharField(max_length=80, blank=True)
    refcode = models.CharField(max_length=100, blank=True, db_index=True)
    refcode2 = models.CharField(max_length=100, blank=True)
    recurring_plan = models.ForeignKey(
        "RecurringPlan", null=True, blank=True, on_delete=models.SET_NULL, related_name="contributions"
    )
    # The donor as they gave it: FEC reports show the facts at the time of the contribution.
    given_name = models.CharField(max_length=128, blank=True)
    family_name = models.CharField(max_length=128, blank=True)
    email = models.CharField(max_length=254, blank=True)
    street1 = models.CharField(max_length=200, blank=True)
    street2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)
    employer = models.CharField(max_length=200, blank=True)
    occupation = models.CharField(max_length=200, blank=True)
    attested = models.BooleanField(default=False, help_text=_("The donor confirmed the eligibility statements"))
    check_number = models.CharField(max_length=30, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["processor", "charge_id"], condition=~Q(charge_id=""), name="contribution_charge_unique"
            )
        ]
        indexes = [models.Index(fields=["person", "received_at"], name="contribution_person_time")]

    def __str__(self) -> str:
        return f"${self.amount_cents / 100:,.2f} from {self.given_name} {self.family_name}"

    @property
    def net_cents(self) -> int:
        return self.amount_cents - self.refunded_cents


class LineItem(models.Model):
    """The part of a contribution designated to one committee and one election."""

    contribution = models.ForeignKey(Contribution, on_delete=models.CASCADE, related_name="line_items")
    # Denormalised from the contribution (they never change) so limits and reports read one table.
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+", db_index=False)
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="line_items")
    received_at = models.DateTimeField()
    method = models.CharField(max_length=8, choices=Method.choices)
    amount_cents = models.PositiveIntegerField()
    refunded_cents = models.PositiveIntegerField(default=0)
    election = models.CharField(max_length=5, help_text=_("P2026 (primary) or G2026 (general)"))
    cycle = models.PositiveSmallIntegerField()
    # The donor's cycle-to-date total to this committee including this item, as FEC reports show it.
    cycle_aggregate_cents = models.PositiveIntegerField(default=0)
    itemized = models.BooleanField(default=False)
    memo = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["person", "committee", "cycle"], name="lineitem_donor_cycle"),
            models.Index(fields=["committee", "received_at"], name="lineitem_committee_time"),
        ]

    @property
    def net_cents(self) -> int:
        return self.amount_cents - self.refunded_cents


class AttemptStatus(models.TextChoices):
    PENDING = "pending", _("Charging")
    # Charged; the contribution is being recorded by the worker (a batch at a time, see attempts_record).
    CHARGED = "charged", _("Charged, being recorded")
    SUCCEEDED = "succeeded", _("Succeeded")
    DECLINED = "declined", _("Declined")
    UNKNOWN = "unknown", _("No answer from the processor")
    BLOCKED = "blocked", _("Blocked (card testing defence)")
    REFUSED = "refused", _("Refused (compliance)")


class PaymentAttempt(models.Model):
    """Written before any money moves, with everything needed to record the contribution.

    Whichever comes first — the donor's request, a processor webhook or the reconcile task —
    records the contribution from this row, and the shared idempotency key makes it once.
    """

    idempotency_key = models.CharField(max_length=80, unique=True)
    page = models.ForeignKey(DonationPage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    amount_cents = models.PositiveIntegerField()
    method = models.CharField(max_length=8, choices=Method.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    status = models.CharField(max_length=10, choices=AttemptStatus.choices, default=AttemptStatus.PENDING)
    processor = models.CharField(max_length=12, blank=True)
    charge_id = models.CharField(max_length=80, blank=True, db_index=True)
    # A redirect flow's order (PayPal), approved by the donor before anything is captured.
    order_id = models.CharField(max_length=80, blank=True, db_index=True)
    decline_code = models.CharField(max_length=60, blank=True)
    message = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    card_fingerprint = models.CharField(max_length=80, blank=True)
    payload = models.JSONField(default=dict)  # the donor's form, as the contribution will record it
    contribution = models.OneToOneField(
        Contribution, null=True, blank=True, on_delete=models.SET_NULL, related_name="attempt"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The recorder's queue: only the few attempts charged and not yet recorded.
            models.Index(fields=["id"], condition=models.Q(status="charged"), name="attempt_charged_queue"),
        ]


class SavedPaymentMethod(models.Model):
    """A processor's reusable reference to a donor's card, for express gifts and recurring plans."""

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="payment_methods")
    processor = models.CharField(max_length=12)
    reference = models.CharField(max_length=120)
    customer_reference = models.CharField(max_length=120, blank=True)
    brand = models.CharField(max_length=20, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["processor", "reference"], name="payment_method_unique"),
        ]


class PlanStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Stopped after failed charges")


class RecurringPlan(models.Model):
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="recurring_plans")
    page = models.ForeignKey(DonationPage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    payment_method = models.ForeignKey(SavedPaymentMethod, on_delete=models.PROTECT, related_name="plans")
    amount_cents = models.PositiveIntegerField()
    frequency = models.CharField(max_length=8, choices=Frequency.choices)
    # The split at sign-up: later edits to the page don't change what the donor agreed to.
    splits = models.JSONField(default=list)  # [[committee_id, share_bp], ...]
    refcode = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    next_charge_at = models.DateTimeField(db_index=True)
    # Monthly gifts are charged on this day of the month (or the month's last day, when shorter).
    charge_day = models.PositiveSmallIntegerField(default=1)
    installments = models.PositiveIntegerField(default=0, help_text=_("Installments charged so far"))
    failures = models.PositiveSmallIntegerField(default=0, help_text=_("Failed tries of the current installment"))
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class RefundKind(models.TextChoices):
    REFUND = "refund", _("Refund")
    CHARGEBACK = "chargeback", _("Chargeback")


class Refund(models.Model):
    contribution = models.ForeignKey(Contribution, on_delete=models.PROTECT, related_name="refunds")
    kind = models.CharField(max_length=10, choices=RefundKind.choices, default=RefundKind.REFUND)
    amount_cents = models.PositiveIntegerField()
    reason = models.CharField(max_length=300, blank=True)
    # Unique per processor event, so a replayed webhook refunds once.
    external_id = models.CharField(max_length=120, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # When the money went back, which dates the refund in FEC reports: now, or an import's own date.
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["external_id"], condition=~Q(external_id=""), name="refund_external_unique")
        ]


class RefundLine(models.Model):
    """The part of a refund one line item gave back: which committee and election refunded it."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    line_item = models.ForeignKey(LineItem, on_delete=models.PROTECT, related_name="refund_lines")
    amount_cents = models.PositiveIntegerField()


class CaseKind(models.TextChoices):
    OVER_LIMIT = "over_limit", _("Over the contribution limit")
    CASH_LIMIT = "cash_limit", _("Cash over $100")
    PROHIBITED = "prohibited", _("Prohibited source")
    BEST_EFFORTS = "best_efforts", _("Missing employer or occupation")


class CaseAction(models.TextChoices):
    REFUSED = "refused", _("Refused")
    REDESIGNATED = "redesignated", _("Excess redesignated to the general election")
    REFUND_QUEUED = "refund_queued", _("Excess queued for refund")
    FOLLOW_UP_SENT = "follow_up_sent", _("Best-efforts follow-up sent")


class ComplianceCase(models.Model):
    """Something a compliance director must see: what happened and what the system did about it."""

    kind = models.CharField(max_length=14, choices=CaseKind.choices)
    action = models.CharField(max_length=14, choices=CaseAction.choices)
    person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    committee = models.ForeignKey(Committee, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    contribution = models.ForeignKey(
        Contribution, null=True, blank=True, on_delete=models.PROTECT, related_name="compliance_cases"
    )
    amount_cents = models.PositiveIntegerField(default=0, help_text=_("The amount concerned (the excess)"))
    detail = models.CharField(max_length=300, blank=True)
    due_on = models.DateField(null=True, blank=True, help_text=_("Refund or redesignate by"))
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["resolved_at", "-created_at"]
        constraints = [
            # One best-efforts follow-up per contribution, however often a task retries.
            models.UniqueConstraint(
                fields=["contribution", "kind"], condition=Q(kind="best_efforts"), name="case_best_efforts_once"
            )
        ]


class TestProcessorCharge(models.Model):
    """The embedded test processor's own ledger, standing in for a processor's servers.

    Like a real processor it remembers idempotency keys, so a retry returns the first outcome.
    """

    __test__ = False  # not a pytest test class, despite the name

    idempotency_key = models.CharField(max_length=80, unique=True)
    charge_id = models.CharField(max_length=40, unique=True)
    amount_cents = models.PositiveIntegerField()
    succeeded = models.BooleanField()
    decline_code = models.CharField(max_length=40, blank=True)
    card_last4 = models.CharField(max_length=4)
    refunded_cents = models.PositiveIntegerField(default=0)
    refund_keys = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
