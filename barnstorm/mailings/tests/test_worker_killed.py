"""A worker killed in the middle of a batch loses and duplicates nothing: real worker processes,
a real broker (Redis when REDIS_URL is set, else the folder broker), a real SMTP server."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from barnstorm.mailings.models import Delivery, DeliveryStatus, Mailing, MailingStatus
from barnstorm.mailings.services import mailing_save
from barnstorm.mailings.tests.smtp_sink import Sink
from barnstorm.people.services import PersonInput, person_upsert_many
from barnstorm.segments.services import segment_save

RECIPIENTS = 40
pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def env(tmp_path):
    env = {
        **os.environ,
        "SECRET_KEY": "x",
        "VAR_DIR": str(tmp_path),
        "TASKS_EAGER": "False",
        "DATABASE_URL": _database_url(),
        "EMAIL_USE_TLS": "False",
        "MAILING_BATCH_SIZE": "10",
        "MAILING_LEASE_SECONDS": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if settings.REDIS_URL:
        import redis

        # A database of the Redis server of its own, emptied before and after: no stray task
        # from another run can reach this test's worker, and none of this test's is left behind.
        env["REDIS_URL"] = settings.REDIS_URL.rsplit("/", 1)[0] + "/13"
        client = redis.Redis.from_url(env["REDIS_URL"])
        client.flushdb()
        yield env
        client.flushdb()
    else:
        yield env


def _run(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "barnstorm.manage", *args], env=env, check=True, capture_output=True, timeout=120
    )


def _worker(env):
    return subprocess.Popen(
        [sys.executable, "-m", "barnstorm.manage", "worker", "--concurrency", "1", "--loglevel", "WARNING"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # so the kill reaches the pool's child process too
    )


def _wait(predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_a_worker_killed_mid_batch_resumes_without_duplicates_or_gaps(env, organizer):
    rows = [PersonInput(email=f"kill{i}@example.com", given_name=f"K{i}", tags=("kill",)) for i in range(RECIPIENTS)]
    person_upsert_many(rows=rows)
    segment = segment_save(name="Kill test", query={"type": "has_tag", "tag": "kill"}, actor=organizer)
    mailing = mailing_save(
        fields={
            "name": "Kill test",
            "from_name": "Team",
            "from_address": "team@barnstorm.test",
            "html_body": "<p>Hello {{ person.given_name }}</p>",
            "segment": segment,
        },
        subjects=["Hello"],
        actor=organizer,
    )
    sink = Sink(hold_at=15)  # in the second batch of ten
    env = {**env, "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(sink.port)}
    first = second = None
    try:
        first = _worker(env)
        _run(env, "send_mailing", str(mailing.pk), "--no-watch")
        assert sink.holding.wait(90), "the worker never reached the held message"
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        assert _wait(lambda: sink.discarded, 10)

        sent_before = sum(sink.recipients.values())
        assert sent_before == 14
        time.sleep(1.5)  # the dead worker's claim outlives its lease
        _run(env, "send_mailing", str(mailing.pk), "--recover", "--no-watch")
        second = _worker(env)

        assert _wait(lambda: Mailing.objects.get(pk=mailing.pk).status == MailingStatus.SENT, 90)
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=30)
        sink.close()

    received = sink.recipients
    assert set(received) == {f"kill{i}@example.com" for i in range(RECIPIENTS)}  # nobody skipped
    assert max(received.values()) == 1  # nobody twice
    assert sink.discarded[0][0] in received  # the message on the wire when the worker died went out after
    statuses = Delivery.objects.filter(mailing=mailing).values_list("status", flat=True)
    assert set(statuses) == {DeliveryStatus.SENT} and len(statuses) == RECIPIENTS
