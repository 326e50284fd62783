"""The kinds of activity. Each app registers its own kinds when it loads (AppConfig.ready)."""

from django.utils.functional import Promise

_KINDS: dict[str, Promise | str] = {}


def register(kind: str, label: Promise | str) -> None:
    _KINDS[kind] = label


def label(kind: str) -> str:
    return str(_KINDS.get(kind, kind))


def is_registered(kind: str) -> bool:
    return kind in _KINDS


def all_kinds() -> dict[str, Promise | str]:
    return dict(_KINDS)
