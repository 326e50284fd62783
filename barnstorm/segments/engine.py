"""The segment query engine: JSON of and / or / not over predicates → one SQL statement over people.

    {"and": [{"type": "has_tag", "tag": "volunteer"},
             {"not": {"type": "donated", "days": 90}}]}

Each predicate is a small class (registered in `registry`) that declares its parameters and
returns a `Q` over Person built from subqueries (`pk__in` a subquery of another table), so that
the whole query, however nested, is one statement that the database plans as a whole: nothing
is filtered in Python and no list of ids is loaded. The JSON form is documented in
docs/segments.md.

Validation walks the whole query and reports every problem with the path of the bad part,
as in `and[2].days: must be a positive whole number`.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db.models import Q, QuerySet
from django.utils import timezone

from barnstorm.people.models import Person
from barnstorm.segments import registry

COMBINATORS = ("and", "or", "not")
# Everyone (an empty `and`) as a condition, not as an empty Q: an empty Q vanishes inside an `or`.
EVERYONE = Q(pk__isnull=False)


class QueryError(ValueError):
    """A segment query that cannot be compiled; `errors` name each bad part."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


class ParamError(ValueError):
    pass


# Parameters --------------------------------------------------------------------------------------


class Param:
    """One parameter of a predicate: whether it is required and how its JSON value is checked."""

    kind = "value"

    def __init__(self, *, required: bool = False, default: Any = None, help: str = ""):
        self.required = required
        self.default = default
        self.help = help

    def clean(self, value: Any) -> Any:
        return value


class Integer(Param):
    kind = "whole number"

    def __init__(self, *, minimum: int = 1, maximum: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.minimum, self.maximum = minimum, maximum

    def clean(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ParamError(self._message())
        if value < self.minimum or (self.maximum is not None and value > self.maximum):
            raise ParamError(self._message())
        return value

    def _message(self) -> str:
        if self.maximum is not None:
            return f"must be a whole number from {self.minimum} to {self.maximum}"
        if self.minimum == 1:
            return "must be a positive whole number"
        if self.minimum == 0:
            return "must be a whole number, 0 or more"
        return f"must be a whole number, {self.minimum} or more"


class Number(Param):
    kind = "number"

    def __init__(self, *, maximum: float | None = None, **kwargs):
        super().__init__(**kwargs)
        self.maximum = maximum

    def clean(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ParamError("must be a positive number")
        if self.maximum is not None and value > self.maximum:
            raise ParamError(f"must be at most {self.maximum:g}")
        return float(value)


class Text(Param):
    kind = "text"

    def __init__(self, *, max_length: int = 200, pattern: str | None = None, pattern_help: str = "", **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.pattern = re.compile(pattern) if pattern else None
        self.pattern_help = pattern_help

    def clean(self, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ParamError("must be non-empty text")
        value = value.strip()
        if self.pattern and not self.pattern.fullmatch(value):
            raise ParamError(self.pattern_help or "is not in the expected form")
        if len(value) > self.max_length:
            raise ParamError(f"must be at most {self.max_length} characters")
        return value


class TextList(Text):
    """One text value or a non-empty list of them; cleaned to a list."""

    kind = "text or list of text"

    def clean(self, value: Any) -> list[str]:
        values = value if isinstance(value, list) else [value]
        if not values:
            raise ParamError("must be text or a non-empty list of text")
        cleaned = []
        for i, item in enumerate(values):
            try:
                cleaned.append(super().clean(item))
            except ParamError as e:
                raise ParamError(f"{e}" if not isinstance(value, list) else f"item {i} {e}") from None
        return cleaned


class Choice(Param):
    kind = "choice"

    def __init__(self, choices: Callable[[], list[str]] | list[str], **kwargs):
        super().__init__(**kwargs)
        self._choices = choices

    @property
    def choices(self) -> list[str]:
        return list(self._choices() if callable(self._choices) else self._choices)

    def clean(self, value: Any) -> str:
        choices = self.choices
        if value not in choices:
            raise ParamError(f"must be one of {', '.join(choices)}")
        return value


class Date(Param):
    kind = "date (YYYY-MM-DD)"

    def clean(self, value: Any) -> datetime.date:
        try:
            return datetime.date.fromisoformat(value) if isinstance(value, str) else _raise()
        except (ValueError, TypeError):
            raise ParamError("must be a date written YYYY-MM-DD") from None


class Boolean(Param):
    kind = "true or false"

    def clean(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ParamError("must be true or false")
        return value


class Reference(Param):
    """A row named by its id (a whole number) or, where the model has one, its name or slug."""

    kind = "id or name"

    def __init__(self, *, by_name: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.by_name = by_name

    def clean(self, value: Any) -> int | str:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        if self.by_name and isinstance(value, str) and value.strip():
            return value.strip()
        raise ParamError("must be an id (a positive whole number) or a name" if self.by_name else "must be an id")


class Scalar(Param):
    """Text, a number or true/false: a value stored in a JSON field."""

    kind = "text, number or true/false"

    def clean(self, value: Any) -> str | int | float | bool:
        if not isinstance(value, str | int | float | bool):
            raise ParamError("must be text, a number or true/false")
        return value


def _raise():
    raise ValueError


# Windows of time ---------------------------------------------------------------------------------

WINDOW_PARAMS = {
    "days": Integer(help="only the last N days"),
    "since": Date(help="from this day (inclusive)"),
    "until": Date(help="up to this day (inclusive)"),
}


def window_check(values: dict) -> list[tuple[str, str]]:
    if values.get("days") is not None and (values.get("since") is not None or values.get("until") is not None):
        return [("days", "give either days or since/until, not both")]
    since, until = values.get("since"), values.get("until")
    if since is not None and until is not None and until < since:
        return [("until", "must not be before since")]
    return []


def window_lookups(field_name: str, values: dict, now: datetime.datetime) -> dict:
    """Filter kwargs for `field_name` inside the window in `values` (none: all time).

    Days are the campaign's days (settings.TIME_ZONE): `until` includes the whole of its day.
    """
    lookups = {}
    if values.get("days") is not None:
        lookups[f"{field_name}__gte"] = now - datetime.timedelta(days=values["days"])
    if values.get("since") is not None:
        lookups[f"{field_name}__gte"] = _day_start(values["since"])
    if values.get("until") is not None:
        lookups[f"{field_name}__lt"] = _day_start(values["until"] + datetime.timedelta(days=1))
    return lookups


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()), timezone.get_default_timezone())


# Predicates --------------------------------------------------------------------------------------


@dataclass
class CompileContext:
    """What compiling one query shares: one `now` for every window, and the saved segments being expanded."""

    now: datetime.datetime = field(default_factory=timezone.now)
    segment_stack: tuple[int, ...] = ()


class Predicate:
    """A condition on people. Subclasses set `type`, `label`, `params`, `example` and write `q()`."""

    type: ClassVar[str] = ""
    label: ClassVar[str] = ""
    params: ClassVar[dict[str, Param]] = {}
    example: ClassVar[dict] = {}

    def __init__(self, values: dict):
        self.values = values

    def check(self, context: CompileContext) -> list[tuple[str, str]]:
        """Checks across parameters, or against the database: (param, message) pairs."""
        return []

    def q(self, context: CompileContext) -> Q:
        raise NotImplementedError

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)


class WindowPredicate(Predicate):
    """A predicate over dated rows, limited by `days` or `since` / `until`."""

    def check(self, context: CompileContext) -> list[tuple[str, str]]:
        return window_check(self.values)

    def window(self, field_name: str, context: CompileContext) -> dict:
        return window_lookups(field_name, self.values, context.now)


# Parsing -----------------------------------------------------------------------------------------


class Node:
    def q(self, context: CompileContext) -> Q:
        raise NotImplementedError


@dataclass
class And(Node):
    children: list[Node]

    def q(self, context: CompileContext) -> Q:
        if not self.children:
            return EVERYONE
        result = Q()
        for child in self.children:
            result &= child.q(context)
        return result


@dataclass
class Or(Node):
    children: list[Node]

    def q(self, context: CompileContext) -> Q:
        result = Q()
        for child in self.children:
            result |= child.q(context)
        return result


@dataclass
class Not(Node):
    child: Node

    def q(self, context: CompileContext) -> Q:
        return ~self.child.q(context)


@dataclass
class Leaf(Node):
    predicate: Predicate

    def q(self, context: CompileContext) -> Q:
        return self.predicate.q(context)


def _join(path: str, part: str) -> str:
    if not path:
        return part
    return f"{path}{part}" if part.startswith("[") else f"{path}.{part}"


def _parse(raw: Any, path: str, errors: list[str], context: CompileContext) -> Node | None:
    where = path or "query"
    if not isinstance(raw, dict):
        errors.append(f"{where}: must be an object with one of and, or, not or type")
        return None
    keys = [k for k in COMBINATORS if k in raw]
    if len(keys) > 1 or (keys and "type" in raw):
        errors.append(f"{where}: give one of and, or, not or type, not several ({', '.join(sorted(raw))})")
        return None
    if keys:
        key = keys[0]
        extra = sorted(set(raw) - {key})
        if extra:
            errors.append(f"{_join(path, extra[0])}: unknown key beside {key}")
        if key == "not":
            child = _parse(raw["not"], _join(path, "not"), errors, context)
            return Not(child) if child else None
        items = raw[key]
        if not isinstance(items, list) or (key == "or" and not items):
            errors.append(f"{_join(path, key)}: must be a {'non-empty ' if key == 'or' else ''}list of conditions")
            return None
        children = [_parse(item, _join(path, f"{key}[{i}]"), errors, context) for i, item in enumerate(items)]
        if any(c is None for c in children):
            return None
        return And(children) if key == "and" else Or(children)
    if "type" not in raw:
        errors.append(f"{where}: must have one of and, or, not or type")
        return None
    return _parse_predicate(raw, path, errors, context)


def _parse_predicate(raw: dict, path: str, errors: list[str], context: CompileContext) -> Leaf | None:
    type_name = raw["type"]
    predicate_class = registry.get(type_name) if isinstance(type_name, str) else None
    if predicate_class is None:
        known = ", ".join(registry.all_predicates())
        errors.append(f"{_join(path, 'type')}: unknown predicate {type_name!r} (known: {known})")
        return None
    before = len(errors)
    values: dict[str, Any] = {}
    for name in sorted(set(raw) - {"type"} - set(predicate_class.params)):
        takes = ", ".join(predicate_class.params) or "no parameters"
        errors.append(f"{_join(path, name)}: unknown parameter ({type_name} takes {takes})")
    for name, param in predicate_class.params.items():
        value = raw.get(name)
        if value is None:
            if param.required:
                errors.append(f"{_join(path, name)}: is required")
            values[name] = param.default
            continue
        try:
            values[name] = param.clean(value)
        except ParamError as e:
            errors.append(f"{_join(path, name)}: {e}")
    if len(errors) > before:
        return None
    predicate = predicate_class(values)
    problems = predicate.check(context)
    errors.extend(f"{_join(path, name)}: {message}" for name, message in problems)
    return Leaf(predicate) if not problems else None


def parse(query: Any, context: CompileContext | None = None) -> Node:
    """The query as a tree of checked predicates; QueryError naming every bad part otherwise."""
    errors: list[str] = []
    node = _parse(query, "", errors, context or CompileContext())
    if errors or node is None:
        raise QueryError(errors or ["query: is not a segment query"])
    return node


# The public API ----------------------------------------------------------------------------------


def validate(query: Any, *, segment_id: int | None = None) -> list[str]:
    """Every problem with `query`, each naming its part; [] when it compiles.

    `segment_id`: the saved segment this query is (or will be) the query of, so that a
    reference back to it is refused as a cycle.
    """
    try:
        parse(query, CompileContext(segment_stack=(segment_id,) if segment_id else ()))
    except QueryError as e:
        return e.errors
    return []


def compile(query: Any, *, now: datetime.datetime | None = None) -> Q:  # noqa: A001 - the engine's verb
    """The query as one `Q` over Person (subqueries only); QueryError if it is invalid."""
    context = CompileContext(now=now or timezone.now())
    return parse(query, context).q(context)


def people(query: Any, *, now: datetime.datetime | None = None) -> QuerySet[Person]:
    return Person.objects.filter(compile(query, now=now))


def count(query: Any, *, now: datetime.datetime | None = None) -> int:
    """How many people match: one SELECT COUNT(*) (plus reading any saved segment it refers to)."""
    return people(query, now=now).order_by().count()
