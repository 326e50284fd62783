"""`barnstorm charge_recurring`: charge every recurring installment that is due, now, in this process.

The worker started with `--beat` does this every few minutes; this command is for operators
(cron, or catching up by hand). Running it twice, or beside the worker, charges nobody twice.
"""

from django.core.management.base import BaseCommand

from barnstorm.donations.services import recurring_due_ids, recurring_installment_charge


class Command(BaseCommand):
    help = "Charge the recurring installments that are due."

    def handle(self, *args, **options):
        charged = declined = stopped = pending = 0
        for plan_id in recurring_due_ids():
            outcome = recurring_installment_charge(plan_id=plan_id)
            if outcome is None:
                continue
            charged += outcome.charged is not None
            declined += bool(outcome.declined)
            stopped += outcome.stopped
            pending += outcome.pending
        self.stdout.write(f"charged {charged}, declined {declined} (stopped {stopped}), awaiting an answer {pending}")
