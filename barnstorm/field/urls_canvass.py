"""Field URLs: canvass (being written)."""

urlpatterns: list = []
