"""The donor's side: donation pages, thank-you, express giving and managing a recurring gift."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from barnstorm.donations import links, selectors, services
from barnstorm.donations.compliance import ContributionRefused
from barnstorm.donations.forms import (
    ATTESTATIONS,
    BEST_EFFORTS,
    DonationForm,
    ExpressForm,
    RecurringChangeForm,
    dollars_to_cents,
)
from barnstorm.donations.models import (
    Contribution,
    Frequency,
    Method,
    PlanStatus,
    RecurringPlan,
    SavedPaymentMethod,
    Source,
)
from barnstorm.donations.paypal_flow import paypal_start
from barnstorm.donations.processors import card_entry_by_stripe, card_processor, paypal_enabled
from barnstorm.donations.processors.base import ProcessorError
from barnstorm.lib.ratelimit import client_ip


def _prefill(request, page) -> dict:
    initial = {
        "refcode": request.GET.get("refcode", "")[:100],
        "refcode2": request.GET.get("refcode2", "")[:100],
    }
    cents = dollars_to_cents(request.GET.get("amount", ""))
    if cents:
        if cents in (page.suggested_amounts_cents or []):
            initial["amount"] = f"{cents / 100:g}"
        else:
            initial["other_amount"] = f"{cents / 100:g}" if cents % 100 == 0 else f"{cents / 100:.2f}"
    elif page.highlighted_amount_cents:
        initial["amount"] = f"{page.highlighted_amount_cents / 100:g}"
    recurring = request.GET.get("recurring", "")
    if recurring in (page.frequencies or []):
        initial["frequency"] = recurring
    return initial


@require_http_methods(["GET", "POST"])
def donate(request, slug):
    page = selectors.page_for_donor(slug=slug)
    if page is None:
        raise Http404
    stripe = card_entry_by_stripe()
    form = DonationForm(
        request.POST or None,
        page=page,
        paypal=paypal_enabled(),
        card_fields=stripe is None,
        initial=_prefill(request, page),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            if form.cleaned_data["website"]:
                return redirect("donations:thanks", slug=page.slug)  # a bot: it learns nothing
            outcome_or_response = _give(request, page, form)
            if not isinstance(outcome_or_response, DonationForm):
                return outcome_or_response
            form = outcome_or_response
        status = 400
    return render(request, "donations/donate.html", {**_page_context(page, form), "stripe": stripe}, status=status)


def _page_context(page, form) -> dict:
    amounts = [
        {
            "value": f"{cents / 100:g}",
            "label": f"${cents / 100:,.0f}" if cents % 100 == 0 else f"${cents / 100:,.2f}",
            "highlighted": cents == page.highlighted_amount_cents,
        }
        for cents in (page.suggested_amounts_cents or [])[:7]
    ]
    return {
        "page": page,
        "form": form,
        "amounts": amounts,
        "chosen_amount": str(form["amount"].value() or ""),
        "attestations": ATTESTATIONS,
        "best_efforts": BEST_EFFORTS,
        "recipients": [r.committee for r in page.recipients.all()],
    }


def _give(request, page, form: DonationForm):
    data = form.cleaned_data
    contribution_input = services.ContributionInput(
        donor=form.donor(),
        amount_cents=data["amount_cents"],
        method=Method.CARD,
        source=Source.WEB,
        splits=services.page_splits(page),
        idempotency_key=services.checkout_key(attempt_token=data["attempt"]),
        page_id=page.pk,
        refcode=data["refcode"],
        refcode2=data["refcode2"],
        attested=data["attest"],
        committees=services.page_committees(page),
    )
    if data.get("pay_with") == "paypal":
        try:
            return paypal_start(request, page=page, data=contribution_input)
        except ContributionRefused as refusal:
            form.add_error(None, refusal.message)
        except ProcessorError:
            form.add_error(None, _("PayPal isn't answering right now. Please try again, or give by card."))
        return _fresh_attempt(form)
    checkout = services.CardCheckout(
        data=contribution_input,
        token=data["payment_token"] or data["card_token"],
        ip_address=client_ip(request),
        frequency=data["frequency"],
        save_method=data["save_method"],
    )
    try:
        outcome = services.donation_checkout(checkout=checkout, processor=card_processor(), record_later=True)
    except ContributionRefused as refusal:
        form.add_error(None, refusal.message)
        return _fresh_attempt(form)
    except ValidationError as error:
        form.add_error(None, error.messages)
        return _fresh_attempt(form)
    if outcome.contribution is not None or outcome.recording:
        return redirect(links.thanks_url(slug=page.slug, attempt_id=outcome.attempt_id))
    if outcome.pending:
        return render(request, "donations/pending.html", {"page": page}, status=202)
    beside_the_number = not outcome.blocked and "card_number" in form.fields  # with Stripe.js: above the form
    form.add_error("card_number" if beside_the_number else None, outcome.declined)
    return _fresh_attempt(form)


def _fresh_attempt(form: DonationForm) -> DonationForm:
    """After a decline the next try is a new attempt: the processor would repeat its answer to the old key."""
    import secrets

    form.data = form.data.copy()
    form.data["attempt"] = secrets.token_urlsafe(24)
    form.data["card_number"] = ""
    form.data["card_cvc"] = ""
    return form


def thanks(request, slug):
    page = get_object_or_404(selectors.DonationPage, slug=slug)
    gift, person = selectors.gift_for_thanks(links.thanks_target(request.GET.get("r", "")))
    share_url = settings.SITE_URL + reverse("donations:donate", args=[page.slug]) + "?refcode=share"
    ask = None
    if person is not None:
        share_url += f"_{person.pk}"
        from barnstorm.segments.measures import next_step_for

        ask = next_step_for(person)
    return render(
        request,
        "donations/thanks.html",
        {
            "page": page,
            "contribution": gift,
            "share_url": share_url,
            "ask": ask,
            "signup_url": reverse("people:signup") + "?source=donation",
        },
    )


@require_http_methods(["GET", "POST"])
def express(request, slug):
    """One-click giving from a signed link in an email, with the card the donor saved."""
    page = selectors.page_for_donor(slug=slug)
    person_id = links.express_person_id(request.GET.get("token", ""))
    if page is None or person_id is None:
        raise Http404
    method = (
        SavedPaymentMethod.objects.filter(person_id=person_id, revoked_at__isnull=True).order_by("-created_at").first()
    )
    last = Contribution.objects.filter(person_id=person_id).exclude(street1="").order_by("-received_at").first()
    cents = dollars_to_cents(request.GET.get("amount", "")) or page.highlighted_amount_cents or page.min_amount_cents
    if method is None or last is None:
        # Nothing saved (or revoked): the ordinary page, prefilled with the amount.
        return redirect(reverse("donations:donate", args=[slug]) + f"?amount={cents / 100:g}")
    form = ExpressForm(request.POST or None, initial={"amount": f"{cents / 100:g}"})
    error = ""
    if request.method == "POST" and form.is_valid():
        cents = dollars_to_cents(form.cleaned_data["amount"]) or 0
        if not page.min_amount_cents <= cents <= page.max_amount_cents:
            error = _("That amount can't be given on this page.")
        else:
            data = services.ContributionInput(
                donor=services.DonorInput.as_on(last),
                amount_cents=cents,
                method=Method.CARD,
                source=Source.EXPRESS,
                splits=services.page_splits(page),
                idempotency_key="express:" + services.checkout_key(attempt_token=form.cleaned_data["attempt"]),
                page_id=page.pk,
                refcode=request.GET.get("refcode", "")[:100],
                attested=True,  # the button's label carries the statements
            )
            checkout = services.CardCheckout(
                data=data, token=method.reference, ip_address=client_ip(request), customer_ref=method.customer_reference
            )
            try:
                outcome = services.donation_checkout(checkout=checkout, processor=card_processor())
            except ContributionRefused as refusal:
                error = refusal.message
            else:
                if outcome.contribution is not None:
                    return redirect(links.thanks_url(slug=page.slug, contribution_id=outcome.contribution.pk))
                error = outcome.declined or _("We couldn't confirm the payment yet; you'll get an email when we do.")
    return render(
        request,
        "donations/express.html",
        {
            "page": page,
            "form": form,
            "method": method,
            "amount": f"{cents / 100:,.2f}",
            "error": error,
            "attestations": ATTESTATIONS,
        },
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
def recurring_manage(request, token):
    """The donor's own page for a recurring gift, reached from the link in every receipt."""
    plan_id = links.recurring_manage_plan_id(token)
    if plan_id is None:
        raise Http404
    plan = get_object_or_404(RecurringPlan.objects.select_related("payment_method"), pk=plan_id)
    form = RecurringChangeForm(request.POST or None)
    done = ""
    if request.method == "POST" and plan.status == PlanStatus.ACTIVE:
        if "cancel" in request.POST:
            plan = services.recurring_plan_cancel(plan=plan, reason="cancelled by the donor")
            done = _("Your recurring gift is cancelled. No further charges will be made.")
        elif form.is_valid():
            plan = services.recurring_plan_change(plan=plan, amount_cents=form.cleaned_data["amount"])
            done = _("Your recurring gift is now $%(amount)s.") % {"amount": f"{plan.amount_cents / 100:,.2f}"}
    return render(
        request,
        "donations/recurring_manage.html",
        {
            "plan": plan,
            "form": form,
            "done": done,
            "amount": f"{plan.amount_cents / 100:,.2f}",
            "is_active": plan.status == PlanStatus.ACTIVE,
            "Frequency": Frequency,
        },
    )
