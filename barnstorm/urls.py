from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("barnstorm.accounts.urls")),
    path("", include("barnstorm.people.urls")),
    path("", include("barnstorm.donations.urls")),
    path("", include("barnstorm.events.urls")),
    path("", include("barnstorm.segments.urls")),
    path("", include("barnstorm.mailings.urls")),
    path("", include("barnstorm.field.urls")),
    path("anymail/", include("anymail.urls")),
    path("django-admin/", admin.site.urls),
]

# Uploaded files (donation page images) in development; in production the web server serves MEDIA_ROOT.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

if settings.BENCH_ENDPOINTS:
    from bench.views import insert_one

    urlpatterns.append(path("bench/insert/", insert_one))
