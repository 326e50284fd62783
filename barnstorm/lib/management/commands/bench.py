"""`barnstorm bench NAME [--scale F]`: run one of the benchmarks in the top-level `bench` package."""

import time

from django.core.management.base import BaseCommand, CommandError

import bench


class Command(BaseCommand):
    help = "Run a benchmark against the database DATABASE_URL points to; ends with one RESULT line."

    def add_arguments(self, parser):
        parser.add_argument("name", choices=sorted(bench.BENCHMARKS), help="which benchmark")
        parser.add_argument(
            "--scale", type=float, default=1.0, help="multiplies every data size (default 1.0; 0.001 runs in seconds)"
        )
        parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated data")
        parser.add_argument("--queries", type=int, help="search: measured queries of each kind (default 300)")
        parser.add_argument(
            "--workers",
            type=int,
            help="donate: gunicorn worker processes (default 4); mail: worker processes (default 2)",
        )
        parser.add_argument("--connections", type=int, help="donate: concurrent wrk connections (default 16)")

    def handle(self, *args, name: str, scale: float, seed: int, queries: int | None, **options):
        options = {"queries": queries, "workers": options.get("workers"), "connections": options.get("connections")}
        if scale <= 0:
            raise CommandError("--scale must be positive")
        context = bench.BenchContext(scale=scale, seed=seed, out=self.stdout, options=options)
        self.stdout.write(f"bench {name} at scale {scale:g}")
        started = time.monotonic()
        try:
            result = bench.run(name, context)
        except bench.BenchError as e:
            raise CommandError(str(e)) from e
        self.stdout.write(f"bench {name} finished in {time.monotonic() - started:.1f}s")
        self.stdout.write(result.line())
