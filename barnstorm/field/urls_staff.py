"""Field URLs: staff (being written)."""

urlpatterns: list = []
