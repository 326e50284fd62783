"""`barnstorm bench checkin`: check-ins per second at the door of a 27,000-person rally, over HTTP.

A multi-process gunicorn serves Barnstorm on loopback against the database DATABASE_URL names,
like `bench donate`. The benchmark:

- creates a published rally (through `event_create`) and 27,000 × scale RSVPs for it. The crowd
  is bulk-inserted straight into the table (COPY on PostgreSQL), not RSVPed one by one through
  `rsvp_create`: building it is not what is measured, and at full scale it takes seconds;
- logs the host in like a phone would (the login form: session cookie, then the check-in page's
  CSRF token);
- has `wrk` (Debian's package) POST the check-in form with a ticket code for a fixed time, from
  several connections at once like several phones at the door: every ticket once, in random
  order, and a fraction of requests re-scanning a ticket that connection already scanned. Each
  wrk thread has one connection, so each answer is matched to the ticket it answers; the answer
  says "new", "already" or otherwise in its X-Check-In header.

Then it checks, in the database: the checked-in RSVPs are exactly the tickets that got a "new"
answer (plus, at most, the one request per connection still in flight when wrk stopped), no
ticket got "new" twice, every "already" was for a checked-in ticket, no RSVP was lost or changed
status, and the "attended" activities for the event equal the checked-in count.

RESULT value = check-ins answered per second (first scans and re-scans); the new check-ins per
second are printed too. baseline = 200/s, the issue's target.
"""

from __future__ import annotations

import http.cookiejar
import os
import random
import re
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from bench import BenchContext, BenchError, Result
from bench.database import analyze, claim_database, ensure_people
from bench.donate import _free_port, _serve, _wait_ready

CROWD = 27_000
TARGET = 200.0  # check-ins/s
RESCAN_FRACTION = 0.1
HOST_EMAIL = "bench-host@bench.example"
HOST_USERNAME = "bench-host"

LUA = r"""
local threads = {}
local next_id = 0
setup = function(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end
init = function(args)
  math.randomseed(SEED + tid)
  fresh = TICKETS[tid]
  next_fresh = 1
  sent = {}
  new_list, already_list, lost = {}, {}, {}
  new_count, already, bad = 0, 0, 0
  pending = nil
end
request = function()
  -- A request wrk never saw answered (a socket error, a reconnect) may still have checked someone in.
  if pending then lost[#lost + 1] = pending end
  local ticket
  if #sent > 0 and (next_fresh > #fresh or math.random() < RESCAN) then
    ticket = sent[math.random(#sent)]
  else
    ticket = fresh[next_fresh]
    next_fresh = next_fresh + 1
    sent[#sent + 1] = ticket
  end
  pending = ticket
  return wrk.format("POST", PATH, HEADERS, BODY .. ticket)
end
response = function(status, headers, body)
  local outcome = nil
  for name, value in pairs(headers) do
    if string.lower(name) == "x-check-in" then outcome = value end
  end
  if status == 200 and outcome == "new" then
    new_count = new_count + 1
    new_list[#new_list + 1] = pending
  elseif status == 200 and outcome == "already" then
    already = already + 1
    already_list[#already_list + 1] = pending
  else
    bad = bad + 1
  end
  pending = nil
end
done = function(summary, latency, requests)
  local out = io.open(OUT, "w")
  local n, a, b = 0, 0, 0
  for _, t in ipairs(threads) do
    n = n + t:get("new_count"); a = a + t:get("already"); b = b + t:get("bad")
    for _, code in ipairs(t:get("new_list")) do out:write("N ", code, "\n") end
    for _, code in ipairs(t:get("already_list")) do out:write("A ", code, "\n") end
    for _, code in ipairs(t:get("lost")) do out:write("L ", code, "\n") end
    local left = t:get("pending")
    if left then out:write("L ", left, "\n") end
  end
  out:close()
  io.write(string.format("BENCH_COUNTS new=%d already=%d bad=%d\n", n, a, b))
  local p50, p99 = latency:percentile(50) / 1000, latency:percentile(99) / 1000
  io.write(string.format("BENCH_LATENCY p50=%.3f p99=%.3f\n", p50, p99))
end
"""


def run(context: BenchContext) -> Result:
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed: apt-get install wrk")
    claim_database(context)
    if connection.vendor != "postgresql":
        context.log("Note: SQLite takes one write at a time; the figures in docs/benchmarks.md are PostgreSQL's.")
    size = context.scaled(CROWD, minimum=200)
    ensure_people(context, size + 1)
    event, password = _rally_create(context, size)
    duration = max(5, round(20 * context.scale))
    # One worker per CPU: on a small machine, more sync workers only take turns on the same cores.
    workers = int(context.options.get("workers") or os.cpu_count() or 2)
    connections = int(context.options.get("connections") or 8)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _serve(port, workers)
    try:
        _wait_ready(f"{base}/login/")
        cookies, token = _host_session(base, event.pk, password)
        checkin = f"/events/{event.pk}/checkin/"
        cookie_header = "; ".join(f"{name}={value}" for name, value in cookies.items())
        # Every worker imports its modules and opens its database connection on its first requests.
        _warm_up(base + f"/events/{event.pk}/checkin/search/?q=zz", cookie_header, connections)
        tickets = list(event.rsvps.values_list("ticket", flat=True))
        random.Random(context.seed).shuffle(tickets)
        context.log(
            f"Checking in for {duration}s: gunicorn {workers} workers, wrk {connections} connections (phones), "
            f"{RESCAN_FRACTION:.0%} re-scans"
        )
        scanned = _wrk(base, checkin, cookie_header, token, tickets, connections, duration, context.seed)
    finally:
        # A graceful stop lets the workers finish the requests wrk cut off when its time was up.
        server.terminate()
        server.wait(timeout=60)
    _check(context, event, size, scanned)
    answered = scanned["new"] + scanned["already"]
    context.log(
        f"  {scanned['rate']:,.1f} check-ins answered/s ({scanned['new_rate']:,.1f} new/s), "
        f"p50 {scanned['p50']:.1f} ms, p99 {scanned['p99']:.1f} ms; {scanned['new']:,} checked in, "
        f"{scanned['already']:,} re-scans told 'already checked in', {scanned['bad']:,} other answers"
    )
    if scanned["new"] >= size:
        context.log("  (every ticket was scanned before the time was up: later requests were all re-scans)")
    context.log(f"Target (≥ {TARGET:.0f}/s): {'met' if scanned['rate'] >= TARGET else 'not met'}; {answered:,} answers")
    return Result("checkin", scanned["rate"], "check-ins/s", TARGET)


def _rally_create(context: BenchContext, size: int):
    """A published rally and `size` RSVPs for it, with a host who can log in."""
    from barnstorm.accounts.models import Role, User
    from barnstorm.events.models import Rsvp, RsvpStatus
    from barnstorm.events.services import EventInput, event_create
    from barnstorm.lib.bulk import bulk_insert_rows
    from barnstorm.people.models import Person
    from barnstorm.people.services import PersonInput, person_upsert

    organizer, _ = User.objects.get_or_create(username="bench-organizer", defaults={"role": Role.ORGANIZER})
    host = person_upsert(data=PersonInput(email=HOST_EMAIL, given_name="Bench", family_name="Host")).person
    password = secrets.token_urlsafe(12)
    user = User.objects.filter(username=HOST_USERNAME).first() or User(username=HOST_USERNAME, person=host)
    user.role, user.person, user.is_active = Role.VOLUNTEER, host, True  # the host is no organizer
    user.set_password(password)
    user.save()
    now = timezone.now().replace(second=0, microsecond=0)
    data = EventInput(
        title=f"Bench rally {now:%Y-%m-%d %H:%M}",
        kind="rally",
        starts_at=now,
        ends_at=now + timedelta(hours=4),
        zip_code="50309",
        venue="State Fairgrounds",
    )
    event = event_create(data=data, host=host, actor=organizer)
    people = list(Person.objects.exclude(pk=host.pk).order_by("pk").values_list("pk", flat=True)[:size])
    started = time.monotonic()
    rng = random.Random(context.seed)
    rows = (
        (event.pk, pid, RsvpStatus.GOING, rng.choice((0, 0, 0, 1, 2)), secrets.token_urlsafe(16), False, "bench")
        for pid in people
    )
    bulk_insert_rows(Rsvp, ["event", "person", "status", "guests", "ticket", "walk_in", "refcode"], rows)
    analyze()
    elapsed = time.monotonic() - started
    context.log(f"Rally {event.pk}: bulk-inserted {len(people):,} RSVPs in {elapsed:.1f}s")
    return event, password


def _host_session(base: str, event_id: int, password: str) -> tuple[dict, str]:
    """Log the host in through the login form; return the cookies and the check-in page's CSRF token."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/login/", timeout=10) as response:
        token = _csrf_token(response.read().decode())
    form = {"csrfmiddlewaretoken": token, "username": HOST_USERNAME, "password": password}
    opener.open(f"{base}/login/", data=urllib.parse.urlencode(form).encode(), timeout=10).close()
    with opener.open(f"{base}/events/{event_id}/checkin/", timeout=10) as response:
        page = response.read().decode()
    if 'id="ticket-form"' not in page:
        raise BenchError("the host could not open the check-in page after logging in")
    cookies = {c.name: c.value for c in jar}
    if settings.SESSION_COOKIE_NAME not in cookies:
        raise BenchError("logging the host in gave no session cookie")
    return cookies, _csrf_token(page)


def _csrf_token(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not found:
        raise BenchError("no CSRF token on the page")
    return found.group(1)


def _warm_up(url: str, cookie_header: str, connections: int) -> None:
    argv = ["wrk", "-t2", f"-c{connections}", "-d2s", "-H", f"Cookie: {cookie_header}", url]
    subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)


def _wrk(base, path, cookie_header, token, tickets, connections, duration, seed) -> dict:
    slices = [tickets[n::connections] for n in range(connections)]
    lua_tickets = "{" + ",".join("{" + ",".join(f'"{t}"' for t in part) + "}" for part in slices) + "}"
    headers = (
        f"{{['Content-Type']='application/x-www-form-urlencoded', ['HX-Request']='true', ['Cookie']='{cookie_header}'}}"
    )
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "answers.txt"
        script = Path(folder) / "checkin.lua"
        script.write_text(
            f"SEED = {seed}\nRESCAN = {RESCAN_FRACTION}\nOUT = '{out}'\nPATH = '{path}'\nHEADERS = {headers}\n"
            f"BODY = 'csrfmiddlewaretoken={token}&ticket='\nTICKETS = {lua_tickets}\n{LUA}"
        )
        # One connection per thread: each thread's answers come in the order of its requests.
        argv = [
            "wrk", f"-t{connections}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
            "-s", str(script), base + path,
        ]  # fmt: skip
        output = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 120, check=True).stdout
        answers = {"N": [], "A": [], "L": []}
        for line in out.read_text().splitlines():
            kind, ticket = line.split(" ", 1)
            answers[kind].append(ticket)
    counts = re.search(r"BENCH_COUNTS new=(\d+) already=(\d+) bad=(\d+)", output)
    latency = re.search(r"BENCH_LATENCY p50=([\d.]+) p99=([\d.]+)", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not (counts and latency and rate):
        raise BenchError("could not read wrk's output:\n" + output)
    new, already, bad = (int(counts.group(n)) for n in (1, 2, 3))
    total = max(new + already + bad, 1)
    return {
        "new": new,
        "already": already,
        "bad": bad,
        # Answered check-ins per second: failed requests don't count.
        "rate": float(rate.group(1)) * (new + already) / total,
        "new_rate": float(rate.group(1)) * new / total,
        "p50": float(latency.group(1)),
        "p99": float(latency.group(2)),
        "new_tickets": answers["N"],
        "already_tickets": answers["A"],
        "lost_tickets": answers["L"],
    }


def _check(context: BenchContext, event, size: int, scanned: dict) -> None:
    from barnstorm.activity.models import Activity
    from barnstorm.events.models import Rsvp, RsvpStatus

    rsvps = Rsvp.objects.filter(event=event)
    checked = set(rsvps.filter(checked_in_at__isnull=False).values_list("ticket", flat=True))
    new = scanned["new_tickets"]
    distinct_new = set(new)
    in_flight = set(scanned["lost_tickets"])
    rsvp_count = rsvps.count()
    not_going = rsvps.exclude(status=RsvpStatus.GOING).count()
    attended = Activity.objects.filter(kind="attended", data__event_id=event.pk).count()
    problems = []
    if len(new) != len(distinct_new):
        problems.append(f"{len(new) - len(distinct_new)} tickets were answered 'new' twice")
    if not distinct_new <= checked:
        problems.append(f"{len(distinct_new - checked)} tickets answered 'new' are not checked in")
    if not (checked - distinct_new) <= in_flight:
        problems.append(f"{len(checked - distinct_new - in_flight)} check-ins nobody was told about")
    if not set(scanned["already_tickets"]) <= checked:
        problems.append("a re-scan was told 'already checked in' for a ticket that is not")
    if rsvp_count != size or not_going:
        problems.append(f"RSVPs: {rsvp_count:,} of {size:,} left, {not_going} no longer going")
    if attended != len(checked):
        problems.append(f"{attended:,} 'attended' activities for {len(checked):,} check-ins")
    if scanned["bad"]:
        problems.append(f"{scanned['bad']} answers were neither a check-in nor 'already checked in'")
    if problems:
        raise BenchError("exactly-once check failed: " + "; ".join(problems))
    context.log(
        f"  exactly once: {len(checked):,} checked in = {len(distinct_new):,} answered 'new'"
        f" + {len(checked) - len(distinct_new)} in flight when wrk stopped; {rsvp_count:,} RSVPs all still going;"
        f" {attended:,} 'attended' activities"
    )
