"""Supporters sign in with a link we email them (see magic.py): ask, check your email, open."""

from django import forms
from django.conf import settings
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from barnstorm.accounts import magic
from barnstorm.lib.ratelimit import client_ip


class MagicLinkForm(forms.Form):
    email = forms.CharField(
        label=gettext_lazy("Your email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


def _safe_next(request, url: str) -> str:
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=False):
        return url
    return ""


@require_http_methods(["GET", "POST"])
def magic_start(request):
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    form = MagicLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = magic.magic_link_request(
                email=form.cleaned_data["email"], ip=client_ip(request), next_url=next_url
            )
        except ValidationError as error:
            form.add_error("email", error.messages)
        else:
            if outcome is magic.Requested.IP_LIMITED:
                form.add_error(None, _("Too many sign-in requests from your network. Please try again in an hour."))
                return render(request, "accounts/magic_start.html", {"form": form, "next": next_url}, status=429)
            return redirect("accounts:magic_sent")
    status = 400 if form.errors else 200
    return render(request, "accounts/magic_start.html", {"form": form, "next": next_url}, status=status)


def magic_sent(request):
    return render(request, "accounts/magic_sent.html", {"minutes": magic.LINK_MAX_AGE // 60})


@require_http_methods(["GET", "POST"])
def magic_open(request, token):
    """GET only shows a button: mail scanners open links, and must not use them up."""
    try:
        if request.method == "GET":
            preview = magic.magic_link_check(token=token)
            return render(request, "accounts/magic_open.html", {"email": preview.email})
        redeemed = magic.magic_link_redeem(token=token)
    except magic.LinkInvalid:
        return render(request, "accounts/magic_invalid.html", {"form": MagicLinkForm()}, status=400)
    login(request, redeemed.user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(_safe_next(request, redeemed.next_url) or resolve_url(settings.LOGIN_REDIRECT_URL))
