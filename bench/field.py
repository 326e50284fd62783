"""`barnstorm bench field`: volunteers asking for batches of contacts over HTTP, and turf cutting.

Assignment: a multi-process gunicorn serves Barnstorm on loopback (like `bench donate`) for a
phone-bank campaign of 1,000,000 × scale contacts. 1,000 simulated volunteers, each signed in
with their own session, ask for batches of 25 through the volunteers' "give me 25" form, from
`--connections` threads at once (default 32), for a fixed time. Between two requests of one
volunteer, the harness marks that volunteer's batch done in the database (what their calls
would do), so each request takes fresh contacts from the shared pool.

It then checks, in the database and in the answers: every contact handed out was handed to one
volunteer only, and each contact a volunteer was given is leased to that volunteer.

RESULT value = contacts assigned per second; baseline = 500/s, the issue's target.

Turf cutting (bench/field_turf.py) runs after it: 100,000 × scale doors into 50-door turfs,
timed, with our routes' total length against an independent heuristic's in the same run.
"""

from __future__ import annotations

import http.client
import re
import secrets
import threading
import time
from collections import Counter

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.urls import reverse

from bench import BenchContext, BenchError, Result
from bench.database import analyze, claim_database, ensure_people
from bench.donate import _free_port, _serve, _wait_ready

CONTACTS = 1_000_000
VOLUNTEERS = 1_000
BATCH = 25
CONTACT_ID = re.compile(r'data-contact-id="(\d+)"')


def run(context: BenchContext) -> Result:
    claim_database(context)
    if connection.vendor != "postgresql":
        context.log("Note: the issue's figure is for PostgreSQL; this run is on " + connection.vendor)
    wanted = context.scaled(CONTACTS, minimum=5000)
    ensure_people(context, wanted)
    campaign = _campaign_prepare(context, wanted)
    volunteers = _volunteers_prepare(
        context, context.scaled(VOLUNTEERS, minimum=50) if context.scale < 1 else VOLUNTEERS
    )
    workers = int(context.options.get("workers") or 4)
    threads = int(context.options.get("connections") or 32)
    duration = max(15, min(60, round(60 * context.scale**0.5)))

    port = _free_port()
    server = _serve(port, workers)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/signup/")
        rate, given = _load(context, port, campaign, volunteers, threads, duration)
    finally:
        server.terminate()
        server.wait(timeout=30)
    _check(context, campaign, given)

    try:
        from bench.field_turf import run_turf
    except ImportError:
        context.log("Turf cutting: bench/field_turf.py is not there yet")
    else:
        turf = run_turf(context)
        context.log(
            f"Turf cutting: {turf['turfs']:,} turfs in {turf['seconds']:.1f}s (target ≤ 30 s); routes "
            f"{turf['our_meters'] / 1000:,.0f} km against the reference's {turf['reference_meters'] / 1000:,.0f} km "
            f"(ratio {turf['our_meters'] / turf['reference_meters']:.3f}, target ≤ 1.25)"
        )
    return Result(bench="field", value=rate, unit="contacts/s", baseline=500.0)


def _campaign_prepare(context: BenchContext, wanted: int):
    """A fresh active phone bank whose contacts are `wanted` people (inserted directly: launching
    from a segment is not what is measured)."""
    from barnstorm.accounts.models import Role, User
    from barnstorm.field.models import Contact, FieldCampaign, Script, Step
    from barnstorm.people.models import Person

    with connection.cursor() as cursor:
        table = Contact._meta.db_table
        cursor.execute(f"TRUNCATE {table} CASCADE" if connection.vendor == "postgresql" else f"DELETE FROM {table}")
    FieldCampaign.objects.all().delete()
    actor, _ = User.objects.get_or_create(username="bench-field", defaults={"role": Role.ORGANIZER})
    script = Script.objects.create(name="Bench ID call", created_by=actor)
    Step.objects.create(script=script, position=0, kind="text", text="Hi {{ person.given_name }}!")
    campaign = FieldCampaign.objects.create(
        name="Bench phone bank", kind="phone", status="active", script=script, batch_size=BATCH, created_by=actor
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (campaign_id, person_id, phone, status, attempts, last_disposition) "
            f"SELECT %s, id, '+1515' || lpad((id %% 10000000)::text, 7, '0'), 'available', 0, '' "
            f"FROM {Person._meta.db_table} ORDER BY id LIMIT %s"
            if connection.vendor == "postgresql"
            else f"INSERT INTO {table} (campaign_id, person_id, phone, status, attempts, last_disposition) "
            f"SELECT %s, id, '+1515' || substr('0000000' || (id %% 10000000), -7), 'available', 0, '' "
            f"FROM {Person._meta.db_table} ORDER BY id LIMIT %s",
            [campaign.pk, wanted],
        )
    analyze()
    context.log(f"Campaign: {wanted:,} contacts inserted in {time.perf_counter() - started:.1f}s")
    return campaign


def _volunteers_prepare(context: BenchContext, count: int) -> list[tuple[int, str]]:
    """`count` volunteer accounts, each signed in with a session of its own: (user id, session key)."""
    from barnstorm.accounts.models import Role, User

    User.objects.filter(username__startswith="bench-volunteer-").delete()
    User.objects.bulk_create(
        User(username=f"bench-volunteer-{i}", email=f"bench-volunteer-{i}@example.test", role=Role.VOLUNTEER)
        for i in range(count)
    )
    sessions = []
    for user in User.objects.filter(username__startswith="bench-volunteer-").order_by("pk"):
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append((user.pk, store.session_key))
    context.log(f"Volunteers: {len(sessions):,} signed in")
    return sessions


def _load(context, port, campaign, volunteers, threads, duration) -> tuple[float, dict[int, list[int]]]:
    from barnstorm.field.models import Contact, ContactStatus

    path = reverse("field:batch", args=[campaign.pk])
    csrf = secrets.token_hex(16)  # 32 characters: Django accepts the unmasked secret as the token
    lock = threading.Lock()
    queue = list(volunteers)
    given: dict[int, list[int]] = {}  # volunteer id → every contact id they were handed
    errors: Counter = Counter()
    stop = time.monotonic() + duration
    requests = [0]

    def worker():
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while time.monotonic() < stop:
                with lock:
                    user_id, session = queue.pop(0)
                ids = _ask(client, path, session, csrf, errors)
                if ids is not None:
                    with lock:
                        given.setdefault(user_id, []).extend(ids)
                        requests[0] += 1
                    # The volunteer's calls, done: their batch leaves the pool for good.
                    Contact.objects.filter(pk__in=ids, leased_to_id=user_id).update(status=ContactStatus.DONE)
                with lock:
                    queue.append((user_id, session))
        finally:
            client.close()
            connection.close()

    context.log(f"{len(volunteers):,} volunteers ask for {BATCH} at a time over {threads} connections for {duration}s…")
    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    handed = sum(len(ids) for ids in given.values())
    if errors:
        context.log(f"Errors: {dict(errors)}")
    rate = handed / elapsed
    context.log(
        f"{requests[0]:,} batches, {handed:,} contacts handed out in {elapsed:.1f}s = {rate:,.0f} contacts/s "
        f"({requests[0] / elapsed:,.0f} batches/s)"
    )
    return rate, given


def _ask(client, path, session, csrf, errors) -> list[int] | None:
    cookie = f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf}"
    headers = {
        "Cookie": cookie,
        "X-CSRFToken": csrf,
        "Content-Type": "application/x-www-form-urlencoded",
        "Referer": "http://127.0.0.1/",
    }
    client.request("POST", path, body="", headers=headers)
    response = client.getresponse()
    body = response.read().decode()
    if response.status in (301, 302, 303):
        client.request("GET", response.getheader("Location"), headers={"Cookie": cookie})
        response = client.getresponse()
        body = response.read().decode()
    if response.status != 200:
        errors[response.status] += 1
        return None
    return [int(i) for i in dict.fromkeys(CONTACT_ID.findall(body))]


def _check(context: BenchContext, campaign, given: dict[int, list[int]]) -> None:
    from barnstorm.field.models import Contact

    every = [pk for ids in given.values() for pk in ids]
    twice = len(every) - len(set(every))
    holders = dict(Contact.objects.filter(pk__in=every).values_list("pk", "leased_to_id"))
    wrong = sum(1 for user_id, ids in given.items() for pk in ids if holders.get(pk) != user_id)
    context.log(f"Check: {len(every):,} contacts handed out, {twice} handed out twice, {wrong} held by someone else")
    if twice or wrong:
        raise BenchError(f"double assignment: {twice} contacts handed out twice, {wrong} held by someone else")
