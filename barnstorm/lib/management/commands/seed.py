"""`barnstorm seed`: a demo campaign to explore (or, with --fast, millions of people to measure).

Each app contributes its own data through `barnstorm.lib.seeding` (see there); this command
only runs the registered steps in order and makes sure the demo logins exist.
"""

import os
import time

from django.core.management.base import BaseCommand, CommandError

from barnstorm.accounts.models import Role, User
from barnstorm.lib import seeding
from barnstorm.people.models import Person

DEFAULT_PASSWORD = "barnstorm-demo"


class Command(BaseCommand):
    help = "Load a fictional demo campaign (or, with --fast, benchmark-scale people) and the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=2000, help="how many supporters (default 2000)")
        parser.add_argument(
            "--fast",
            action="store_true",
            help="benchmark scale: people and contact points only, bulk-loaded straight into the tables",
        )
        parser.add_argument("--if-empty", action="store_true", help="load no data if anyone is already there")
        parser.add_argument("--seed", type=int, default=2026, help="random seed: the same seed, the same data")

    def handle(self, *args, people: int, fast: bool, if_empty: bool, seed: int, **options):
        if people < 0:
            raise CommandError("--people cannot be negative")
        if if_empty and Person.objects.exists():
            self.stdout.write("People are already here: no demo data added (--if-empty).")
        else:
            self._seed(seeding.SeedContext(people=people, seed=seed, fast=fast, out=self.stdout))
        self._ensure_logins()

    def _seed(self, context: seeding.SeedContext) -> None:
        mode = "benchmark data (--fast)" if context.fast else "a demo campaign"
        self.stdout.write(f"Seeding {mode} with {context.people:,} people (seed {context.seed})…")
        started = time.monotonic()
        for step in seeding.seed_steps():
            run = step.fast if context.fast else step.demo
            if run is None:
                self.stdout.write(f"- {step.name}: nothing at benchmark scale")
                continue
            step_started = time.monotonic()
            self.stdout.write(f"- {step.name}")
            run(context)
            self.stdout.write(f"  {step.name} done in {time.monotonic() - step_started:.1f}s")
        self.stdout.write(self.style.SUCCESS(f"Seeded in {time.monotonic() - started:.1f}s."))

    def _ensure_logins(self) -> None:
        password = os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
        logins = [
            ("organizer", Role.ORGANIZER, False, "organizer@example.org"),
            ("admin", Role.ADMIN, True, "admin@example.org"),
        ]
        for username, role, superuser, email in logins:
            user = User.objects.filter(username=username).first()
            if user is None:
                create = User.objects.create_superuser if superuser else User.objects.create_user
                create(username, email, password, role=role)
                self.stdout.write(f"Created the {role} login {username!r}.")
            elif not user.check_password(password):
                self.stdout.write(
                    self.style.WARNING(f"The login {username!r} already exists with another password; left as it is.")
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"Log in at http://127.0.0.1:8000/login/ as organizer / {password} (admin: admin / {password})"
            )
        )
        if User.objects.filter(username="volunteer").exists():
            self.stdout.write(
                self.style.SUCCESS(f"A volunteer's view of the field campaigns: volunteer / {password}, then /field/")
            )
