"""Recipient pages (being written)."""

from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse(status=501)


opened = _todo
clicked = _todo
unsubscribe = _todo
preferences = _todo
