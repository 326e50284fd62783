"""Staff configure donation pages (amounts, frequencies, recipients and their split) and committees."""

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from barnstorm.accounts.permissions import organizer_required
from barnstorm.donations import services
from barnstorm.donations.forms import CommitteeForm, DonationPageForm, RecipientFormSet
from barnstorm.donations.models import Committee, DonationPage


@organizer_required
def page_list(request):
    pages = DonationPage.objects.annotate(recipient_count=Count("recipients")).order_by("-created_at")
    return render(
        request,
        "donations/staff/page_list.html",
        {"pages": pages, "committees": Committee.objects.order_by("name")},
    )


@organizer_required
def page_edit(request, page_id=None):
    page = get_object_or_404(DonationPage, pk=page_id) if page_id else DonationPage()
    initial = (
        [{"committee": r.committee_id, "percent": r.share_bp / 100} for r in page.recipients.all()] if page.pk else []
    )
    form = DonationPageForm(request.POST or None, request.FILES or None, instance=page)
    recipients = RecipientFormSet(request.POST or None, initial=initial, prefix="recipients")
    if request.method == "POST" and form.is_valid() and recipients.is_valid():
        page = services.donation_page_save(
            page=form.save(commit=False), recipients=recipients.splits(), actor=request.user
        )
        messages.success(request, _("Saved."))
        return redirect("donations:page_edit", page_id=page.pk)
    return render(
        request,
        "donations/staff/page_edit.html",
        {"form": form, "recipients": recipients, "page": page},
        status=400 if request.method == "POST" else 200,
    )


@organizer_required
def committee_edit(request, committee_id=None):
    committee = get_object_or_404(Committee, pk=committee_id) if committee_id else Committee()
    form = CommitteeForm(request.POST or None, instance=committee)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Saved."))
        return redirect("donations:pages")
    return render(
        request,
        "donations/staff/committee_edit.html",
        {"form": form, "committee": committee},
        status=400 if request.method == "POST" else 200,
    )
