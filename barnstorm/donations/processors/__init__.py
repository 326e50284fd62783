"""Which processor takes which payment, decided by settings: one variable switches each on."""

from __future__ import annotations

from django.conf import settings

from barnstorm.donations.processors.base import CardProcessor


def card_processor() -> CardProcessor:
    """Stripe when STRIPE_SECRET_KEY is set; otherwise the embedded test processor."""
    if settings.STRIPE_SECRET_KEY:
        from barnstorm.donations.processors.stripe import StripeProcessor

        return StripeProcessor(
            api_key=settings.STRIPE_SECRET_KEY,
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
            api_base=settings.STRIPE_API_BASE,
        )
    from barnstorm.donations.processors.embedded import TestProcessor

    return TestProcessor()


def card_entry_by_stripe() -> dict | None:
    """Stripe.js's key and address when the card goes to Stripe; None when the page's own fields take it."""
    if settings.STRIPE_SECRET_KEY:
        return {"key": settings.STRIPE_PUBLISHABLE_KEY, "url": settings.STRIPE_JS_URL}
    return None


def processor_named(name: str) -> CardProcessor:
    """The processor that made an earlier charge, for refunds and later installments."""
    if name == "paypal":
        return paypal_processor()
    processor = card_processor()
    if processor.name != name:
        raise LookupError(f"processor {name!r} is not configured")
    return processor


def paypal_processor():
    if not settings.PAYPAL_CLIENT_ID:
        raise LookupError("PayPal is not configured (PAYPAL_CLIENT_ID)")
    from barnstorm.donations.processors.paypal import PayPalProcessor

    return PayPalProcessor(
        client_id=settings.PAYPAL_CLIENT_ID,
        client_secret=settings.PAYPAL_CLIENT_SECRET,
        api_base=settings.PAYPAL_API_BASE,
        webhook_id=settings.PAYPAL_WEBHOOK_ID,
    )


def paypal_enabled() -> bool:
    return bool(settings.PAYPAL_CLIENT_ID)
