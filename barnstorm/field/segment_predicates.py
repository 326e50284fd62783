"""Segment conditions from the field: who answered a question with a response."""

from __future__ import annotations

from django.db.models import Q

from barnstorm.field.models import Answer, Step
from barnstorm.segments.engine import CompileContext, Integer, Predicate, Text
from barnstorm.segments.predicates import person_in
from barnstorm.segments.registry import register


@register
class Answered(Predicate):
    """Answered a question (any response, or the one given) on any call, text or door."""

    type = "answered"
    label = "Answered a question"
    params = {
        "question": Integer(required=True, help="the question's id"),
        "response": Text(help="the answer's label, e.g. Strong support; leave out for any answer"),
    }
    example = {"type": "answered", "question": 3, "response": "Strong support"}

    def check(self, context: CompileContext) -> list[tuple[str, str]]:
        step = Step.objects.filter(pk=self["question"]).exclude(kind="text").first()
        if step is None:
            return [("question", f"there is no question {self['question']}")]
        response = self["response"]
        if response and step.kind != "free" and not step.choices.filter(label__iexact=response).exists():
            labels = ", ".join(step.choices.values_list("label", flat=True))
            return [("response", f"“{response}” is not an answer to “{step}” (answers: {labels})")]
        return []

    def q(self, context: CompileContext) -> Q:
        answers = Answer.objects.filter(step_id=self["question"])
        response = self["response"]
        if response:
            answers = answers.filter(Q(choice__label__iexact=response) | Q(choice__isnull=True, text__iexact=response))
        return person_in(answers)
