"""`barnstorm segment_count QUERY.json`: print how many people a segment query matches."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from barnstorm.segments import engine


class Command(BaseCommand):
    help = "Print the number of people a segment query (JSON, see docs/segments.md) matches. '-' reads stdin."

    def add_arguments(self, parser):
        parser.add_argument("path", help="A file holding the query as JSON, or - for standard input.")

    def handle(self, *args, path: str, **options):
        import sys

        if path == "-":
            text = sys.stdin.read()
        else:
            file = Path(path)
            if not file.is_file():
                raise CommandError(f"{path}: no such file")
            text = file.read_text(encoding="utf-8")
        try:
            query = json.loads(text)
        except json.JSONDecodeError as e:
            raise CommandError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from e
        try:
            size = engine.count(query)
        except engine.QueryError as e:
            raise CommandError(f"{path}: invalid segment query:\n  " + "\n  ".join(e.errors)) from e
        self.stdout.write(str(size))
