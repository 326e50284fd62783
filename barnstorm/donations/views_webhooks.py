"""Processor webhooks: verified by signature, applied by services.webhook_event_apply, safe to replay."""

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from barnstorm.donations import services
from barnstorm.donations.processors import card_processor, paypal_enabled, paypal_processor
from barnstorm.donations.processors.base import ProcessorTimeout, WebhookSignatureError


def _apply(processor, request) -> HttpResponse:
    try:
        event = processor.parse_webhook(body=request.body, headers=dict(request.headers))
    except WebhookSignatureError:
        return HttpResponseBadRequest("bad signature")
    except ProcessorTimeout:
        # We could not finish checking it: an error makes the processor send it again later.
        return HttpResponse("try again", status=503)
    return HttpResponse(services.webhook_event_apply(processor=processor.name, event=event))


@csrf_exempt
@require_POST
def stripe_webhook(request):
    processor = card_processor()
    if processor.name != "stripe":
        return HttpResponseNotFound()
    return _apply(processor, request)


@csrf_exempt
@require_POST
def paypal_webhook(request):
    if not paypal_enabled():
        return HttpResponseNotFound()
    return _apply(paypal_processor(), request)
