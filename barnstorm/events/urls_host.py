"""Host and organizer pages of events (included by events/urls.py, in the "events" namespace)."""

urlpatterns: list = []
