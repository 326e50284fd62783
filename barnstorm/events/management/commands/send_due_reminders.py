"""`barnstorm send_due_reminders`: send every event reminder and follow-up that is due, now, in this process.

The worker started with `--beat` does this every five minutes; this command is for operators (cron,
or catching up by hand after the worker was down). Running it twice, or beside the worker, sends
nobody anything twice. What is due when is described in `barnstorm.events.reminders`.
"""

from django.core.management.base import BaseCommand

from barnstorm.events.reminders import reminders_send_due


class Command(BaseCommand):
    help = "Send the event reminders (24 h and 2 h before) and follow-ups (after the end) that are due."

    def handle(self, *args, **options):
        counts = reminders_send_due()
        self.stdout.write(
            f"24-hour reminders {counts['reminder_24h']}, 2-hour reminders {counts['reminder_2h']}"
            f" ({counts['texts']} by text too), follow-ups to attendees {counts['followup']}"
            f" and to hosts {counts['followup_host']}, failed {counts['failed']} (tried again next run)"
        )
        if counts["failed"]:
            self.stderr.write(self.style.WARNING(f"{counts['failed']} could not be sent; see the log."))
