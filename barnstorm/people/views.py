import csv

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_POST

from barnstorm.accounts.permissions import organizer_required
from barnstorm.activity.selectors import activity_timeline
from barnstorm.lib.ratelimit import client_ip, rate_limit_exceeded
from barnstorm.people import permissions, selectors, services
from barnstorm.people.forms import (
    GroupForm,
    GroupMemberForm,
    ListForm,
    MergeLookupForm,
    NameForm,
    SignupForm,
    StaffPersonForm,
    add_service_errors,
)
from barnstorm.people.models import EmailStatus, LocalGroup, PeopleList, Person, Tag

PAGE_SIZE = 50


class _Echo:
    def write(self, value):
        return value


def _csv_response(rows, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# Public --------------------------------------------------------------------------------------


@xframe_options_exempt
def signup(request):
    """The public signup form; embeddable in other sites (?embed=1 drops the page chrome)."""
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if rate_limit_exceeded(
            scope="signup", key=client_ip(request), limit=settings.SIGNUP_RATE_LIMIT, window_seconds=3600
        ):
            form.add_error(None, _("Too many signups from your network. Please try again in an hour."))
        elif form.is_valid():
            if form.cleaned_data["website"]:
                # A bot: pretend it worked so it learns nothing, and store nothing.
                return redirect("people:signup_thanks")
            data = form.to_input(
                source=request.GET.get("source", "")[:100] or "signup form",
                referral_code=request.GET.get("refcode", "")[:100],
                resubscribe=True,
            )
            try:
                result = services.person_upsert(data=data, activity_kind="signup")
            except ValidationError as e:
                add_service_errors(form, e)
            else:
                request.session["signup_person_id"] = result.person.pk
                return redirect("people:signup_thanks")
    template = "people/signup_embed.html" if request.GET.get("embed") else "people/signup.html"
    return render(request, template, {"form": form}, status=400 if form.errors else 200)


def signup_thanks(request):
    person = None
    person_id = request.session.get("signup_person_id")
    if person_id:
        person = Person.objects.filter(pk=person_id).first()
    share_url = settings.SITE_URL + reverse("people:signup") + "?refcode=share"
    ask = None
    if person is not None:
        share_url += f"_{person.pk}"  # whoever signs up through it was recruited by them
        from barnstorm.segments.measures import next_step_for  # the ladder's next step for them

        ask = next_step_for(person)
    return render(request, "people/signup_thanks.html", {"person": person, "share_url": share_url, "ask": ask})


# Staff: people -------------------------------------------------------------------------------


@organizer_required
def person_list(request):
    query = request.GET.get("q", "")
    tag_id = _int_or_none(request.GET.get("tag"))
    list_id = _int_or_none(request.GET.get("list"))
    page_number = max(_int_or_none(request.GET.get("page")) or 1, 1)
    page = selectors.person_search_page(
        query=query, tag_id=tag_id, list_id=list_id, page=page_number, page_size=PAGE_SIZE
    )
    context = {
        "people": page.people,
        "has_next": page.has_next,
        "page_number": page_number,
        "query": query,
        "tag_id": tag_id,
        "list_id": list_id,
        "tags": Tag.objects.order_by("name"),
        "lists": PeopleList.objects.order_by("name"),
    }
    if request.headers.get("HX-Request"):
        return render(request, "people/_person_rows.html", context)
    return render(request, "people/person_list.html", context)


@organizer_required
def person_export(request):
    people = selectors.person_search(
        query=request.GET.get("q", ""),
        tag_id=_int_or_none(request.GET.get("tag")),
        list_id=_int_or_none(request.GET.get("list")),
    )
    return _csv_response(selectors.people_export_rows(people=people), "people.csv")


@organizer_required
def person_add(request):
    form = StaffPersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.person_upsert(
                data=form.to_input(source="staff"), actor=request.user, activity_kind="added_by_staff"
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            if not result.created:
                messages.info(request, _("This person was already here; the new details were merged in."))
            return redirect("people:detail", person_id=result.person.pk)
    return render(request, "people/person_add.html", {"form": form})


@organizer_required
def person_detail(request, person_id: int):
    try:
        person = selectors.person_detail(person_id=person_id)
    except Person.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "people/person_detail.html",
        {
            "person": person,
            "timeline": activity_timeline(person_id=person.pk),
            "all_lists": PeopleList.objects.exclude(people=person).order_by("name"),
            "merge_form": MergeLookupForm(),
        },
    )


@organizer_required
@require_POST
def person_tag_add(request, person_id: int):
    person = get_object_or_404(Person, pk=person_id)
    form = NameForm(request.POST)
    if form.is_valid():
        services.person_tag_add(person=person, name=form.cleaned_data["name"], actor=request.user)
    return _person_tags_fragment(request, person)


@organizer_required
@require_POST
def person_tag_remove(request, person_id: int, tag_id: int):
    person = get_object_or_404(Person, pk=person_id)
    services.person_tag_remove(person=person, tag=get_object_or_404(Tag, pk=tag_id), actor=request.user)
    return _person_tags_fragment(request, person)


def _person_tags_fragment(request, person):
    if request.headers.get("HX-Request"):
        return render(request, "people/_person_tags.html", {"person": person})
    return redirect("people:detail", person_id=person.pk)


@organizer_required
@require_POST
def person_list_add(request, person_id: int):
    person = get_object_or_404(Person, pk=person_id)
    people_list = get_object_or_404(PeopleList, pk=_int_or_none(request.POST.get("list")) or 0)
    services.people_list_add(people_list=people_list, person_ids=[person.pk])
    return redirect("people:detail", person_id=person.pk)


@organizer_required
@require_POST
def person_consent(request, person_id: int):
    """Staff record what a supporter asked for: unsubscribe an address, stop texts or calls.

    Only ever towards less contact; a resubscribe is the supporter's own explicit opt-in.
    """
    person = get_object_or_404(Person, pk=person_id)
    action = request.POST.get("action")
    if action == "unsubscribe":
        email = get_object_or_404(person.emails, pk=_int_or_none(request.POST.get("email")) or 0)
        services.email_status_advance(address=email.address, status=EmailStatus.UNSUBSCRIBED, actor=request.user)
        messages.success(request, _("%(address)s is unsubscribed.") % {"address": email.address})
    elif action in ("sms_opt_out", "do_not_call"):
        phone = get_object_or_404(person.phones, pk=_int_or_none(request.POST.get("phone")) or 0)
        if action == "sms_opt_out":
            services.phone_sms_opt_out(number=phone.number, actor=request.user)
            messages.success(request, _("%(number)s will not be texted.") % {"number": phone.number})
        else:
            services.phone_do_not_call_set(number=phone.number, actor=request.user)
            messages.success(request, _("%(number)s will not be called.") % {"number": phone.number})
    else:
        return HttpResponseBadRequest(_("Unknown action"))
    return redirect("people:detail", person_id=person.pk)


@organizer_required
def person_merge(request, person_id: int):
    """Two steps: name the duplicate and compare them side by side, then confirm."""
    survivor = get_object_or_404(Person, pk=person_id)
    form = MergeLookupForm(request.POST or request.GET or None)
    other = None
    if form.is_valid():
        needle = form.cleaned_data["other"].strip()
        if needle.isdigit():
            other = Person.objects.filter(pk=int(needle)).first()
        else:
            other = selectors.person_by_email(address=needle)
        if other is None:
            form.add_error("other", _("Nobody has that email address or number."))
        elif other.pk == survivor.pk:
            form.add_error("other", _("That is this person."))
            other = None
    if request.method == "POST" and other is not None and request.POST.get("confirm") == "yes":
        services.person_merge(survivor=survivor, other=other, actor=request.user)
        messages.success(request, _("Merged. Everything the duplicate had is now on this person."))
        return redirect("people:detail", person_id=survivor.pk)
    context = {"survivor": selectors.person_detail(person_id=survivor.pk), "form": form}
    if other is not None:
        context["other"] = selectors.person_detail(person_id=other.pk)
    return render(request, "people/person_merge.html", context)


# Staff: tags, lists, groups -----------------------------------------------------------------


@organizer_required
def tag_list(request):
    form = NameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.tags_get_or_create(names=[form.cleaned_data["name"]])
        return redirect("people:tags")
    return render(request, "people/tag_list.html", {"tags": selectors.tags_with_counts(), "form": form})


@organizer_required
def tag_edit(request, tag_id: int):
    tag = get_object_or_404(Tag, pk=tag_id)
    form = NameForm(request.POST or None, initial={"name": tag.name})
    if request.method == "POST":
        if request.POST.get("delete") == "yes":
            services.tag_delete(tag=tag)
            messages.success(request, _("Tag deleted."))
            return redirect("people:tags")
        if form.is_valid():
            try:
                services.tag_rename(tag=tag, name=form.cleaned_data["name"])
            except ValidationError as e:
                form.add_error("name", e.message_dict["name"])
            else:
                return redirect("people:tags")
    return render(request, "people/tag_edit.html", {"tag": tag, "form": form})


@organizer_required
def list_index(request):
    form = ListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            people_list = services.people_list_create(**form.cleaned_data)
        except ValidationError as e:
            form.add_error("name", e.message_dict["name"])
        else:
            return redirect(reverse("people:list") + f"?list={people_list.pk}")
    return render(request, "people/list_index.html", {"lists": selectors.lists_with_counts(), "form": form})


@login_required
def group_index(request):
    """All groups for organizers, who may start new ones; the groups they lead for group leaders."""
    groups = permissions.groups_visible_to(request.user)
    if not request.user.is_organizer and not groups.exists():
        raise PermissionDenied
    form = GroupForm(request.POST or None) if request.user.is_organizer else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                group = services.local_group_create(**form.cleaned_data)
            except ValidationError as e:
                add_service_errors(form, e)
            else:
                return redirect("people:group_detail", slug=group.slug)
    return render(request, "people/group_index.html", {"groups": selectors.groups_with_counts(groups), "form": form})


@login_required
def group_detail(request, slug: str):
    group = permissions.groups_visible_to(request.user).filter(slug=slug).first()
    if group is None:
        if not LocalGroup.objects.filter(slug=slug).exists():
            raise Http404
        raise PermissionDenied
    form = GroupMemberForm(request.POST or None) if request.user.is_organizer else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            person = selectors.person_by_email(address=form.cleaned_data["email"])
            if person is None:
                form.add_error("email", _("Nobody has that email address. Add them as a person first."))
            else:
                services.group_member_add(
                    group=group, person=person, role=form.cleaned_data["role"], actor=request.user
                )
                messages.success(request, _("%(name)s is in %(group)s.") % {"name": person, "group": group.name})
                return redirect("people:group_detail", slug=group.slug)
    memberships = selectors.group_members(group=group)
    page = Paginator(memberships, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "people/group_detail.html", {"group": group, "page": page, "form": form})
