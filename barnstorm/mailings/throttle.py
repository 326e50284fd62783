"""Sending speed limits shared by every worker: messages per second for a mailing, and per
recipient domain (MAILING_DOMAIN_RATES, e.g. "gmail.com=200,yahoo.com=100"), counted per
wall-clock second in the cache (Redis in production, so the limit holds across machines)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache


class Throttle:
    def __init__(self, *, mailing_id: int, rate: int):
        self.mailing_key = f"mail-rate:{mailing_id}"
        self.rate = rate
        self.domain_rates = settings.MAILING_DOMAIN_RATES

    def take(self, address: str) -> None:
        """Wait, if need be, until one more message to `address` fits under every limit."""
        if self.rate:
            self._take(self.mailing_key, self.rate)
        if self.domain_rates:
            domain = address.rpartition("@")[2].lower()
            if domain in self.domain_rates:
                self._take(f"mail-rate-domain:{domain}", self.domain_rates[domain])

    @staticmethod
    def _take(key: str, limit: int) -> None:
        while True:
            second = int(time.time())
            slot = f"{key}:{second}"
            cache.add(slot, 0, timeout=5)
            try:
                used = cache.incr(slot)
            except ValueError:  # expired between add and incr
                continue
            if used <= limit:
                return
            time.sleep(max(0.0, second + 1 - time.time()))
