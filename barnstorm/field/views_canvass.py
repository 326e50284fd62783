"""Canvassing pages. Volunteers: open turfs near them, claim one, walk it on a phone (map and
list in route order, a small form per door) or print its walk sheet. Organizers: cut the
campaign into turfs, see every turf on a map and move doors between turfs.

A walk list (page or sheet) is found only among the turfs the signed-in volunteer claimed
(`canvass.turfs_visible_to`; staff see all): anyone else's turf is a 404. Every write is a
service in canvass.py.
"""

from __future__ import annotations

import functools
import math
from io import BytesIO

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from reportlab.lib import colors
from reportlab.lib.pagesizes import landscape, letter
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from barnstorm.accounts.permissions import organizer_required
from barnstorm.events.permissions import supporter_required
from barnstorm.field import canvass
from barnstorm.field.models import (
    CampaignKind,
    CampaignStatus,
    Contact,
    Door,
    DoorResult,
    FieldCampaign,
    StepKind,
    Turf,
    TurfStatus,
)
from barnstorm.field.personal import personal_context
from barnstorm.field.selectors_volunteer import answers_from_form, answers_posted, script_steps, script_text_render
from barnstorm.field.turfs import haversine_meters
from barnstorm.people.models import PostalAddress
from barnstorm.people.normalize import zip_info

NEAR_TURFS = 20  # open turfs listed to a volunteer, nearest first
MAP_ALL_DOORS = 2000  # up to this many doors the organizers' map shows them all at once
MAP_NEIGHBOUR_TURFS = 8  # with one turf picked: its doors and its neighbours'


def _canvass(request, campaign_id: int) -> FieldCampaign:
    """A canvass volunteers may see: launched (staff also see drafts)."""
    campaign = get_object_or_404(
        FieldCampaign.objects.select_related("script"), pk=campaign_id, kind=CampaignKind.CANVASS
    )
    if campaign.status == CampaignStatus.DRAFT and not request.user.is_organizer:
        raise Http404
    return campaign


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("That isn't yours to do.")


def _map_context() -> dict:
    return {"tile_url": settings.MAP_TILE_URL}


# Volunteers: finding and claiming a turf ----------------------------------------------------------


def _where(request) -> tuple[float, float, str] | None:
    """Where the volunteer is: their browser's location, a ZIP code they typed, or their address."""
    try:
        lat, lng = float(request.GET["lat"]), float(request.GET["lng"])
        if -90 <= lat <= 90 and -180 <= lng <= 180:
            return lat, lng, _("your location")
    except (KeyError, ValueError):
        pass
    typed = request.GET.get("zip", "").strip()
    if typed:
        info = zip_info(typed)
        if info is not None:
            return info.latitude, info.longitude, info.zip_code
    if request.user.person_id:
        home = (
            PostalAddress.objects.filter(person_id=request.user.person_id, is_primary=True, latitude__isnull=False)
            .values_list("latitude", "longitude", "zip_code")
            .first()
        )
        if home:
            return home
    return None


@require_GET
@supporter_required
def canvass_turfs(request, campaign_id: int):
    """Open turfs nearest the volunteer (list and map), and the turfs they hold."""
    campaign = _canvass(request, campaign_id)
    where = _where(request)
    open_turfs = list(
        Turf.objects.filter(campaign=campaign, status=TurfStatus.OPEN)
        .annotate(door_count=Count("doors"))
        .filter(door_count__gt=0)
    )
    for turf in open_turfs:
        turf.walk_km, turf.distance_km = turf.route_meters / 1000, None
    if where is not None:
        for turf in open_turfs:
            turf.distance_km = haversine_meters(where[0], where[1], turf.latitude, turf.longitude) / 1000
        open_turfs.sort(key=lambda t: (t.distance_km, t.number))
    near = open_turfs[:NEAR_TURFS]
    mine = list(
        Turf.objects.filter(campaign=campaign, claimed_by=request.user)
        .exclude(status=TurfStatus.OPEN)
        .annotate(door_count=Count("doors"), knocked=Count("doors", filter=Q(doors__knocked_at__isnull=False)))
    )
    markers = [
        {"number": t.number, "lat": t.latitude, "lng": t.longitude, "doors": t.door_count, "anchor": f"turf-{t.number}"}
        for t in near
    ]
    return render(
        request,
        "field/canvass/turfs.html",
        {
            "campaign": campaign,
            "turfs": near,
            "more": len(open_turfs) - len(near),
            "mine": mine,
            "where": where,
            "zip": request.GET.get("zip", ""),
            "markers": markers,
            "center": {"lat": where[0], "lng": where[1]} if where else None,
            "is_active": campaign.status == CampaignStatus.ACTIVE,
            **_map_context(),
        },
    )


@require_http_methods(["GET", "POST"])
@supporter_required
def canvass_claim(request, campaign_id: int, turf_id: int):
    campaign = _canvass(request, campaign_id)
    if request.method != "POST":  # back from signing in: the button is on the list
        return redirect("field:canvass_turfs", campaign_id=campaign.pk)
    turf = get_object_or_404(Turf, pk=turf_id, campaign=campaign)
    try:
        canvass.turf_claim(turf=turf, volunteer=request.user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("field:canvass_turfs", campaign_id=campaign.pk)
    messages.success(request, _("Turf %(number)s is yours. Thank you for knocking!") % {"number": turf.number})
    return redirect("field:canvass_walk", campaign_id=campaign.pk, turf_id=turf.pk)


@require_POST
@supporter_required
def canvass_release(request, campaign_id: int, turf_id: int):
    campaign = _canvass(request, campaign_id)
    turf = get_object_or_404(canvass.turfs_visible_to(request.user, campaign), pk=turf_id)
    try:
        canvass.turf_release(turf=turf, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
        return redirect("field:canvass_walk", campaign_id=campaign.pk, turf_id=turf.pk)
    messages.success(request, _("Turf %(number)s is open for someone else now.") % {"number": turf.number})
    return redirect("field:canvass_turfs", campaign_id=campaign.pk)


# Volunteers: walking a turf -----------------------------------------------------------------------


def _walk_turf(request, campaign_id: int, turf_id: int) -> tuple[FieldCampaign, Turf, list[Door]]:
    campaign = _canvass(request, campaign_id)
    turf = get_object_or_404(canvass.turfs_visible_to(request.user, campaign).select_related("claimed_by"), pk=turf_id)
    doors = list(
        Door.objects.filter(turf=turf)
        .order_by("position", "pk")
        .prefetch_related(Prefetch("contacts", queryset=Contact.objects.select_related("person").order_by("pk")))
    )
    return campaign, turf, doors


def _questions(campaign: FieldCampaign):
    steps = script_steps(campaign.script_id)
    return steps, [step for step in steps if step.is_question]


@require_GET
@supporter_required
def canvass_walk(request, campaign_id: int, turf_id: int):
    """The walk list on a phone: the route on a map, the doors below it in the same order."""
    campaign, turf, doors = _walk_turf(request, campaign_id, turf_id)
    steps, questions = _questions(campaign)
    context = {**personal_context(person=None, volunteer=request.user), "person": {"given_name": "…"}}
    intro = [script_text_render(step.text, context) for step in steps if step.kind == StepKind.TEXT]
    markers = [
        {"position": d.position, "lat": d.latitude, "lng": d.longitude, "line1": d.line1, "knocked": bool(d.result)}
        for d in doors
    ]
    return render(
        request,
        "field/canvass/walk.html",
        {
            "campaign": campaign,
            "turf": turf,
            "doors": doors,
            "questions": questions,
            "intro": intro,
            "results": DoorResult.choices,
            "knocked": sum(1 for d in doors if d.result),
            "markers": markers,
            "is_claimer": turf.claimed_by_id == request.user.pk,
            **_map_context(),
        },
    )


@require_POST
@supporter_required
def canvass_door(request, campaign_id: int, turf_id: int, door_id: int):
    """One door's result (and, for "talked", each person's answers). htmx gets the door back."""
    campaign, turf, doors = _walk_turf(request, campaign_id, turf_id)
    door = next((d for d in doors if d.pk == door_id), None)
    if door is None:
        raise Http404
    steps, questions = _questions(campaign)
    result = request.POST.get("result", "")
    answers_by_contact = {}
    if result == DoorResult.TALKED:
        at_door = {c.pk for c in door.contacts.all()}
        for raw in request.POST.getlist("spoke"):
            if raw.isdigit() and int(raw) in at_door:
                answers_by_contact[int(raw)] = _person_answers(request.POST, int(raw), steps)
    error = None
    try:
        canvass.door_record(
            door=door,
            volunteer=request.user,
            result=result,
            answers_by_contact=answers_by_contact,
            notes=request.POST.get("notes", "")[:2000],
        )
    except (ValidationError, PermissionDenied) as exc:
        error = _error_text(exc)
    walk_url = reverse("field:canvass_walk", args=[campaign.pk, turf.pk])
    if not request.headers.get("HX-Request"):
        if error:
            messages.error(request, error)
        return redirect(f"{walk_url}#door-{door.position}")
    turf.refresh_from_db(fields=["status"])
    if error is None and turf.status == TurfStatus.DONE:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = walk_url  # the whole page: "all done"
        return response
    door = Door.objects.prefetch_related(
        Prefetch("contacts", queryset=Contact.objects.select_related("person").order_by("pk"))
    ).get(pk=door.pk)
    return render(
        request,
        "field/canvass/_door.html",
        {
            "campaign": campaign,
            "turf": turf,
            "door": door,
            "questions": questions,
            "results": DoorResult.choices,
            "error": error,
            "saved": error is None,
        },
    )


def _person_answers(post, contact_id: int, steps) -> list:
    """One person's answers from the door's form (fields named c<contact>-step-<step>)."""
    return answers_from_form(steps, *answers_posted(post, steps, f"c{contact_id}-step-"))


@require_GET
@supporter_required
def canvass_sheet(request, campaign_id: int, turf_id: int):
    """The printable walk sheet: doors in order, names, boxes to tick, the script's questions."""
    campaign, turf, doors = _walk_turf(request, campaign_id, turf_id)
    _, questions = _questions(campaign)
    pdf = _walk_sheet_pdf(campaign, turf, doors, questions)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="turf-{turf.number}.pdf"'
    return response


SHEET_RESULTS = [("NH", DoorResult.NOT_HOME), ("Talk", DoorResult.TALKED), ("Ref", DoorResult.REFUSED),
                 ("Mvd", DoorResult.MOVED), ("N/A", DoorResult.INACCESSIBLE)]  # fmt: skip


def _walk_sheet_pdf(campaign: FieldCampaign, turf: Turf, doors: list[Door], questions) -> bytes:
    """A landscape Letter walk sheet: a key to the questions, then one row per person, door by door."""
    _sheet_fonts()
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontName="Vera", fontSize=8, leading=10)
    title = styles["Title"].clone("sheet-title", fontName="VeraBd", fontSize=15, leading=18)
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(letter),
        leftMargin=0.4 * inch,
        rightMargin=0.4 * inch,
        topMargin=0.4 * inch,
        bottomMargin=0.4 * inch,
        title=f"{campaign.name} · Turf {turf.number}",
    )
    how = _(
        "%(doors)s doors · %(km).1f km walk · tick one result per door (Talk: each person you spoke with), "
        "and write the number of each of their answers."
    ) % {"doors": len(doors), "km": turf.route_meters / 1000}
    story = [Paragraph(_escape(f"{campaign.name} · Turf {turf.number}"), title), Paragraph(_escape(how), small)]
    for n, step in enumerate(questions, 1):
        choices = "  ".join(f"{i}. {c.label}" for i, c in enumerate(step.choices.all(), 1))
        key = f"<b>Q{n} {_escape(step.name or '')}</b>: {_escape(step.text)}"
        story.append(Paragraph(key + (f" — {_escape(choices)}" if choices else ""), small))
    story.append(Spacer(1, 0.15 * inch))

    header = ["#", _("Address"), _("Name"), *[label for label, _result in SHEET_RESULTS]]
    header += [f"Q{n}" for n in range(1, len(questions) + 1)]
    rows, spans = [header], []
    for door in doors:
        people = list(door.contacts.all()) or [None]
        first = len(rows)
        for i, contact in enumerate(people):
            name = contact.person.full_name if contact is not None else ""
            if contact is not None and contact.status == "done":
                name += " " + _("(reached)")
            rows.append(
                [
                    str(door.position) if i == 0 else "",
                    Paragraph(_escape(f"{door.line1}, {door.city}".strip(", ")), small) if i == 0 else "",
                    Paragraph(_escape(name), small),
                    *["" for _result in SHEET_RESULTS],
                    *["" for _step in questions],
                ]
            )
        if len(people) > 1:  # one box per door, except "talked": tick each person spoken to
            talked = 3 + [result for _label, result in SHEET_RESULTS].index(DoorResult.TALKED)
            for column in range(0, 3 + len(SHEET_RESULTS)):
                if column not in (2, talked):
                    spans.append(("SPAN", (column, first), (column, len(rows) - 1)))
    fixed = [0.35 * inch, 2.5 * inch, 1.9 * inch] + [0.45 * inch] * len(SHEET_RESULTS)
    # What is left of the page goes to the questions: a free-text answer gets three times the room.
    weights = [3 if step.kind == StepKind.FREE else 1 for step in questions]
    room = landscape(letter)[0] - 0.8 * inch - sum(fixed)
    unit = min(0.6 * inch, room / sum(weights)) if weights else 0
    widths = fixed + [unit * weight for weight in weights]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "VeraBd", 8),
                ("FONT", (0, 1), (-1, -1), "Vera", 9),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 1), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 1), (-1, -1), 7),
                ("ALIGN", (3, 1), (-1, -1), "CENTER"),
                *spans,
            ]
        )
    )
    story.append(table)
    document.build(story)
    return buffer.getvalue()


@functools.cache
def _sheet_fonts() -> None:
    """Bitstream Vera, shipped inside reportlab: embedded, so accented names print as typed."""
    pdfmetrics.registerFont(TTFont("Vera", "Vera.ttf"))
    pdfmetrics.registerFont(TTFont("VeraBd", "VeraBd.ttf"))
    pdfmetrics.registerFontFamily("Vera", normal="Vera", bold="VeraBd", italic="Vera", boldItalic="VeraBd")


def _escape(text: str) -> str:
    """Text for a reportlab Paragraph, which reads a little XML."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Organizers ------------------------------------------------------------------------------------


class CutForm(forms.Form):
    doors_per_turf = forms.IntegerField(
        label=gettext_lazy("Doors per turf"),
        min_value=canvass.DOORS_PER_TURF_MIN,
        max_value=canvass.DOORS_PER_TURF_MAX,
        initial=50,
        help_text=gettext_lazy("About 50 doors is an afternoon for one canvasser in town; fewer in the country."),
    )


def _organizer_canvass(campaign_id: int) -> FieldCampaign:
    return get_object_or_404(FieldCampaign, pk=campaign_id, kind=CampaignKind.CANVASS)


@require_http_methods(["GET", "POST"])
@organizer_required
def canvass_cut(request, campaign_id: int):
    campaign = _organizer_canvass(campaign_id)
    form = CutForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            summary = canvass.turfs_cut(
                campaign=campaign, doors_per_turf=form.cleaned_data["doors_per_turf"], actor=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(
                request,
                _("%(turfs)s turfs cut from %(doors)s doors; %(kept)s turfs in progress kept as they were.")
                % {"turfs": summary.turfs, "doors": summary.doors, "kept": summary.kept}
                + (
                    " " + _("%(n)s people have no street address and are not on any turf.") % {"n": summary.unplaced}
                    if summary.unplaced
                    else ""
                ),
            )
            return redirect("field:canvass_map", campaign_id=campaign.pk)
    counts = Turf.objects.filter(campaign=campaign).aggregate(
        turfs=Count("pk"),
        claimed=Count("pk", filter=Q(status=TurfStatus.CLAIMED)),
        done=Count("pk", filter=Q(status=TurfStatus.DONE)),
    )
    return render(request, "field/canvass/cut.html", {"campaign": campaign, "form": form, "counts": counts})


@require_GET
@organizer_required
def canvass_map(request, campaign_id: int):
    """Every turf on the map, a colour each; with one picked, its doors and its neighbours' to move."""
    campaign = _organizer_canvass(campaign_id)
    all_turfs = list(
        Turf.objects.filter(campaign=campaign)
        .select_related("claimed_by")
        .annotate(door_count=Count("doors"), knocked=Count("doors", filter=Q(doors__knocked_at__isnull=False)))
    )
    picked = next((t for t in all_turfs if str(t.number) == request.GET.get("turf", "")), None)
    if picked is not None:
        shown = sorted(
            (t for t in all_turfs if t.latitude is not None),
            key=lambda t: _km(picked, t),
        )[: MAP_NEIGHBOUR_TURFS + 1]
    elif sum(t.door_count for t in all_turfs) <= MAP_ALL_DOORS:
        shown = all_turfs
    else:
        shown = []
    doors = list(
        Door.objects.filter(turf__in=[t.pk for t in shown])
        .select_related("turf")
        .order_by("turf__number", "position")
        .annotate(people=Count("contacts"))
    )
    return render(
        request,
        "field/canvass/map.html",
        {
            "campaign": campaign,
            "turfs": all_turfs,
            "picked": picked,
            "shown": shown,
            "doors": doors if picked is not None else [],
            "turf_markers": [
                {
                    "id": t.pk,
                    "number": t.number,
                    "lat": t.latitude,
                    "lng": t.longitude,
                    "doors": t.door_count,
                    "status": t.get_status_display(),
                }
                for t in all_turfs
                if t.latitude is not None
            ],  # fmt: skip
            "door_markers": [
                {
                    "id": d.pk,
                    "turf": d.turf.number,
                    "position": d.position,
                    "lat": d.latitude,
                    "lng": d.longitude,
                    "line1": d.line1,
                    "move": reverse("field:canvass_move", args=[campaign.pk, d.pk]),
                }
                for d in doors
            ],  # fmt: skip
            "turf_choices": [{"id": t.pk, "number": t.number} for t in shown],
            **_map_context(),
        },
    )


def _km(a: Turf, b: Turf) -> float:
    if a.latitude is None or b.latitude is None:
        return math.inf
    return haversine_meters(a.latitude, a.longitude, b.latitude, b.longitude) / 1000


@require_POST
@organizer_required
def canvass_move(request, campaign_id: int, door_id: int):
    campaign = _organizer_canvass(campaign_id)
    door = get_object_or_404(Door, pk=door_id, campaign=campaign)
    raw = request.POST.get("to_turf", "")
    to_turf = get_object_or_404(Turf, pk=int(raw) if raw.isdigit() else 0, campaign=campaign)
    try:
        canvass.door_move(door=door, to_turf=to_turf, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(
            request, _("%(door)s is in turf %(number)s now.") % {"door": door.line1, "number": to_turf.number}
        )
    return redirect(f"{reverse('field:canvass_map', args=[campaign.pk])}?turf={to_turf.number}")
