"""Sending speed limits hold across workers: counted per second in the shared cache."""

from barnstorm.mailings import throttle


class Clock:
    """Wall-clock time that moves only when the throttle sleeps."""

    def __init__(self):
        self.now = 1_000_000.0
        self.sleeps = 0

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps += 1
        self.now += seconds


def test_a_mailing_never_sends_more_than_its_rate_in_a_second(monkeypatch, settings):
    settings.MAILING_DOMAIN_RATES = {}
    clock = Clock()
    monkeypatch.setattr(throttle, "time", clock)
    limiter = throttle.Throttle(mailing_id=1, rate=5)
    seconds = []
    for _ in range(12):
        limiter.take("ann@example.com")
        seconds.append(int(clock.now))

    assert [seconds.count(s) for s in sorted(set(seconds))] == [5, 5, 2]


def test_a_domain_limit_is_shared_by_every_mailing(monkeypatch, settings):
    settings.MAILING_DOMAIN_RATES = {"gmail.com": 3}
    clock = Clock()
    monkeypatch.setattr(throttle, "time", clock)
    first, second = throttle.Throttle(mailing_id=1, rate=0), throttle.Throttle(mailing_id=2, rate=0)

    for limiter in (first, second, first, second):
        limiter.take("someone@gmail.com")
    assert clock.sleeps == 1  # the fourth gmail message waited for the next second
    for _ in range(10):
        first.take("someone@example.org")  # other domains are not limited
    assert clock.sleeps == 1
