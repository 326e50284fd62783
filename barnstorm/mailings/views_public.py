"""What a recipient reaches from a message: the open pixel, link clicks, unsubscribe, preferences.

Nobody logs in here. Every address carries a signed delivery token (tracking.py): it names the one
delivery, and through it the one email address, that the page may act on.
"""

from __future__ import annotations

import base64

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from barnstorm.mailings import services
from barnstorm.mailings.models import Delivery, Link, Topic, TopicOptOut
from barnstorm.mailings.render import with_refcode
from barnstorm.mailings.tracking import delivery_id_from
from barnstorm.people.models import EmailAddress, EmailStatus

# A transparent 1×1 GIF (43 bytes).
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _delivery_or_404(token: str) -> Delivery:
    delivery_id = delivery_id_from(token)
    if delivery_id is None:
        raise Http404
    return get_object_or_404(Delivery, pk=delivery_id)


@require_safe
@never_cache
def opened(request, token):
    """The pixel is returned whatever the token: a broken image would only worry the reader."""
    delivery_id = delivery_id_from(token)
    if delivery_id is not None:
        services.delivery_opened(delivery_id=delivery_id)
    return HttpResponse(PIXEL, content_type="image/gif")


@require_safe
@never_cache
def clicked(request, token, index):
    """Redirects only to a link that was in this delivery's mailing: never an open redirect."""
    delivery = _delivery_or_404(token)
    link = get_object_or_404(Link.objects.select_related("mailing"), mailing_id=delivery.mailing_id, index=index)
    services.delivery_clicked(delivery=delivery, link=link)
    # with_refcode adds it to Barnstorm pages only; other sites get the link exactly as written.
    return HttpResponseRedirect(with_refcode(link.url, link.mailing.variant_refcode(delivery.variant or 0)))


# RFC 8058 one-click unsubscribe: mail programs POST "List-Unsubscribe=One-Click" to the address in
# the List-Unsubscribe header, with no cookies and so no CSRF token. The signed token is the
# authority here (it names one delivery and cannot be forged), and a forged cross-site POST could
# at worst do what the token's holder can already do with one click: unsubscribe that address.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    """GET only asks (link scanners follow every link); any POST unsubscribes at once."""
    delivery = _delivery_or_404(token)
    context = {"address": delivery.address, "preferences_url": reverse("mailings:preferences", args=[token])}
    if request.method == "POST":
        services.delivery_unsubscribe(delivery=delivery)
        return render(request, "mailings/public/unsubscribed.html", context)
    return render(request, "mailings/public/unsubscribe.html", context)


class PreferencesForm(forms.Form):
    topics = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Send me email about"),
        queryset=Topic.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    resubscribe = forms.BooleanField(label=gettext_lazy("Send me email again"), required=False)


@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request, token):
    """Topics the person wants, and their subscription. An ordinary form, so CSRF-protected."""
    delivery = _delivery_or_404(token)
    if request.method == "POST" and "everything" in request.POST:
        services.delivery_unsubscribe(delivery=delivery)
        messages.success(request, _("You're unsubscribed from all our email."))
        return redirect("mailings:preferences", token=token)

    topics = list(Topic.objects.all())
    opted_out = set(TopicOptOut.objects.filter(person_id=delivery.person_id).values_list("topic_id", flat=True))
    form = PreferencesForm(
        request.POST if request.method == "POST" else None,
        initial={"topics": [t.pk for t in topics if t.pk not in opted_out]},
    )
    if request.method == "POST" and form.is_valid():
        services.person_topics_set(
            person=delivery.person,
            wanted_topic_ids=[t.pk for t in form.cleaned_data["topics"]],
            mailing_id=delivery.mailing_id,
        )
        if form.cleaned_data["resubscribe"]:
            services.email_resubscribe(address=delivery.address, mailing_id=delivery.mailing_id)
        messages.success(request, _("Saved."))
        return redirect("mailings:preferences", token=token)

    status = EmailAddress.objects.filter(address=delivery.address).values_list("status", flat=True).first()
    return render(
        request,
        "mailings/public/preferences.html",
        {
            "address": delivery.address,
            "status": status,
            "status_label": EmailStatus(status).label if status else _("Not on our list"),
            "can_resubscribe": status == EmailStatus.UNSUBSCRIBED,
            "form": form,
            "has_topics": bool(topics),
        },
    )
