"""Staff pages for fundraising: contributions, refunds, check and cash entry, the compliance queue."""

from __future__ import annotations

import secrets

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from barnstorm.accounts.permissions import organizer_required
from barnstorm.donations import selectors, services
from barnstorm.donations.compliance import ContributionRefused, Split
from barnstorm.donations.forms import DonorFieldsForm, dollars_to_cents
from barnstorm.donations.models import (
    AttemptStatus,
    Committee,
    ComplianceCase,
    Contribution,
    PaymentAttempt,
    RefundKind,
    Source,
)

PAGE_SIZE = 50


def _page_number(request) -> int:
    try:
        return max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        return 1


@organizer_required
def contribution_list(request):
    query = request.GET.get("q", "").strip()
    contributions = Contribution.objects.select_related("page").order_by("-received_at", "-id")
    if query.isdigit():
        contributions = contributions.filter(pk=int(query))
    elif "@" in query:
        contributions = contributions.filter(email=query.lower())
    elif query:
        contributions = contributions.filter(
            Q(refcode=query) | Q(family_name__iexact=query) | Q(given_name__iexact=query)
        )
    if request.GET.get("source") in Source.values:
        contributions = contributions.filter(source=request.GET["source"])
    number = _page_number(request)
    rows = list(contributions[(number - 1) * PAGE_SIZE : number * PAGE_SIZE + 1])
    return render(
        request,
        "donations/staff/contribution_list.html",
        {
            "contributions": rows[:PAGE_SIZE],
            "has_next": len(rows) > PAGE_SIZE,
            "page_number": number,
            "query": query,
            "sources": Source.choices,
            "source": request.GET.get("source", ""),
        },
    )


class RefundForm(forms.Form):
    amount = forms.CharField(label=gettext_lazy("Amount (blank: all that is left)"), required=False)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300, required=False)
    kind = forms.ChoiceField(choices=RefundKind.choices, initial=RefundKind.REFUND)
    committee = forms.TypedChoiceField(
        label=gettext_lazy("Refunded by"), coerce=int, empty_value=None, required=False, choices=[]
    )

    def __init__(self, *args, left: dict[int, tuple[str, int]], **kwargs):
        """`left`: {committee id: (name, cents left to refund)} of the contribution's recipients."""
        super().__init__(*args, **kwargs)
        if len(left) > 1:  # a split: which recipient gives the money back
            self.fields["committee"].choices = [("", _("The last-designated part first"))] + [
                (pk, f"{name} ({cents / 100:,.2f} left)") for pk, (name, cents) in left.items()
            ]
        else:
            del self.fields["committee"]


@organizer_required
def contribution_detail(request, contribution_id):
    contribution = get_object_or_404(
        Contribution.objects.select_related("person", "page", "recurring_plan"), pk=contribution_id
    )
    context = {
        "contribution": contribution,
        "line_items": contribution.line_items.select_related("committee").order_by("id"),
        "refunds": contribution.refunds.select_related("actor"),
        "cases": contribution.compliance_cases.all(),
        "refund_form": RefundForm(left=selectors.refundable_by_committee(contribution_id=contribution.pk)),
    }
    return render(request, "donations/staff/contribution_detail.html", context)


@organizer_required
@require_POST
def contribution_refund(request, contribution_id):
    contribution = get_object_or_404(Contribution, pk=contribution_id)
    form = RefundForm(request.POST, left=selectors.refundable_by_committee(contribution_id=contribution.pk))
    if form.is_valid():
        raw = form.cleaned_data["amount"]
        amount = dollars_to_cents(raw) if raw else None
        committee_id = form.cleaned_data.get("committee")
        if raw and amount is None:
            messages.error(request, _("Enter the refund in dollars, such as 10 or 10.50."))
        else:
            try:
                services.contribution_refund(
                    contribution=contribution,
                    # From one recipient's part (blank: all that is left of it), or the last-designated first.
                    amount_cents=None if committee_id else amount,
                    committees={committee_id: amount} if committee_id else None,
                    kind=form.cleaned_data["kind"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                    # A chargeback is the bank taking the money back: nothing to send to the processor.
                    at_processor=form.cleaned_data["kind"] == RefundKind.REFUND,
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("Recorded."))
    else:
        messages.error(request, " ".join(message for errors in form.errors.values() for message in errors))
    return redirect("donations:contribution_detail", contribution_id=contribution.pk)


@organizer_required
def compliance_queue(request):
    open_cases = ComplianceCase.objects.filter(resolved_at__isnull=True).select_related(
        "person", "committee", "contribution"
    )
    recent = (
        ComplianceCase.objects.filter(resolved_at__isnull=False)
        .select_related("person", "committee", "contribution", "resolved_by")
        .order_by("-resolved_at")[:50]
    )
    blocked = PaymentAttempt.objects.filter(status=AttemptStatus.BLOCKED).order_by("-created_at")[:50]
    # Refused after the card was charged (the recorder could not take the gift): money to return.
    unrecorded = PaymentAttempt.objects.filter(status=AttemptStatus.REFUSED).exclude(charge_id="")
    return render(
        request,
        "donations/staff/compliance_queue.html",
        {
            "open_cases": open_cases,
            "recent": recent,
            "blocked": blocked,
            "unrecorded": unrecorded.order_by("-created_at")[:50],
        },
    )


@organizer_required
@require_POST
def compliance_resolve(request, case_id):
    ComplianceCase.objects.filter(pk=case_id, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=request.user
    )
    return redirect("donations:compliance")


class CheckEntryForm(DonorFieldsForm):
    email = forms.EmailField(label=gettext_lazy("Email"), required=False)
    amount = forms.CharField(label=gettext_lazy("Amount"))
    method = forms.ChoiceField(choices=[("check", gettext_lazy("Check")), ("cash", gettext_lazy("Cash"))])
    check_number = forms.CharField(label=gettext_lazy("Check number"), max_length=30, required=False)
    received_on = forms.DateField(label=gettext_lazy("Received on"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean_amount(self):
        cents = dollars_to_cents(self.cleaned_data["amount"])
        if cents is None:
            raise forms.ValidationError(_("Enter the amount in dollars."))
        return cents


class BatchHeaderForm(forms.Form):
    committee = forms.ModelChoiceField(queryset=Committee.objects.all(), label=gettext_lazy("Recipient committee"))
    batch = forms.CharField(widget=forms.HiddenInput)


CheckFormSet = forms.formset_factory(CheckEntryForm, extra=5, max_num=50)


@organizer_required
def check_entry(request):
    """Batch entry of checks and cash: each good row is recorded, each bad one kept on screen with its reason."""
    header = BatchHeaderForm(request.POST or None, initial={"batch": secrets.token_urlsafe(12)})
    formset = CheckFormSet(request.POST or None, prefix="rows")
    recorded: list[Contribution] = []
    if request.method == "POST" and header.is_valid():
        committee = header.cleaned_data["committee"]
        batch = header.cleaned_data["batch"]
        for index, row in enumerate(formset.forms):
            if not row.has_changed():
                continue
            if not row.is_valid():
                continue
            data = row.cleaned_data
            received = timezone.make_aware(
                timezone.datetime.combine(data["received_on"], timezone.datetime.min.time().replace(hour=12))
            )
            try:
                result = services.contribution_record(
                    data=services.ContributionInput(
                        donor=row.donor(),
                        amount_cents=data["amount"],
                        method=data["method"],
                        source=Source.STAFF,
                        splits=[Split(committee.pk, 10000)],
                        # The batch and row: resubmitting the same batch records nothing twice.
                        idempotency_key=f"staff:{batch}:{index}",
                        received_at=received,
                        check_number=data["check_number"],
                    ),
                    actor=request.user,
                )
            except ContributionRefused as refusal:
                row.add_error(None, refusal.message)
            except ValidationError as error:
                row.add_error(None, error.messages)
            else:
                recorded.append(result.contribution)
        if recorded and not any(form.errors for form in formset.forms if form.has_changed()):
            messages.success(request, _("%(count)d contributions recorded.") % {"count": len(recorded)})
            return redirect("donations:check_entry")
    return render(
        request,
        "donations/staff/check_entry.html",
        {"header": header, "formset": formset, "recorded": recorded},
        status=400 if request.method == "POST" else 200,
    )
