"""The demo's engagement ladder: computed once from the activity the earlier seed steps wrote."""

import time
from datetime import datetime

from barnstorm.lib import seeding
from barnstorm.people.models import Person
from barnstorm.segments.ladder import engagement_update
from barnstorm.segments.models import AuditAction, LevelChange, Segment, SegmentAudit
from barnstorm.segments.services import segment_save

BATCH = 2000


def seed_engagement_demo(context: seeding.SeedContext) -> None:
    started = time.monotonic()
    last, people = 0, 0
    while ids := list(Person.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH]):
        engagement_update(person_ids=ids, now=context.now)
        last, people = ids[-1], people + len(ids)
    # Placing everyone for the first time is a backfill, not movement on the ladder.
    LevelChange.objects.all().delete()
    context.log(f"  engagement: levels and scores for {people:,} people ({time.monotonic() - started:.1f}s)")


# After people (10), donations (20) and events (30): the ladder reads what they did.
seeding.register("engagement", order=90, demo=seed_engagement_demo)


def demo_segments(definitions: dict[str, tuple[dict, str]], *, since: datetime) -> dict[str, Segment]:
    """The demo's saved segments by name ({name: (query, description)}), made as of `since`;
    one an earlier step or run made is kept, so demo steps share them."""
    segments = {}
    for name, (query, description) in definitions.items():
        segment = Segment.objects.filter(name=name).order_by("pk").first()
        if segment is None:
            segment = segment_save(name=name, query=query, description=description, actor=None)
            Segment.objects.filter(pk=segment.pk).update(created_at=since, updated_at=since)
            SegmentAudit.objects.filter(segment=segment, action=AuditAction.CREATED).update(at=since)
        segments[name] = segment
    return segments
