"""Giving with PayPal: the donor approves the order at PayPal, then comes back and we capture it.

The attempt row is written (and the gift checked against the limits) before the donor leaves;
the capture carries a key derived from the attempt, so a reloaded return page, a double click or
the capture webhook records one contribution.
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from barnstorm.donations import links, selectors, services
from barnstorm.donations.models import AttemptStatus, PaymentAttempt
from barnstorm.donations.processors import paypal_processor
from barnstorm.donations.processors.base import ProcessorError, ProcessorTimeout


def paypal_start(request, *, page, data: services.ContributionInput):
    """Open the attempt, create the PayPal order and send the donor to approve it."""
    data.method = "paypal"
    attempt = services.attempt_open(data=data, processor="paypal", ip_address=request.META.get("REMOTE_ADDR", ""))
    if attempt.contribution_id:
        return redirect(links.thanks_url(slug=page.slug, contribution_id=attempt.contribution_id))
    services.attempt_precheck(attempt=attempt, data=data)
    donate_url = settings.SITE_URL + reverse("donations:donate", args=[page.slug])
    order_id, approve_url = paypal_processor().order_create(
        amount_cents=data.amount_cents,
        idempotency_key=data.idempotency_key,
        description=page.title,
        return_url=settings.SITE_URL + reverse("donations:paypal_return", args=[page.slug]),
        cancel_url=donate_url,
    )
    PaymentAttempt.objects.filter(pk=attempt.pk).update(order_id=order_id)
    return redirect(approve_url)


def paypal_return(request, slug):
    page = selectors.page_for_donor(slug=slug)
    order_id = request.GET.get("token", "")
    attempt = PaymentAttempt.objects.select_related("contribution").filter(processor="paypal", order_id=order_id)
    attempt = attempt.first() if order_id else None
    if page is None or attempt is None:
        return render(
            request,
            "donations/paypal_problem.html",
            {"page": page, "message": _("We couldn't find that PayPal payment.")},
            status=404,
        )
    if attempt.contribution_id:
        return redirect(links.thanks_url(slug=page.slug, contribution_id=attempt.contribution_id))
    try:
        result = paypal_processor().order_capture(
            order_id=order_id, idempotency_key=attempt.idempotency_key + ":capture"
        )
    except ProcessorTimeout:
        PaymentAttempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.UNKNOWN)
        return render(request, "donations/pending.html", {"page": page}, status=202)
    except ProcessorError:
        return render(
            request,
            "donations/paypal_problem.html",
            {"page": page, "message": _("PayPal could not complete the payment. You were not charged.")},
            status=400,
        )
    if not result.succeeded:
        PaymentAttempt.objects.filter(pk=attempt.pk).update(
            status=AttemptStatus.DECLINED, decline_code=result.decline_code[:60]
        )
        message = _("PayPal declined the payment. You were not charged; please try another way to pay.")
        return render(request, "donations/paypal_problem.html", {"page": page, "message": message}, status=400)
    outcome = services.attempt_complete(attempt=attempt, result=result)
    return redirect(links.thanks_url(slug=page.slug, contribution_id=outcome.contribution.pk))
