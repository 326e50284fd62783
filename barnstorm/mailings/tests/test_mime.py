"""The directly built message reads the same as the one Python's email package builds."""

from email import message_from_bytes, policy

import pytest
from django.core.mail import EmailMultiAlternatives

from barnstorm.mailings.mime import MailingMessage

CASES = [
    ("Hello Ann", "Hi Ann,\nGive today: http://x.test/d/\n", "<p>Hi Ann</p>", "Team <team@barnstorm.test>"),
    (
        "¡Hola, José! — 27 $",
        "Línea uno\n.leading dot\n" + "x" * 200 + "\n",
        "<p>José — ünïcode</p>",
        "Équipe <t@b.test>",
    ),
]


def _parse(message) -> object:
    return message_from_bytes(message.message().as_bytes(linesep="\r\n"), policy=policy.default)


@pytest.mark.parametrize(("subject", "text", "html", "from_email"), CASES)
def test_it_parses_like_djangos_message(subject, text, html, from_email):
    headers = {"List-Unsubscribe": "<http://x.test/m/u/1-abc/>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    args = (subject, text, from_email, ["ann@example.com"])
    ours = MailingMessage(*args, reply_to=["reply@b.test"], headers=headers)
    theirs = EmailMultiAlternatives(*args, reply_to=["reply@b.test"], headers=headers)
    for message in (ours, theirs):
        message.attach_alternative(html, "text/html")

    a, b = _parse(ours), _parse(theirs)

    for name in ("Subject", "From", "To", "Reply-To", "List-Unsubscribe", "List-Unsubscribe-Post", "MIME-Version"):
        assert str(a[name]) == str(b[name]), name
    assert a.get_content_type() == "multipart/alternative"
    assert a.get_body(("plain",)).get_content() == b.get_body(("plain",)).get_content()
    assert a.get_body(("html",)).get_content() == b.get_body(("html",)).get_content()
    assert a["Message-ID"] and a["Date"]


def test_every_line_is_short_and_ends_in_crlf():
    message = MailingMessage("s", "word " * 400, "t@b.test", ["a@b.test"])
    message.attach_alternative("<p>" + "word " * 400 + "</p>", "text/html")
    data = message.message().as_bytes(linesep="\r\n")
    lines = data.split(b"\r\n")
    assert max(len(line) for line in lines) <= 78
    assert b"\n" not in data.replace(b"\r\n", b"")
