"""Field URLs: volunteer (being written)."""

urlpatterns: list = []
