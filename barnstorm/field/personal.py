"""An organizer's words filled in for one contact: script steps, first texts, canned responses.

One template engine with no loaders and no tag libraries (a script can't include a file or load
tags) and a context of names as plain strings, so what a volunteer reads, says or sends is the
same everywhere: the caller page, the walk list and the texts.
"""

from __future__ import annotations

from django.template import Context, Engine, Template, TemplateDoesNotExist, TemplateSyntaxError

ENGINE = Engine(loaders=[], libraries={}, autoescape=False)


class PersonalTextError(ValueError):
    """The organizer's text has a mistake (bad syntax, or a tag this engine doesn't allow)."""


def volunteer_name(user) -> str:
    person = getattr(user, "person", None)
    return (person.given_name if person else "") or getattr(user, "first_name", "") or user.get_username()


def personal_context(*, person, volunteer) -> dict:
    """Names only, as plain strings: `person` may be None (a walk list's intro has no one yet)."""
    return {
        "person": {
            "given_name": person.given_name if person else "",
            "family_name": person.family_name if person else "",
        },
        "volunteer": {"given_name": volunteer_name(volunteer)},
    }


def personal_text(source: str, context: dict) -> str:
    """`source` filled in with `context`, as plain text (to be escaped where it is shown).
    Raises PersonalTextError on a mistake in the text."""
    if "{" not in source:
        return source
    try:
        rendered = Template(source, engine=ENGINE).render(Context(context, autoescape=False))
    except (TemplateSyntaxError, TemplateDoesNotExist) as exc:
        raise PersonalTextError(str(exc)) from exc
    # render() marks its output safe; this is text with names in it.
    return str.__str__(rendered)


def personal_text_error(source: str) -> str:
    """What is wrong with an organizer's text, or "" (checked when a campaign is saved)."""
    try:
        Template(source or "", engine=ENGINE)
    except (TemplateSyntaxError, TemplateDoesNotExist) as exc:
        return str(exc)
    return ""
