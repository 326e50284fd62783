"""Field URLs: texting (being written)."""

urlpatterns: list = []
