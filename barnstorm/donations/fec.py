"""The FEC electronic filing writer: Form 3 and Form 3P reports in .fec format 8.4.

Form 3 is the report of a House or Senate candidate's committee, Form 3P a presidential
candidate's. A filing here is the cover record with its summary page, every itemized individual
contribution on Schedule A (line 11(a)(i) of Form 3, 17(a)(i) of Form 3P) and every itemized refund
of one on Schedule B (line 20(a), 28(a)), with TEXT records for memos.

It works on plain dataclasses, not models: a selector turns the database into these, and the writer
can be tested (and its output checked against the FEC's published schemas) without a database.

Refunds are disbursements, not negative receipts. The FEC's instructions: a contribution that was
deposited and later paid back stays on Schedule A; the refund is a Schedule B entry on line 20(a)
(Form 3) or 28(a) (Form 3P), itemized when the original contribution was itemized, and its total
goes on that line of the summary. A negative Schedule A entry is only for a contribution that never
reached the bank (a bounced or returned check), on the line where it was first reported: that is
a `Receipt` with a negative amount, best with a memo saying why.

Field layouts: "FEC Electronic Filing Format Specifications" 8.4, as published in fecfile-validate's
JSON schemas (copies in shared/reference/fec-schemas) and the column maps of the `fecfile` parser.
"""

import hashlib
import importlib.metadata
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO, Literal

FEC_VERSION = "8.4"
SOFTWARE_NAME = "Barnstorm"

_FS = "\x1c"  # ASCII 28, the field separator of formats 6 and later
_EOL = "\r\n"
_COMMITTEE_ID = re.compile(r"C\d{8}")
_ELECTION_CODE = re.compile(r"[PGRSCEO]\d{4}")  # election type and year: P2026, G2026, O2026 ("other")
_WRITE_BATCH = 5_000  # lines per write(): few system calls, little memory


@dataclass(frozen=True)
class Committee:
    """The filer: a candidate's principal campaign committee."""

    fec_id: str  # C followed by eight digits
    name: str
    street_1: str
    city: str
    state: str
    zip_code: str
    treasurer_last_name: str
    treasurer_first_name: str
    candidate_office: Literal["H", "S", "P"]  # House and Senate file Form 3, President Form 3P
    candidate_state: str = ""  # H and S
    candidate_district: str = ""  # H: two digits, "00" for an at-large seat
    street_2: str = ""
    treasurer_middle_name: str = ""
    treasurer_prefix: str = ""
    treasurer_suffix: str = ""

    @property
    def form(self) -> Literal["F3", "F3P"]:
        return "F3P" if self.candidate_office == "P" else "F3"


@dataclass(frozen=True)
class Report:
    report_code: str  # Q1, Q2, Q3, YE, 12P, 12G, 30G, TER, M2 … (monthly: Form 3P only)
    coverage_from: date
    coverage_through: date
    date_signed: date
    amendment: bool = False
    original_report_id: str = ""  # an amendment's HDR names what it amends ("FEC-1234567"); optional
    # Pre- and post-election reports (12x, 30x) say which election they are for.
    election_code: str = ""
    election_date: date | None = None
    election_state: str = ""
    change_of_address: bool = False
    # Form 3P only: the boxes "activity in the primary / general election" on the cover page.
    primary_activity: bool = False
    general_activity: bool = False


@dataclass(frozen=True)
class Totals:
    """One column of the summary page, in integer cents.

    The writer derives every other line (totals, net contributions, cash on hand) from these; the
    lines Barnstorm has no data for (loans, transfers, party and PAC money, debts) are 0.00.
    """

    individual_itemized_cents: int  # the non-memo Schedule A entries, negative ones included
    individual_unitemized_cents: int
    individual_refunds_cents: int = 0  # all refunds of individual contributions, itemized or not
    operating_expenditures_cents: int = 0


@dataclass(frozen=True)
class Summary:
    period: Totals  # column A
    to_date: Totals  # column B: election cycle to date on Form 3, calendar year to date on Form 3P
    cash_on_hand_beginning_cents: int = 0


# Receipt and Refund are not frozen: a report can hold a million of them, and a frozen
# dataclass's __init__ is seven times slower (setattr through object for every field).
@dataclass(slots=True)
class Receipt:
    """An itemized contribution from an individual, one Schedule A line."""

    transaction_id: str  # unique within the committee for the life of the report; ≤ 20 characters
    last_name: str
    first_name: str
    street_1: str
    city: str
    state: str
    zip_code: str
    date_received: date
    amount_cents: int  # negative only for a contribution that never cleared (see the module doc)
    aggregate_cents: int  # the donor's total for this election, as of this contribution
    election_code: str  # P2026, G2026, …
    employer: str = ""  # required by the FEC once the aggregate exceeds $200
    occupation: str = ""
    middle_name: str = ""
    prefix: str = ""
    suffix: str = ""
    street_2: str = ""
    election_other_description: str = ""  # for election code O
    memo_text: str = ""  # written as a TEXT record linked to this line
    memo: bool = False  # a memo entry: shown for information, not counted in the totals


@dataclass(slots=True)
class Refund:
    """A refund of an individual's contribution, one Schedule B line."""

    transaction_id: str
    last_name: str
    first_name: str
    street_1: str
    city: str
    state: str
    zip_code: str
    date_refunded: date
    amount_cents: int
    election_code: str  # the election of the contribution being refunded
    purpose: str = "Refund of contribution"
    middle_name: str = ""
    prefix: str = ""
    suffix: str = ""
    street_2: str = ""
    election_other_description: str = ""
    memo_text: str = ""
    memo: bool = False


@dataclass(frozen=True)
class Filing:
    committee: Committee
    report: Report
    summary: Summary
    receipts: Iterable[Receipt]  # iterated once, so a generator over a database cursor will do
    refunds: Iterable[Refund] = ()


def fec_write(filing: Filing, out: BinaryIO) -> None:
    """Write `filing` as a .fec file to the binary file `out`, streaming its receipts and refunds.

    The summary comes before the itemizations in the file, so its totals are passed in (from SQL
    aggregates, or from a first pass with `schedule_total_cents`). The itemized lines must add up
    to them: if they do not (say a contribution arrived between the two queries) this raises
    ValueError after writing, and what was written must be thrown away.
    """
    batch: list[str] = []
    for line in _lines(filing):
        batch.append(line)
        if len(batch) == _WRITE_BATCH:
            out.write("".join(batch).encode("ascii"))
            batch.clear()
    out.write("".join(batch).encode("ascii"))


def schedule_total_cents(items: Iterable[Receipt] | Iterable[Refund]) -> int:
    """What itemized entries contribute to their summary line: memo entries do not count."""
    return sum(item.amount_cents for item in items if not item.memo)


def _lines(filing: Filing) -> Iterator[str]:
    committee, report = filing.committee, filing.report
    _check(committee, report)
    yield _record(_header(report))
    yield _record(_cover(filing))

    committee_id = committee.fec_id
    receipt_form = "SA17A" if committee.form == "F3P" else "SA11AI"
    itemized = 0
    for receipt in filing.receipts:
        yield _record(_receipt_fields(receipt, receipt_form, committee_id))
        if receipt.memo_text:
            yield _record(_text_fields(committee_id, receipt.transaction_id, receipt_form, receipt.memo_text))
        if not receipt.memo:
            itemized += receipt.amount_cents

    refund_form = "SB28A" if committee.form == "F3P" else "SB20A"
    refunded = 0
    for refund in filing.refunds:
        yield _record(_refund_fields(refund, refund_form, committee_id))
        if refund.memo_text:
            yield _record(_text_fields(committee_id, refund.transaction_id, refund_form, refund.memo_text))
        if not refund.memo:
            refunded += refund.amount_cents

    period = filing.summary.period
    if itemized != period.individual_itemized_cents:
        raise ValueError(
            f"Schedule A adds up to {_money(itemized)} but the summary says itemized individual "
            f"contributions were {_money(period.individual_itemized_cents)}"
        )
    # Refunds of contributions that were never itemized need not be itemized themselves.
    if refunded > period.individual_refunds_cents:
        raise ValueError(
            f"Schedule B refunds add up to {_money(refunded)}, more than the "
            f"{_money(period.individual_refunds_cents)} on the summary"
        )


def _check(committee: Committee, report: Report) -> None:
    if not _COMMITTEE_ID.fullmatch(committee.fec_id):
        raise ValueError(f"{committee.fec_id!r} is not a committee FEC id (C and eight digits)")
    if committee.candidate_office not in ("H", "S", "P"):
        raise ValueError(f"candidate office {committee.candidate_office!r} is not H, S or P")
    if committee.candidate_office == "H" and not re.fullmatch(r"\d\d", committee.candidate_district):
        raise ValueError("a House candidate's committee needs its two-digit district (00 at large)")
    if report.report_code[:2] in ("12", "30") and not (report.election_code and report.election_date):
        raise ValueError(f"a {report.report_code} report needs its election code and date")


def _header(report: Report) -> list[str]:
    return ["HDR", "FEC", FEC_VERSION, SOFTWARE_NAME, _software_version(), _text(report.original_report_id, 16), "", ""]


def _software_version() -> str:
    try:
        return importlib.metadata.version("barnstorm")[:16]
    except importlib.metadata.PackageNotFoundError:  # running from a bare checkout
        return "0"


def _cover(filing: Filing) -> list[str]:
    committee, report, summary = filing.committee, filing.report, filing.summary
    if committee.form == "F3P":
        # Form 3P has no candidate state and district; it has the two activity boxes there instead.
        form_type = "F3PA" if report.amendment else "F3PN"
        candidate = [_checkbox(report.primary_activity), _checkbox(report.general_activity)]
    else:
        form_type = "F3A" if report.amendment else "F3N"
        candidate = [_text(committee.candidate_state, 2).upper(), committee.candidate_district]
    fields = [
        form_type,
        committee.fec_id,
        _text(committee.name, 200),
        _checkbox(report.change_of_address),
        _text(committee.street_1, 34),
        _text(committee.street_2, 34),
        _text(committee.city, 30),
        _text(committee.state, 2).upper(),
        _zip(committee.zip_code),
        *candidate,
        _text(report.report_code, 3).upper(),
        _text(report.election_code, 5).upper(),
        _yyyymmdd(report.election_date) if report.election_date else "",
        _text(report.election_state, 2).upper(),
        _yyyymmdd(report.coverage_from),
        _yyyymmdd(report.coverage_through),
        _text(committee.treasurer_last_name, 30),
        _text(committee.treasurer_first_name, 20),
        _text(committee.treasurer_middle_name, 20),
        _text(committee.treasurer_prefix, 10),
        _text(committee.treasurer_suffix, 10),
        _yyyymmdd(report.date_signed),
    ]
    if committee.form == "F3P":
        fields += _summary_columns(_f3p_lines(summary.period, summary.cash_on_hand_beginning_cents), _F3P_PERIOD_LINES)
        fields += _STATE_ALLOCATION
        fields += _summary_columns(_f3p_lines(summary.to_date, 0), _F3P_TO_DATE_LINES)
        fields += _STATE_ALLOCATION
    else:
        fields += _summary_columns(_f3_lines(summary.period, summary.cash_on_hand_beginning_cents), _F3_PERIOD_LINES)
        fields += _summary_columns(_f3_lines(summary.to_date, 0), _F3_TO_DATE_LINES)
    return fields


# The summary page's lines in the order of the cover record's columns.
_F3_PERIOD_LINES = (
    "6a", "6b", "6c", "7a", "7b", "7c", "8", "9", "10",
    "11ai", "11aii", "11aiii", "11b", "11c", "11d", "11e", "12", "13a", "13b", "13c", "14", "15", "16",
    "17", "18", "19a", "19b", "19c", "20a", "20b", "20c", "20d", "21", "22",
    "23", "24", "25", "26", "27",
)  # fmt: skip
_F3_TO_DATE_LINES = (
    "6a", "6b", "6c", "7a", "7b", "7c",
    "11ai", "11aii", "11aiii", "11b", "11c", "11d", "11e", "12", "13a", "13b", "13c", "14", "15", "16",
    "17", "18", "19a", "19b", "19c", "20a", "20b", "20c", "20d", "21", "22",
)  # fmt: skip
_F3P_PERIOD_LINES = (
    "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
    "16", "17ai", "17aii", "17aiii", "17b", "17c", "17d", "17e", "18", "19a", "19b", "19c",
    "20a", "20b", "20c", "20d", "21", "22",
    "23", "24", "25", "26", "27a", "27b", "27c", "28a", "28b", "28c", "28d", "29", "30", "31",
)  # fmt: skip
_F3P_TO_DATE_LINES = _F3P_PERIOD_LINES[_F3P_PERIOD_LINES.index("16") : _F3P_PERIOD_LINES.index("31")]
# Form 3P's allocation of primary expenditures to each state (54 of them) and their total: a
# primary campaign that tracks it will need new Totals fields; until then it reports none.
_STATE_ALLOCATION = ["0.00"] * 55


def _f3_lines(totals: Totals, cash_on_hand_beginning: int) -> dict[str, int]:
    # Only individuals give, so their total is every total of contributions and of receipts.
    contributions = totals.individual_itemized_cents + totals.individual_unitemized_cents
    refunds = totals.individual_refunds_cents
    spent = totals.operating_expenditures_cents
    disbursements = spent + refunds
    cash_on_hand = cash_on_hand_beginning + contributions - disbursements
    return {
        "6a": contributions, "6b": refunds, "6c": contributions - refunds,
        "7a": spent, "7c": spent, "8": cash_on_hand,
        "11ai": totals.individual_itemized_cents, "11aii": totals.individual_unitemized_cents,
        "11aiii": contributions, "11e": contributions, "16": contributions,
        "17": spent, "20a": refunds, "20d": refunds, "22": disbursements,
        "23": cash_on_hand_beginning, "24": contributions, "25": cash_on_hand_beginning + contributions,
        "26": disbursements, "27": cash_on_hand,
    }  # fmt: skip


def _f3p_lines(totals: Totals, cash_on_hand_beginning: int) -> dict[str, int]:
    contributions = totals.individual_itemized_cents + totals.individual_unitemized_cents
    refunds = totals.individual_refunds_cents
    spent = totals.operating_expenditures_cents
    disbursements = spent + refunds
    return {
        "6": cash_on_hand_beginning, "7": contributions, "8": cash_on_hand_beginning + contributions,
        "9": disbursements, "10": cash_on_hand_beginning + contributions - disbursements,
        "14": contributions - refunds, "15": spent,
        "17ai": totals.individual_itemized_cents, "17aii": totals.individual_unitemized_cents,
        "17aiii": contributions, "17e": contributions, "22": contributions,
        "23": spent, "28a": refunds, "28d": refunds, "30": disbursements,
    }  # fmt: skip


def _summary_columns(lines: dict[str, int], order: tuple[str, ...]) -> list[str]:
    return [_money(lines.get(line, 0)) for line in order]


# Schedule A columns 26-42 (contributing committee, candidate, conduit) and Schedule B
# columns 25-41 (beneficiary committee, candidate, conduit) are for money from and to committees.
_COMMITTEE_COLUMNS = ("",) * 17


def _receipt_fields(receipt: Receipt, form_type: str, committee_id: str) -> tuple[str, ...]:
    return (
        form_type,
        committee_id,
        _transaction_id(receipt.transaction_id),
        "",  # back reference: only for lines that belong to another (earmarks, partnerships)
        "",
        "IND",
        "",  # organization name
        *_person(receipt),
        _election_code(receipt.election_code),
        _text(receipt.election_other_description, 20),
        _yyyymmdd(receipt.date_received),
        _money(receipt.amount_cents),
        _money(receipt.aggregate_cents),
        "",  # purpose: none for a plain contribution
        _text(receipt.employer, 38),
        _text(receipt.occupation, 38),
        *_COMMITTEE_COLUMNS,
        "X" if receipt.memo else "",
        "",  # memo text: FECFile itself writes it to a TEXT record, as we do
        "",  # reference code: Schedules I and L only
    )


def _refund_fields(refund: Refund, form_type: str, committee_id: str) -> tuple[str, ...]:
    return (
        form_type,
        committee_id,
        _transaction_id(refund.transaction_id),
        "",
        "",
        "IND",
        "",
        *_person(refund),
        _election_code(refund.election_code),
        _text(refund.election_other_description, 20),
        _yyyymmdd(refund.date_refunded),
        _money(refund.amount_cents),
        "",  # semi-annual bundled amount: lobbyist bundling, not refunds
        _text(refund.purpose, 100),
        "010",  # disbursement category "Refunds of Contributions"
        *_COMMITTEE_COLUMNS,
        "X" if refund.memo else "",
        "",
        "",
    )


def _person(item: Receipt | Refund) -> tuple[str, ...]:
    fields = (
        _text(item.last_name, 30),
        _text(item.first_name, 20),
        _text(item.middle_name, 20),
        _text(item.prefix, 10),
        _text(item.suffix, 10),
        _text(item.street_1, 34),
        _text(item.street_2, 34),
        _text(item.city, 30),
        _text(item.state, 2).upper(),
        _zip(item.zip_code),
    )
    # A name in a script with no ASCII spelling comes out empty, and the FEC rejects the line.
    if not (fields[0] and fields[1] and fields[5] and fields[7] and fields[8] and fields[9]):
        raise ValueError(f"transaction {item.transaction_id}: name, street, city, state and ZIP are required")
    return fields


def _text_fields(committee_id: str, parent_id: str, parent_form: str, text: str) -> tuple[str, ...]:
    # A TEXT record's id is derived from its parent's, so it stays the same in an amendment.
    text_id = "TX" + hashlib.blake2b(parent_id.encode(), digest_size=9).hexdigest().upper()
    return ("TEXT", committee_id, text_id, parent_id, parent_form, _text(text, 4000))


def _record(fields: Iterable[str]) -> str:
    return _FS.join(fields) + _EOL


def _transaction_id(value: str) -> str:
    # Ids are never cut to fit: a shortened id could collide with another one.
    if not (0 < len(value) <= 20 and value.isascii() and value.isprintable() and value == value.upper()):
        raise ValueError(f"transaction id {value!r} is not 1-20 printable ASCII characters without lowercase")
    return value


def _election_code(value: str) -> str:
    if not _ELECTION_CODE.fullmatch(value):
        raise ValueError(f"election code {value!r} is not a type letter and a year, like P2026")
    return value


def _text(value: str, max_length: int) -> str:
    """`value` as the printable ASCII the format allows, cut to the field's width."""
    if not (value.isascii() and value.isprintable()):
        value = _ascii(value)
    value = value.strip()
    if len(value) > max_length:
        value = value[:max_length].rstrip()
    return value


# Letters NFKD does not take apart into an ASCII letter and accents.
_SPELLED_OUT = str.maketrans(
    {
        "ß": "ss", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Ø": "O", "ø": "o", "Ł": "L", "ł": "l",
        "Đ": "D", "đ": "d", "Ð": "D", "ð": "d", "Þ": "Th", "þ": "th", "ı": "i",
        "‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-",
    }
)  # fmt: skip


def _ascii(value: str) -> str:
    """José -> Jose, Straße -> Strasse; what has no ASCII spelling is dropped.

    Tabs, line breaks and other control characters (the 0x1c separator among them) become spaces,
    so that no value can split a field or a record.
    """
    decomposed = unicodedata.normalize("NFKD", value.translate(_SPELLED_OUT))
    kept = "".join(char if char.isprintable() else " " for char in decomposed if char.isascii())
    return " ".join(kept.split())


def _zip(value: str) -> str:
    # ZIP+4 is nine digits in the format: 50309-1234 would not fit, and cutting it loses digits.
    return _text(value.replace("-", "").replace(" ", ""), 9)


def _checkbox(checked: bool) -> str:
    return "X" if checked else ""


def _money(cents: int) -> str:
    """Dollars with two decimals: 12345 -> 123.45, -500 -> -5.00."""
    if cents < 0:
        return "-" + _money(-cents)
    dollars, cents = divmod(cents, 100)
    return f"{dollars}.{cents:02d}"


def _yyyymmdd(day: date) -> str:
    # A datetime would have to be turned into the committee's local date first: refuse to guess.
    if type(day) is not date:
        raise TypeError(f"expected a date, got {day!r}")
    return day.isoformat().replace("-", "")
