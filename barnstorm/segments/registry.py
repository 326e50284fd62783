"""The predicates segments can use, by type name. Apps add theirs with `register` (docs/segments.md).

The segments app's ready() imports each installed app's `segment_predicates` module, whose
classes register themselves here; the engine looks predicates up by their `type`.
"""

from __future__ import annotations

_PREDICATES: dict[str, type] = {}


def register(predicate_class: type) -> type:
    """Make `predicate_class` (a subclass of engine.Predicate) usable as {"type": its type}.

    Usable as a class decorator. Registering a second class under a taken type name is an error,
    so that two apps cannot silently shadow each other's predicates.
    """
    type_name = getattr(predicate_class, "type", "")
    if not type_name or not isinstance(type_name, str):
        raise ValueError(f"{predicate_class.__name__} needs a `type` name to be registered")
    taken = _PREDICATES.get(type_name)
    if taken is not None and taken is not predicate_class:
        raise ValueError(f"segment predicate type {type_name!r} is already registered by {taken.__qualname__}")
    _PREDICATES[type_name] = predicate_class
    return predicate_class


def unregister(type_name: str) -> None:
    """Forget a predicate (tests that register throwaway ones)."""
    _PREDICATES.pop(type_name, None)


def get(type_name: str) -> type | None:
    return _PREDICATES.get(type_name)


def all_predicates() -> dict[str, type]:
    return dict(sorted(_PREDICATES.items()))
