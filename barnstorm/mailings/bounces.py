"""Bounces and spam complaints that come back by mail, for sending over plain SMTP.

The bounce address (the envelope sender of every mailing) delivers to a Maildir or an mbox file;
`barnstorm mail_bounces PATH` reads it. Two kinds of message are understood:

- delivery status notifications (RFC 3464: multipart/report; report-type=delivery-status). Each
  recipient block with "Action: failed" and a permanent status (5.x.x) is a bounce; delays and
  temporary failures (4.x.x) are left to the sending server, which keeps trying.
- feedback reports (RFC 5965 ARF: multipart/report; report-type=feedback-report), sent by mailbox
  providers' feedback loops when someone presses "this is spam": a complaint.

Both return the message we sent, or its headers, so X-Barnstorm-Delivery names the delivery.
Everything is recorded through services.email_event_record, which changes nothing the second time:
reading the same report twice (an mbox is never emptied here) changes nothing more.
"""

from __future__ import annotations

import email
import mailbox
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from pathlib import Path

from django.db import transaction

from barnstorm.mailings import services
from barnstorm.mailings.models import Delivery

DELIVERY_HEADER = "X-Barnstorm-Delivery"
# ARF feedback types that are a person's complaint; "not-spam", "virus" and "auth-failure" are not.
COMPLAINT_TYPES = {"abuse", "fraud", "other"}


@dataclass
class Report:
    """What one returned message says. kind: bounced, complained, ignored (a report of nothing
    lasting, e.g. a delay) or unknown (not a report at all: an autoreply, a person writing back)."""

    kind: str
    addresses: list[str] = field(default_factory=list)
    delivery_id: int | None = None


@dataclass
class Summary:
    """Messages by what they were; `stopped` counts addresses this run newly stopped mailing."""

    read: int = 0
    bounces: int = 0
    complaints: int = 0
    ignored: int = 0
    left: int = 0  # not reports at all: kept in the mailbox for a person to read
    stopped: int = 0

    def __str__(self) -> str:
        return (
            f"Read {self.read} message(s): {self.bounces} bounce(s), {self.complaints} complaint(s), "
            f"{self.ignored} ignored ({self.left} left in the mailbox: not a delivery or feedback report). "
            f"{self.stopped} address(es) newly stopped."
        )


# Reading one message ------------------------------------------------------------------------


def report_parse(message: Message) -> Report:
    if message.get_content_type() != "multipart/report":
        return Report("unknown")
    report_type = (message.get_param("report-type") or "").lower()
    parts = list(message.walk())
    delivery_id = _delivery_id(parts)
    if report_type == "delivery-status":
        return _dsn(parts, delivery_id)
    if report_type == "feedback-report":
        return _arf(parts, delivery_id)
    return Report("unknown")


def _dsn(parts: list[Message], delivery_id: int | None) -> Report:
    status = next((p for p in parts if p.get_content_type() == "message/delivery-status"), None)
    if status is None or not status.is_multipart():
        return Report("unknown")  # malformed: left in the mailbox for a person rather than lost
    # The email package parses a delivery-status body into one header block per Message: the
    # per-message fields first, then one block per recipient.
    failed = []
    for block in status.get_payload():
        if not isinstance(block, Message) or (block.get("Action") or "").strip().lower() != "failed":
            continue
        if (block.get("Status") or "").strip().startswith("5."):
            address = _address(block.get("Original-Recipient")) or _address(block.get("Final-Recipient"))
            if address:
                failed.append(address)
    if not failed:
        return Report("ignored", delivery_id=delivery_id)
    return Report("bounced", failed, delivery_id)


def _arf(parts: list[Message], delivery_id: int | None) -> Report:
    feedback = next((p for p in parts if p.get_content_type() == "message/feedback-report"), None)
    if feedback is None or not feedback.is_multipart():
        return Report("unknown")
    # Parsed like an attached message: the report's fields are the headers of its one part.
    fields = feedback.get_payload(0)
    if (fields.get("Feedback-Type") or "abuse").strip().lower() not in COMPLAINT_TYPES:
        return Report("ignored", delivery_id=delivery_id)
    address = _address(fields.get("Original-Rcpt-To"))
    if not address:
        returned = _returned_headers(parts)
        address = _address(returned.get("To")) if returned is not None else ""
    if not address and delivery_id is None:
        return Report("ignored")  # redacted by the provider, and our header stripped: nobody to name
    return Report("complained", [address] if address else [], delivery_id)


def _address(value: str | None) -> str:
    """The address of a recipient field: "rfc822; ann@example.com" or "<ann@example.com>"."""
    if not value:
        return ""
    kind, _, rest = str(value).partition(";")
    if rest and kind.strip().lower() != "rfc822":
        return ""
    _name, address = parseaddr((rest or kind).strip())
    return address.strip().lower() if "@" in address else ""


def _returned_headers(parts: list[Message]) -> Message | None:
    """The headers of the message we sent, as the report returns them (whole, or headers only)."""
    for part in parts:
        kind = part.get_content_type()
        if kind == "message/rfc822" and part.is_multipart():
            return part.get_payload(0)
        if kind == "text/rfc822-headers":
            return BytesHeaderParser().parsebytes(part.get_payload(decode=True) or b"")
    return None


def _delivery_id(parts: list[Message]) -> int | None:
    returned = _returned_headers(parts)
    value = str(returned.get(DELIVERY_HEADER) or "").strip() if returned is not None else ""
    return int(value) if value.isascii() and value.isdecimal() else None


# Recording ---------------------------------------------------------------------------------


def report_record(*, report: Report) -> int:
    """Record a bounce or complaint; returns how many addresses it newly stopped (0 or more)."""
    if report.kind not in ("bounced", "complained"):
        return 0
    stamp = "bounced_at" if report.kind == "bounced" else "complained_at"
    delivery = (
        Delivery.objects.filter(pk=report.delivery_id).values("address", stamp).first()
        if report.delivery_id is not None
        else None
    )
    if delivery is not None:
        if delivery[stamp] is not None:
            # Recorded before (an earlier run over the same mbox, or the provider's webhook): an
            # address an organizer has put back since must not be stopped again by an old report.
            return 0
        # One recipient per message: the delivery's address is the one that failed. The report's
        # Final-Recipient can be where that address forwards to, which we never wrote to.
        return services.email_event_record(
            address=delivery["address"], event=report.kind, delivery_id=report.delivery_id
        )
    with transaction.atomic():
        return sum(services.email_event_record(address=address, event=report.kind) for address in report.addresses)


# A whole mailbox ----------------------------------------------------------------------------


def bounce_mailbox_process(*, path: str | Path) -> Summary:
    """Read every message of a Maildir (reports are removed once recorded) or an mbox file (left
    as it is: our mail server's delivery agent may be appending to it; a second run is harmless)."""
    path = Path(path)
    if path.is_dir():
        box: mailbox.Mailbox = mailbox.Maildir(path, factory=None, create=False)
        removes = True
    elif path.is_file():
        box = mailbox.mbox(path, factory=None, create=False)
        removes = False
    else:
        raise FileNotFoundError(f"No Maildir or mbox file at {path}")
    summary = Summary()
    # Maildir names begin with the delivery time: sorted, reports are recorded in the order they came.
    for key in sorted(box.keys()):
        try:
            raw = box.get_bytes(key)
        except KeyError:
            continue  # taken by another run meanwhile
        summary.read += 1
        report = report_parse(email.message_from_bytes(raw))
        summary.stopped += report_record(report=report)
        if report.kind == "bounced":
            summary.bounces += 1
        elif report.kind == "complained":
            summary.complaints += 1
        else:
            summary.ignored += 1
        if report.kind == "unknown":
            summary.left += 1
        elif removes:
            box.discard(key)  # only after recording: a crash in between means reading it again
    return summary
