"""`barnstorm worker`: a Celery worker for this project.

With REDIS_URL set it consumes from Redis (as many machines as needed); without it, from the
folder broker under var/queue, so the demo needs no server.
"""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start a Celery worker that runs Barnstorm's background tasks."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=None, help="Worker processes (default: one per CPU).")
        parser.add_argument("--loglevel", default="INFO")
        parser.add_argument("--queues", default=None, help="Comma-separated queues to consume (default: all).")
        parser.add_argument(
            "--beat",
            action="store_true",
            help=(
                "Also run the periodic schedule (recurring charges, event reminders); start exactly one worker with it."
            ),
        )

    def handle(self, *args, concurrency, loglevel, queues, beat, **options):
        from barnstorm.celery import app

        argv = ["worker", f"--loglevel={loglevel}"]
        if concurrency:
            argv.append(f"--concurrency={concurrency}")
        if queues:
            argv.append(f"--queues={queues}")
        if beat:
            argv.append("--beat")
        app.worker_main(argv)
