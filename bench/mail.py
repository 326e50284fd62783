"""`barnstorm bench mail`: a personalised mailing to 1,000,000 recipients, end to end.

The production path: `mailing_start` takes the recipients (snapshot, then one delivery row per
person), batch tasks go through the broker (Redis when REDIS_URL is set, else the folder broker)
to real Celery worker processes, which render each message and deliver it over SMTP to a sink on
loopback, marking each row sent as the server accepts it. The sink is `smtp-sink` from Debian's
postfix package (C; ~10,000 messages/s here), so the sink is not what is measured.

In the same run, the baseline: a plain `smtplib` loop sending pre-rendered messages of the same
mailing to the same sink, one connection, no database — before and after the send; the faster
of the two is the baseline.

RESULT value = messages per second end to end (from the start of `mailing_start` until the
mailing is sent); baseline = the plain loop's messages per second. The issue's targets: at least
1,700 messages/s and a ratio of at least 0.6. Worker memory is sampled throughout.
"""

from __future__ import annotations

import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from bench import BenchContext, BenchError, Result
from bench.database import analyze, claim_database, ensure_people

RECIPIENTS = 1_000_000
BASELINE_MESSAGES = 50_000
HTML = """<html><body>
<p>Hi {{ person.given_name|default:"Friend" }},</p>
<p>Tomorrow is the last day of the month, and we are {{ person.city|default:"everywhere" }} strong.
Grassroots campaigns win because people like you give a little, often, and show up.</p>
<p>Will you chip in ${{ suggested_amount }} before midnight?</p>
<p><a href="http://127.0.0.1:8000/donate/main/?amount={{ suggested_amount }}">Chip in ${{ suggested_amount }}</a></p>
<p>Or find an event near {{ person.zip_code|default:"you" }}:
<a href="http://127.0.0.1:8000/events/">events near you</a>.</p>
<p>Thank you,<br>Team Barnstorm</p>
</body></html>"""


def run(context: BenchContext) -> Result:
    sink_binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if not Path(sink_binary).exists():
        raise BenchError("smtp-sink is missing: apt-get install postfix (it ships smtp-sink)")
    claim_database(context)
    if connection.vendor != "postgresql":
        context.log("Note: the issue's figure is for PostgreSQL; this run is on " + connection.vendor)
    if not settings.REDIS_URL:
        context.log("Note: REDIS_URL is not set, so batches go through the folder broker, not Redis")
    wanted = context.scaled(RECIPIENTS, minimum=1000)
    ensure_people(context, wanted)
    mailing = _mailing_prepare(context, wanted)
    workers = int(context.options.get("workers") or 2)

    port = _free_port()
    sink = subprocess.Popen(
        [sink_binary, "-u", "nobody", f"127.0.0.1:{port}", "1024"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port)
        # The loop is measured before and after the send, and the faster is the baseline: the
        # machine is shared (autovacuum after a bulk load, say), so a single reading can flatter.
        count = min(BASELINE_MESSAGES, wanted)
        before = _plain_loop(context, mailing, port, count)
        value = _send(context, mailing, port, workers)
        after = _plain_loop(context, mailing, port, count)
        baseline = max(before, after)
    finally:
        sink.send_signal(signal.SIGTERM)
        sink.wait(timeout=10)
    return Result(bench="mail", value=value, unit="messages/s", baseline=baseline)


def _mailing_prepare(context: BenchContext, wanted: int):
    from barnstorm.accounts.models import Role, User
    from barnstorm.mailings.models import Delivery, Mailing
    from barnstorm.mailings.services import mailing_save
    from barnstorm.segments.services import segment_save

    # Earlier runs' mailings and deliveries go: each run sends one mailing to everyone afresh.
    with connection.cursor() as cursor:
        table = Delivery._meta.db_table
        cursor.execute(f"TRUNCATE {table}" if connection.vendor == "postgresql" else f"DELETE FROM {table}")
    Mailing.objects.all().delete()
    actor, _ = User.objects.get_or_create(username="bench-mail", defaults={"role": Role.ORGANIZER})
    segment = segment_save(
        name=f"Bench: subscribed ({time.time():.0f})",
        query={"type": "email_status", "status": "subscribed"},
        actor=actor,
    )
    analyze()
    return mailing_save(
        fields={
            "name": "Bench: end of month",
            "from_name": "Team Barnstorm",
            "from_address": "team@barnstorm.test",
            "html_body": HTML,
            "segment": segment,
        },
        subjects=["{{ person.given_name|default:'Friend' }}, before midnight"],
        actor=actor,
    )


def _plain_loop(context: BenchContext, mailing, port: int, count: int) -> float:
    """Pre-rendered messages of the same mailing through one smtplib connection: the ceiling."""
    from barnstorm.mailings import render

    compiled = render.Compiled(mailing, links=render.links_in(mailing))
    prepared = []
    for i in range(count):
        person = {"given_name": f"Name{i}", "city": "Des Moines", "zip_code": "50309"}
        recipient = render.Recipient(i + 1, i + 1, f"plain{i}@example.com", 0, person, {})
        message = compiled.message(recipient)
        prepared.append((message.to[0], message.message().as_bytes(linesep="\r\n")))
    client = smtplib.SMTP("127.0.0.1", port)
    started = time.perf_counter()
    for to, data in prepared:
        client.sendmail("team@barnstorm.test", [to], data)
    elapsed = time.perf_counter() - started
    client.quit()
    rate = count / elapsed
    context.log(f"Baseline: plain smtplib loop, {count:,} pre-rendered messages in {elapsed:.1f}s = {rate:,.0f}/s")
    return rate


def _send(context: BenchContext, mailing, port: int, workers: int) -> float:
    from barnstorm.mailings.models import Delivery, DeliveryStatus, Mailing, MailingStatus
    from barnstorm.mailings.services import mailing_start

    env = {
        **os.environ,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_USE_TLS": "False",
        "TASKS_EAGER": "False",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "barnstorm.manage", "worker", "--concurrency", str(workers), "--loglevel", "WARNING"],
        env=env,
        start_new_session=True,
    )
    memory = _MemorySampler(worker.pid)
    try:
        time.sleep(3)  # the worker's start-up is not the mailing's time
        memory.start()
        started = time.perf_counter()
        mailing = mailing_start(mailing=mailing, actor=None)
        queued = time.perf_counter()
        context.log(
            f"Recipients: {mailing.recipients:,} taken and {mailing.recipients:,} delivery rows written, "
            f"batches queued in {queued - started:.1f}s; {workers} worker processes sending…"
        )
        last = 0.0
        while Mailing.objects.values_list("status", flat=True).get(pk=mailing.pk) != MailingStatus.SENT:
            time.sleep(1)
            if time.perf_counter() - last > 15:
                last = time.perf_counter()
                sent = Delivery.objects.filter(mailing=mailing, status=DeliveryStatus.SENT).count()
                context.log(f"  {sent:,} sent after {last - started:.0f}s; workers' memory {memory.last_mb:.0f} MB")
            if worker.poll() is not None:
                raise BenchError("the worker stopped")
        finished = time.perf_counter()
    finally:
        memory.stop()
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)

    statuses = dict(Delivery.objects.filter(mailing=mailing).values_list("status").annotate(n=_count()).order_by())
    sent = statuses.get(DeliveryStatus.SENT, 0)
    context.log(f"Deliveries by status: {statuses}")
    if sent != mailing.recipients:
        raise BenchError(f"{mailing.recipients:,} recipients but {sent:,} sent")
    total = finished - started
    rate = sent / total
    context.log(
        f"Sent {sent:,} in {total:.1f}s = {rate:,.0f}/s end to end "
        f"({sent / (finished - queued):,.0f}/s once queued); workers' memory (MB, sampled every second) "
        f"first {memory.first_mb:.0f}, median {memory.median_mb:.0f}, peak {memory.peak_mb:.0f}, "
        f"last {memory.last_mb:.0f}"
    )
    return rate


def _count():
    from django.db.models import Count

    return Count("id")


class _MemorySampler:
    """The resident memory of a process and its children (the pool), once a second."""

    def __init__(self, pid: int):
        self.pid = pid
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self):
        while not self._stop.wait(1.0):
            self.samples.append(_tree_rss_kb(self.pid) / 1024)

    first_mb = property(lambda self: self.samples[0] if self.samples else 0.0)
    last_mb = property(lambda self: self.samples[-1] if self.samples else 0.0)
    peak_mb = property(lambda self: max(self.samples, default=0.0))
    median_mb = property(lambda self: sorted(self.samples)[len(self.samples) // 2] if self.samples else 0.0)


def _tree_rss_kb(pid: int) -> int:
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            for task in Path(f"/proc/{current}/task").iterdir():
                stack.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, StopIteration, ValueError):
            continue
    return total


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise BenchError("smtp-sink did not start")
