"""The baseline endpoint of `bench donate`: one row inserted per POST, through the same middleware.

Mounted only when BENCH_ENDPOINTS=True (the benchmark's own server sets it); never in production.
"""

from django.db import connection
from django.http import HttpResponseRedirect
from django.views.decorators.http import require_POST


@require_POST
def insert_one(request):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare_row (payload) VALUES (%s)", [request.POST.get("attempt", "")[:100]])
    return HttpResponseRedirect("/")
