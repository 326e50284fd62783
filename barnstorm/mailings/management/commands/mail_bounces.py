"""`barnstorm mail_bounces PATH`: record the bounces and spam complaints waiting in a bounce mailbox.

PATH is the Maildir (or mbox file) that the mailings' bounce address delivers to. Run it from cron
every few minutes when sending over plain SMTP; with a provider, its webhook reports the same
events (webhooks.py). What is read, and why a second run changes nothing, is in mailings/bounces.py.
"""

from django.core.management.base import BaseCommand, CommandError

from barnstorm.mailings.bounces import bounce_mailbox_process


class Command(BaseCommand):
    help = (
        "Read a bounce mailbox (Maildir or mbox): permanent failures stop mail to the address, feedback "
        "reports record a spam complaint. Reports are removed from a Maildir once recorded; an mbox is left as is."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="A Maildir folder (with cur/, new/, tmp/) or an mbox file.")

    def handle(self, *args, path, **options):
        try:
            summary = bounce_mailbox_process(path=path)
        except FileNotFoundError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(str(summary))
