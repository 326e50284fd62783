"""`barnstorm engagement_recompute`: recompute everyone's place on the ladder and score from the activity log.

For a first install, after an import of history, or after changing ENGAGEMENT_LADDER /
ENGAGEMENT_WEIGHTS. People are read in primary-key order a batch at a time (a keyset scan,
never OFFSET), and each batch is one grouped read of the activity log through its
(person, occurred_at) index, one upsert of Engagement rows and one insert of level changes —
the same `engagement_update` the incremental refresh runs, so the two agree. Everyone is
measured at the same instant. Safe to interrupt and run again (`--after-id` resumes).
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from barnstorm.people.models import Person
from barnstorm.segments.ladder import engagement_update


class Command(BaseCommand):
    help = "Recompute every person's engagement level and score from their activity."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000, help="people per batch (default 2000)")
        parser.add_argument("--after-id", type=int, default=0, help="resume after this person id")

    def handle(self, *args, batch_size: int, after_id: int, **options):
        now = timezone.now()
        last, people, moved = after_id, 0, 0
        while True:
            ids = list(Person.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            moved += engagement_update(person_ids=ids, now=now)
            people += len(ids)
            last = ids[-1]
            if options["verbosity"] > 1:
                self.stdout.write(f"… up to person {last}: {people} people, {moved} moved")
        self.stdout.write(f"Recomputed {people} people; {moved} changed level.")
