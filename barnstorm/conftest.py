"""Fixtures every test can use: an organizer, an admin, an outsider who must be refused, threads
racing each other, and Debian's Chromium for the browser tests."""

import os
import threading

import pytest
from django.db import connection, connections

from barnstorm.accounts.models import Role, User
from barnstorm.people.services import AddressInput, PersonInput, person_upsert


@pytest.fixture
def race():
    """race(count, work, refused=()): run work(n) for n in range(count) in threads released together.

    Returns each thread's outcome in order of n: what `work` returned, or the exception when it
    is one of `refused` (an expected refusal). Any other exception fails the test. Each thread
    closes its database connection. Use with django_db(transaction=True).
    """

    def run_together(count, work, refused=()):
        barrier = threading.Barrier(count)
        outcomes, errors = [None] * count, []

        def run(n):
            try:
                barrier.wait()
                outcomes[n] = work(n)
            except refused as exc:
                outcomes[n] = exc
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        return outcomes

    return run_together


@pytest.fixture
def organizer(db):
    return User.objects.create_user("olivia", "olivia@campaign.test", "pw-organizer-1", role=Role.ORGANIZER)


@pytest.fixture
def outsider(db):
    """A logged-in volunteer: has an account, but no business in staff pages."""
    return User.objects.create_user("victor", "victor@example.test", "pw-volunteer-1", role=Role.VOLUNTEER)


@pytest.fixture
def staff_client(client, organizer):
    client.force_login(organizer)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


@pytest.fixture
def make_person(db):
    def make(email="ann@example.com", given_name="Ann", family_name="Lee", zip_code="50309", **extra):
        data = PersonInput(
            email=email,
            given_name=given_name,
            family_name=family_name,
            address=AddressInput(zip_code=zip_code) if zip_code else None,
            **extra,
        )
        return person_upsert(data=data).person

    return make


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and cached aggregates must not leak from one test to the next."""
    from django.core.cache import cache

    from barnstorm.donations.compliance import limits_forget
    from barnstorm.donations.selectors import donor_pages_forget

    cache.clear()
    limits_forget()
    donor_pages_forget()
    yield
    cache.clear()
    limits_forget()
    donor_pages_forget()


# Browser tests ----------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser():
    """Debian's Chromium, headless, through Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls in browser tests are
    # ordinary blocking calls made between browser steps, so Django's async guard does not apply.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed: apt-get install chromium (the CI script does this)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # The ORM calls made while Playwright ran opened connections of their own, which pytest-django's
        # teardown does not see; left open, they keep PostgreSQL from dropping the test database.
        connections.close_all()


@pytest.fixture
def open_page(browser, live_server):
    """`open_page(viewport=…, **context_options)`: a page in a fresh browser context that may reach
    only the test server; anything else is refused, and the test fails at the end if it was tried."""
    contexts, outside = [], []

    def only_the_test_server(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    def open_(**context_options):
        context = browser.new_context(**context_options)
        context.route("**/*", only_the_test_server)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()
    assert outside == []
