"""The segment builder for organizers: add predicates, watch the count, save, preview, export, snapshot.

The query's JSON is the single source of truth (a textarea anyone can edit by hand); the
"add a condition" form only writes JSON into it. Every count and error comes from the engine.
"""

from __future__ import annotations

import csv
import json

from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from barnstorm.accounts.permissions import organizer_required
from barnstorm.segments import engine, registry, selectors, services
from barnstorm.segments.models import Segment

SAMPLE_SIZE = 20
AUDIT_ROWS = 10


def _query_from(request) -> tuple[object | None, list[str]]:
    raw = request.POST.get("query", "").strip() or "{}"
    try:
        query = json.loads(raw)
    except json.JSONDecodeError as error:
        return None, [_("The query is not valid JSON: %(error)s") % {"error": error.msg}]
    if query == {}:
        return None, [_("Add a condition to start.")]
    return query, []


@organizer_required
def segment_list(request):
    return render(request, "segments/segment_list.html", {"segments": Segment.objects.select_related("created_by")})


@organizer_required
def segment_builder(request, segment_id=None):
    segment = get_object_or_404(Segment, pk=segment_id) if segment_id else None
    query = segment.query if segment else {"and": []}
    if request.method == "POST":
        query, errors = _query_from(request)
        name = request.POST.get("name", "").strip()
        if not name:
            errors.append(_("Give the segment a name."))
        if query is not None and not errors:
            errors = engine.validate(query, segment_id=segment.pk if segment else None)
        if not errors:
            segment = services.segment_save(
                name=name,
                query=query,
                description=request.POST.get("description", ""),
                actor=request.user,
                segment=segment,
            )
            messages.success(request, _("Saved."))
            return redirect("segments:edit", segment_id=segment.pk)
        for error in errors:
            messages.error(request, error)
        query = request.POST.get("query", "")
    return render(
        request,
        "segments/builder.html",
        {
            "segment": segment,
            "query_text": query if isinstance(query, str) else json.dumps(query, indent=2),
            # (type, label) pairs: a predicate class in a template would be called, not read.
            "predicates": [(type_, predicate.label) for type_, predicate in registry.all_predicates().items()],
            "name": request.POST.get("name", segment.name if segment else ""),
            "description": request.POST.get("description", segment.description if segment else ""),
            "audit_rows": selectors.segment_audit_recent(segment=segment, limit=AUDIT_ROWS) if segment else [],
        },
        status=400 if request.method == "POST" else 200,
    )


@organizer_required
@require_POST
def segment_count(request):
    """htmx: the count of the query in the form, or what is wrong with it."""
    query, errors = _query_from(request)
    if query is not None and not errors:
        errors = engine.validate(query, segment_id=_int(request.POST.get("segment_id")))
    if errors:
        return render(request, "segments/_count.html", {"errors": errors})
    sample = list(selectors.segment_sample(query=query, limit=SAMPLE_SIZE))
    return render(request, "segments/_count.html", {"count": engine.count(query), "sample": sample})


@organizer_required
def predicate_params(request):
    """htmx: the inputs of one predicate type, for the "add a condition" form."""
    predicate = registry.get(request.GET.get("type", ""))
    if predicate is None:
        return HttpResponse("")
    fields = [
        {
            "name": name,
            "kind": param.kind,
            "help": param.help,
            "required": param.required,
            "choices": getattr(param, "choices", None),
        }
        for name, param in predicate.params.items()
    ]
    return render(request, "segments/_params.html", {"predicate": predicate, "fields": fields})


@organizer_required
@require_POST
def predicate_add(request):
    """htmx: the query with one more condition (and / or / and-not), as JSON for the textarea."""
    query, errors = _query_from(request)
    if query is None:
        query = {"and": []}
    predicate = registry.get(request.POST.get("type", ""))
    if predicate is None:
        return render(request, "segments/_query_field.html", {"query_text": json.dumps(query, indent=2)})
    condition: dict = {"type": predicate.type}
    for name, param in predicate.params.items():
        value = _typed(param.kind, request.POST.get(f"param_{name}", ""), checked=f"param_{name}" in request.POST)
        if value is not None:
            condition[name] = value
    combine = request.POST.get("combine", "and")
    if combine == "not":
        condition = {"not": condition}
    query = _combined(query, condition, "or" if combine == "or" else "and")
    return render(request, "segments/_query_field.html", {"query_text": json.dumps(query, indent=2)})


def _combined(query, condition: dict, operator: str) -> dict:
    if isinstance(query, dict) and list(query) == [operator] and isinstance(query[operator], list):
        return {operator: [*query[operator], condition]}
    if isinstance(query, dict) and list(query) == ["and"] and not query["and"]:
        return {operator: [condition]}
    return {operator: [query, condition]}


def _typed(kind: str, raw: str, *, checked: bool):
    """A form input as the JSON value the engine expects; the engine then says if it is wrong."""
    raw = raw.strip()
    if kind == "true or false":
        return checked and raw != "false"
    if not raw:
        return None
    if kind in ("whole number", "number", "id or name", "text, number or true/false"):
        try:
            return int(raw)
        except ValueError:
            try:
                return float(raw) if kind != "id or name" else raw
            except ValueError:
                return raw
    if kind == "text or list of text":
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        return parts if len(parts) != 1 else parts[0]
    return raw


@organizer_required
def segment_export(request, segment_id):
    segment = get_object_or_404(Segment, pk=segment_id)
    rows = selectors.segment_export_rows(query=segment.query)

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}.csv"'
    return response


@organizer_required
@require_POST
def segment_snapshot(request, segment_id):
    segment = get_object_or_404(Segment, pk=segment_id)
    snapshot = services.segment_snapshot_create(
        query=segment.query, segment=segment, purpose=request.POST.get("purpose", "")[:200], actor=request.user
    )
    messages.success(
        request, _("Snapshot taken: %(size)s people, kept as they are now.") % {"size": f"{snapshot.size:,}"}
    )
    return redirect("segments:edit", segment_id=segment.pk)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
