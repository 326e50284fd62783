"""Start a mailing's send (if it hasn't started) and watch it until it is done."""

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from barnstorm.mailings import services
from barnstorm.mailings.models import Delivery, Mailing, MailingStatus

DONE = (MailingStatus.SENT, MailingStatus.STOPPED, MailingStatus.PAUSED)


class Command(BaseCommand):
    help = "Start sending a mailing (workers do the sending) and print its progress until it is done."

    def add_arguments(self, parser):
        parser.add_argument("mailing_id", type=int)
        parser.add_argument("--no-watch", action="store_true", help="Start and return at once.")
        parser.add_argument(
            "--recover",
            action="store_true",
            help="Requeue rows claimed by workers that died (held longer than MAILING_LEASE_SECONDS).",
        )
        parser.add_argument("--interval", type=float, default=2.0, help="Seconds between progress lines.")
        parser.add_argument("--timeout", type=float, default=0, help="Stop watching after this many seconds.")

    def handle(self, *args, mailing_id, no_watch, recover, interval, timeout, **options):
        mailing = Mailing.objects.filter(pk=mailing_id).first()
        if mailing is None:
            raise CommandError(f"There is no mailing {mailing_id}.")
        if mailing.is_editable:
            try:
                mailing = services.mailing_start(mailing=mailing, actor=None)
            except ValidationError as e:
                raise CommandError("; ".join(e.messages)) from e
            self.stdout.write(f"Started mailing {mailing.pk}: {mailing.recipients:,} recipients.")
        if recover:
            queued = services.mailings_recover(mailing_id=mailing.pk)
            self.stdout.write(f"Requeued {queued} batch(es).")
        if no_watch:
            return
        started = time.monotonic()
        while True:
            status = Mailing.objects.values_list("status", flat=True).get(pk=mailing.pk)
            counts = dict(
                Delivery.objects.filter(mailing_id=mailing.pk).values_list("status").annotate(n=Count("id")).order_by()
            )
            total = sum(counts.values())
            done = total - sum(counts.get(s, 0) for s in services.UNFINISHED)
            elapsed = time.monotonic() - started
            self.stdout.write(
                f"{status:<9} {done:>10,}/{total:,} "
                + " ".join(f"{name}={n:,}" for name, n in sorted(counts.items()))
                + f"  [{elapsed:,.0f} s]"
            )
            if status in DONE or (timeout and elapsed >= timeout):
                return
            time.sleep(interval)
