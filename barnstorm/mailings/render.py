"""Turning a mailing into one person's message.

The mailing's subject and bodies are Django templates, compiled once per batch (`Compiled`) and
rendered per recipient with a small, safe context: the person's own fields as plain values, their
nearest upcoming event, a suggested amount, their next step up the ladder. Every literal link is
replaced at compile time by its tracked address, so per message only the token changes; the
footer (postal address, unsubscribe, preferences) and the open pixel are added to every message.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db.models import Max
from django.template import Context, Template, TemplateSyntaxError
from django.utils.html import strip_tags

from barnstorm.mailings.mime import MailingMessage
from barnstorm.mailings.models import Mailing
from barnstorm.mailings.tracking import Urls

HREF = re.compile(r"""href=(["'])(https?://[^"'{}\s]+)\1""", re.IGNORECASE)
BARE_URL = re.compile(r"""(?<![\w"'=/])(https?://[^\s<>"'{}]+[^\s<>"'{}.,;:!?)])""")
ANCHOR = re.compile(r"""<a\s[^>]*href=(["'])(.*?)\1[^>]*>(.*?)</a>""", re.IGNORECASE | re.DOTALL)
BLOCK_END = re.compile(r"</(p|div|h[1-6]|li|tr)>|<br\s*/?>", re.IGNORECASE)

FOOTER_HTML = """
<div style="font-size:12px;color:#666;margin-top:2em;border-top:1px solid #ddd;padding-top:1em">
{{ organization_address }}<br>
<a href="{{ unsubscribe_url }}">Unsubscribe</a> &middot; <a href="{{ preferences_url }}">Email preferences</a>
</div>{% if open_url %}<img src="{{ open_url }}" width="1" height="1" alt="">{% endif %}"""
FOOTER_TEXT = """

--
{{ organization_address }}
Unsubscribe: {{ unsubscribe_url }}
Email preferences: {{ preferences_url }}
"""

SAMPLE_PERSON = {
    "given_name": "Alex",
    "family_name": "Rivera",
    "city": "Des Moines",
    "state": "IA",
    "zip_code": "50309",
}


def html_to_text(source: str) -> str:
    """A readable plain-text part from an HTML body: links as 'label (url)', one block a line."""
    text = ANCHOR.sub(lambda m: f"{strip_tags(m.group(3)).strip()} ({m.group(2)})", source)
    text = BLOCK_END.sub("\n", text)
    text = html_lib.unescape(strip_tags(text))
    lines = [line.strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def links_in(mailing: Mailing) -> list[str]:
    """Every literal link of the mailing, in order of first appearance: what clicks may lead to."""
    found: list[str] = []
    for match in HREF.finditer(mailing.html_body):
        found.append(match.group(2))
    found.extend(BARE_URL.findall(mailing.text_body or ""))
    return list(dict.fromkeys(found))


def with_refcode(url: str, refcode: str) -> str:
    """`url` with ?refcode= added when it is a Barnstorm page that has none yet."""
    if not refcode or not url.startswith(settings.SITE_URL):
        return url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "refcode" for key, _ in query):
        return url
    return urlunsplit(parts._replace(query=urlencode([*query, ("refcode", refcode)])))


def _check(source: str, label: str) -> Template:
    try:
        return Template(source)
    except TemplateSyntaxError as e:
        raise TemplateSyntaxError(f"{label}: {e}") from e


def template_errors(*, subjects: list[str], html_body: str, text_body: str) -> dict[str, str]:
    """What is wrong with a mailing's templates, by field (for the compose form)."""
    errors = {}
    for field, source in [
        *((f"subject_{i}", s) for i, s in enumerate(subjects)),
        ("html_body", html_body),
        ("text_body", text_body),
    ]:
        try:
            Template(source)
        except TemplateSyntaxError as e:
            errors[field] = str(e)
    return errors


def uses(source: str, name: str) -> bool:
    """Whether a template refers to the variable `name` (in a {{ }} or {% %}), not just the word."""
    return re.search(r"\{[{%][^}]*?(?<![\w.])" + re.escape(name) + r"\b", source) is not None


@dataclass
class Recipient:
    delivery_id: int
    person_id: int
    address: str
    variant: int
    person: dict
    extras: dict


class Compiled:
    """A mailing's templates, ready to render for many recipients.

    `links` are the mailing's Link urls by index; with `track=False` (previews, test sends) links
    go straight to their destination, with the refcode added, and no pixel is included.
    """

    def __init__(self, mailing: Mailing, *, links: list[str] | None = None, track: bool = True):
        self.mailing = mailing
        self.track = track
        self.from_email = f"{mailing.from_name} <{mailing.from_address}>"
        self.reply_to = [mailing.reply_to] if mailing.reply_to else []
        link_index = {url: i for i, url in enumerate(links or [])}
        refcode = mailing.refcode

        def href(match):
            url = match.group(2)
            quote = match.group(1)
            if track and url in link_index:
                return f"href={quote}{{{{ click_prefix }}}}{link_index[url]}/{quote}"
            return f"href={quote}{with_refcode(url, refcode)}{quote}"

        def bare(match):
            url = match.group(1)
            if track and url in link_index:
                return f"{{{{ click_prefix }}}}{link_index[url]}/"
            return with_refcode(url, refcode)

        html_source = HREF.sub(href, mailing.html_body)
        if re.search(r"</body>", html_source, re.IGNORECASE):
            html_source = re.sub(r"</body>", lambda m: FOOTER_HTML + m.group(0), html_source, count=1, flags=re.I)
        else:
            html_source += FOOTER_HTML
        text_source = BARE_URL.sub(bare, mailing.text_body or html_to_text(mailing.html_body))
        self.html = _check(html_source, "HTML body")
        self.text = _check("{% autoescape off %}" + text_source + FOOTER_TEXT + "{% endautoescape %}", "Text body")
        self.subjects = {
            v.index: _check("{% autoescape off %}" + v.subject + "{% endautoescape %}", f"Subject {v.letter}")
            for v in mailing.variants.all()
        }
        sources = mailing.html_body + (mailing.text_body or "") + "".join(v.subject for v in mailing.variants.all())
        self.needs_next_step = uses(sources, "next_step")
        self.needs_event = uses(sources, "event")
        self.needs_amount = uses(sources, "suggested_amount")
        self.events_by_zip: dict[str, dict | None] = {}  # nearest event per ZIP, for the whole batch
        self.organization_address = settings.ORGANIZATION_ADDRESS

    def context(self, recipient: Recipient, urls: Urls | None = None) -> dict:
        context = {
            "person": recipient.person,
            "organization_address": self.organization_address,
            "suggested_amount": settings.MAILING_DEFAULT_AMOUNT,
            **recipient.extras,
        }
        if self.track and recipient.delivery_id:
            urls = urls or Urls(recipient.delivery_id)
            context.update(
                click_prefix=urls.click_prefix,
                open_url=urls.open,
                unsubscribe_url=urls.unsubscribe,
                preferences_url=urls.preferences,
            )
        else:
            context.update(unsubscribe_url="#", preferences_url="#", open_url="")
        return context

    def render(self, recipient: Recipient, urls: Urls | None = None) -> tuple[str, str, str]:
        context = Context(self.context(recipient, urls))
        subject = " ".join(self.subjects[recipient.variant].render(context).split())
        return subject, self.text.render(context), self.html.render(context)

    def message(self, recipient: Recipient, *, connection=None, subject_prefix: str = "") -> MailingMessage:
        urls = Urls(recipient.delivery_id) if self.track and recipient.delivery_id else None
        subject, text, html = self.render(recipient, urls)
        headers = {}
        if urls is not None:
            unsubscribe = urls.unsubscribe
            # RFC 8058: mail programs offer a one-click unsubscribe that POSTs to this address.
            headers = {
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "X-Barnstorm-Delivery": str(recipient.delivery_id),
            }
        message = MailingMessage(
            subject_prefix + subject,
            text,
            self.from_email,
            [recipient.address],
            reply_to=self.reply_to,
            headers=headers,
            connection=connection,
        )
        message.attach_alternative(html, "text/html")
        return message


# Per-batch personalisation: one query per batch, never one per recipient ---------------------


def recipients_for(compiled: Compiled, rows: list[tuple]) -> list[Recipient]:
    """Recipients with everything their templates use, for rows of
    (delivery id, person id, address, variant): the send and the preview both start here."""
    person_ids = [row[1] for row in rows]
    people = people_fields(person_ids)
    amounts = suggested_amounts(person_ids) if compiled.needs_amount else {}
    steps = next_steps(person_ids) if compiled.needs_next_step else {}
    events = nearest_events(people, compiled.events_by_zip) if compiled.needs_event else {}
    recipients = []
    for delivery_id, person_id, address, variant in rows:
        extras = {}
        if person_id in amounts:
            extras["suggested_amount"] = amounts[person_id]
        if compiled.needs_next_step:
            extras["next_step"] = steps.get(person_id)
        if compiled.needs_event:
            extras["event"] = events.get(person_id)
        person = {**people.get(person_id, {}), "email": address}
        recipients.append(Recipient(delivery_id, person_id, address, variant or 0, person, extras))
    return recipients


def people_fields(person_ids: list[int]) -> dict[int, dict]:
    """The plain fields templates may use, for many people at once."""
    from barnstorm.people.models import Person, PostalAddress

    people = {
        pk: {"given_name": given, "family_name": family, "full_name": " ".join(p for p in (given, family) if p)}
        for pk, given, family in Person.objects.filter(pk__in=person_ids).values_list("pk", "given_name", "family_name")
    }
    addresses = PostalAddress.objects.filter(person_id__in=person_ids, is_primary=True).values_list(
        "person_id", "city", "state", "zip_code"
    )
    for person_id, city, state, zip_code in addresses:
        if person_id in people:
            people[person_id].update(city=city, state=state, zip_code=zip_code)
    return people


def suggested_amounts(person_ids: list[int]) -> dict[int, int]:
    """A next ask in whole dollars: a step above the largest gift so far (the default for others)."""
    from barnstorm.donations.models import Contribution

    largest = (
        Contribution.objects.filter(person_id__in=person_ids)
        .values("person_id")
        .annotate(largest=Max("amount_cents"))
        .values_list("person_id", "largest")
    )
    return {person_id: _ask_above(cents) for person_id, cents in largest}


ASK_STEPS = (10, 15, 20, 27, 35, 50, 75, 100, 150, 250, 500, 1000)


def _ask_above(cents: int) -> int:
    dollars = cents / 100
    for step in ASK_STEPS:
        if step > dollars:
            return step
    return ASK_STEPS[-1]


def next_steps(person_ids: list[int]) -> dict[int, dict]:
    """Each person's next step up the ladder (segments.measures.next_steps_for): a few queries a
    batch, and one event search per ZIP among those asked to an event."""
    from barnstorm.segments.measures import next_steps_for

    steps = {}
    for person_id, ask in next_steps_for(person_ids).items():
        url = ask.url if ask.url.startswith("http") else settings.SITE_URL + ask.url
        steps[person_id] = {"title": ask.title, "reason": ask.reason, "url": url}
    return steps


def nearest_events(people: dict[int, dict], by_zip: dict[str, dict | None] | None = None) -> dict[int, dict]:
    """The nearest upcoming public event to each person's ZIP: one search per ZIP, not per person
    (`by_zip` carries the answers from one chunk of a batch to the next)."""
    from django.urls import reverse
    from django.utils import timezone

    from barnstorm.events.selectors import events_search, place_for_zip

    now = timezone.now()
    by_zip = {} if by_zip is None else by_zip
    found = {}
    for person_id, fields in people.items():
        zip_code = fields.get("zip_code") or ""
        if zip_code not in by_zip:
            place = place_for_zip(zip_code) if zip_code else None
            events = events_search(place=place, date_from=now, limit=1) if place else []
            by_zip[zip_code] = (
                {
                    "title": events[0].title,
                    "url": settings.SITE_URL + reverse("events:detail", args=[events[0].pk]),
                    "starts_at": events[0].starts_at,
                    "city": events[0].city,
                }
                if events
                else None
            )
        found[person_id] = by_zip[zip_code]
    return found
