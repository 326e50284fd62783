"""The demo's engagement ladder: computed once from the activity the earlier seed steps wrote."""

import time

from barnstorm.lib import seeding
from barnstorm.people.models import Person
from barnstorm.segments.ladder import engagement_update
from barnstorm.segments.models import LevelChange

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
