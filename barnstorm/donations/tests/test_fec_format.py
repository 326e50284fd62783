"""The .fec writer, checked by the `fecfile` parser and the FEC's own JSON schemas.

The schemas are fecfile-validate's (shared/reference/fec-schemas). HDR, F3 and F3P number their
properties in column order (fec_spec.COL_SEQ); the transaction schemas do not, so Schedule A and B
lines are split into named columns by `fecfile`, whose column maps are independent of our writer.
"""

import io
import json
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import fecfile
import jsonschema
import pytest

from barnstorm.donations.fec import (
    Committee,
    Filing,
    Receipt,
    Refund,
    Report,
    Summary,
    Totals,
    fec_write,
    schedule_total_cents,
)

# Copies of the FEC-published schemas (fecfile-validate), kept in the repository so CI has them.
SCHEMAS = Path(__file__).resolve().parent / "fec_schemas"
ISO_DATE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
FS = "\x1c"


def make_committee(office: str = "H", **overrides) -> Committee:
    fields = dict(
        fec_id="C00123456",
        name="Friends of Ada Lovelace",
        street_1="100 Court Ave",
        city="Des Moines",
        state="IA",
        zip_code="50309",
        treasurer_last_name="Hopper",
        treasurer_first_name="Grace",
        treasurer_middle_name="Brewster",
        candidate_office=office,
        candidate_state="" if office == "P" else "IA",
        candidate_district="03" if office == "H" else "",
    )
    return Committee(**(fields | overrides))


def make_report(**overrides) -> Report:
    fields = dict(
        report_code="Q1",
        coverage_from=date(2026, 1, 1),
        coverage_through=date(2026, 3, 31),
        date_signed=date(2026, 4, 14),
    )
    return Report(**(fields | overrides))


def make_receipt(number: int = 1, **overrides) -> Receipt:
    fields = dict(
        transaction_id=f"SA{number:06d}",
        last_name="Lovelace",
        first_name=f"Ada{number}",
        middle_name="King",
        prefix="Ms.",
        street_1="12 Engine Way",
        street_2="Apt 3",
        city="Springfield",
        state="IL",
        zip_code="62701-1234",
        date_received=date(2026, 2, number % 28 + 1),
        amount_cents=25_000 + number,
        aggregate_cents=50_000 + number,
        election_code="P2026",
        employer="Analytical Engines",
        occupation="Mathematician",
    )
    return Receipt(**(fields | overrides))


def make_refund(number: int = 1, **overrides) -> Refund:
    fields = dict(
        transaction_id=f"SB{number:06d}",
        last_name="Babbage",
        first_name="Charles",
        street_1="1 Dorset St",
        city="Boston",
        state="MA",
        zip_code="02108",
        date_refunded=date(2026, 3, 20),
        amount_cents=100_000,
        election_code="P2026",
    )
    return Refund(**(fields | overrides))


def make_filing(office: str = "H", receipts=None, refunds=(), report=None) -> Filing:
    receipts = [make_receipt(1), make_receipt(2)] if receipts is None else list(receipts)
    itemized = schedule_total_cents(receipts)
    refunded = schedule_total_cents(refunds) + 1_500
    return Filing(
        committee=make_committee(office),
        report=report or make_report(),
        summary=Summary(
            period=Totals(itemized, 98_765, refunded, 40_000),
            to_date=Totals(itemized + 10_000, 198_765, refunded, 90_000),
            cash_on_hand_beginning_cents=1_000_000,
        ),
        receipts=iter(receipts),  # as a selector's generator would give them: one pass only
        refunds=iter(refunds),
    )


def write(filing: Filing) -> bytes:
    out = io.BytesIO()
    fec_write(filing, out)
    return out.getvalue()


def records(data: bytes) -> list[list[str]]:
    # Not splitlines(): it would also split at 0x1c, the field separator.
    lines = data.decode("ascii").split("\r\n")
    assert lines.pop() == ""
    return [line.split(FS) for line in lines]


def parse(data: bytes, tmp_path: Path, **options) -> dict:
    path = tmp_path / "report.fec"
    path.write_bytes(data)
    return fecfile.from_file(str(path), options)


def load_schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.json").read_text())


def validate(document: dict, schema: dict) -> None:
    # The schemas name draft 7 by an https URL jsonschema does not recognise.
    jsonschema.Draft7Validator(schema).validate(document)


def by_column_order(schema: dict, fields: list[str]) -> dict[str, str]:
    properties = schema["properties"]
    columns = sorted(properties, key=lambda name: properties[name]["fec_spec"]["COL_SEQ"])
    assert len(fields) == len(columns)
    return dict(zip(columns, fields, strict=True))


def as_json(schema: dict, values: dict[str, str]) -> dict:
    """The .fec strings as the JSON types the schema's properties expect; blank fields left out."""
    document = {}
    for name, raw in values.items():
        if raw == "":
            continue
        prop = schema["properties"][name]
        types = prop.get("type", "string")
        types = [types] if isinstance(types, str) else types
        if "number" in types:
            document[name] = float(raw)
        elif "boolean" in types:
            assert raw == "X"  # the format's only check-box value
            document[name] = True
        elif prop.get("pattern") == ISO_DATE:  # some schemas want ISO dates, others the file's YYYYMMDD
            document[name] = f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
        else:
            document[name] = raw
    return document


# fecfile-validate's transaction schemas are those of Form 3X, whose lines 11(a)(i) and 28(a) have
# the same layout as Form 3's 11(a)(i) and 20(a) and Form 3P's 17(a); they also name two fields
# FECFile Online keeps for itself and not in the file.
TRANSACTION_SCHEMAS = {
    "SA": ("INDIVIDUAL_RECEIPT", {"transaction_type_identifier": "INDIVIDUAL_RECEIPT", "aggregation_group": "GENERAL"}),
    "SB": (
        "INDIVIDUAL_REFUNDS",
        {"transaction_type_identifier": "REFUND_INDIVIDUAL_CONTRIBUTION", "aggregation_group": "GENERAL"},
    ),
}
FECFILE_TO_SCHEMA = {
    "contributor_zip_code": "contributor_zip",
    "payee_zip_code": "payee_zip",
    "transaction_id_number": "transaction_id",
}


def transaction_document(row: dict[str, str]) -> tuple[dict, dict]:
    schema_name, kept_by_fecfile_online = TRANSACTION_SCHEMAS[row["form_type"][:2]]
    schema = load_schema(schema_name)
    schema["properties"]["form_type"] = {"const": row["form_type"]}
    values = {FECFILE_TO_SCHEMA.get(name, name): value for name, value in row.items()}
    values = {name: value for name, value in values.items() if name in schema["properties"]}
    return schema, as_json(schema, values) | kept_by_fecfile_online


def test_it_writes_a_form_3_that_fecfile_reads_back(tmp_path):
    receipts = [make_receipt(1), make_receipt(2, last_name="O'Brien", state="il", election_code="G2026")]

    parsed = parse(write(make_filing("H", receipts)), tmp_path)

    assert parsed["header"]["fec_version"] == "8.4"
    assert parsed["header"]["soft_name"] == "Barnstorm"
    assert parsed["header"]["soft_ver"]
    assert parsed["filing"]["form_type"] == "F3N"
    assert parsed["filing"]["filer_committee_id_number"] == "C00123456"
    assert parsed["filing"]["coverage_from_date"].date() == date(2026, 1, 1)
    assert parsed["filing"]["coverage_through_date"].date() == date(2026, 3, 31)
    assert parsed["filing"]["election_state"] == "IA"
    assert parsed["filing"]["election_district"] == "03"
    lines = parsed["itemizations"]["Schedule A"]
    assert [line["form_type"] for line in lines] == ["SA11AI", "SA11AI"]
    assert [line["transaction_id"] for line in lines] == ["SA000001", "SA000002"]
    assert [line["contribution_amount"] for line in lines] == [250.01, 250.02]
    assert [line["contribution_aggregate"] for line in lines] == [500.01, 500.02]
    assert [line["contributor_last_name"] for line in lines] == ["Lovelace", "O'Brien"]
    assert [line["contributor_first_name"] for line in lines] == ["Ada1", "Ada2"]
    assert [line["election_code"] for line in lines] == ["P2026", "G2026"]
    assert [line["contributor_state"] for line in lines] == ["IL", "IL"]
    assert lines[0]["contributor_zip_code"] == "627011234"
    assert lines[0]["contribution_date"].date() == date(2026, 2, 2)


def test_it_writes_a_form_3p_with_schedule_a_line_17a(tmp_path):
    parsed = parse(write(make_filing("P")), tmp_path)

    assert parsed["filing"]["form_type"] == "F3PN"
    assert parsed["filing"]["filer_committee_id_number"] == "C00123456"
    assert parsed["filing"]["coverage_through_date"].date() == date(2026, 3, 31)
    lines = parsed["itemizations"]["Schedule A"]
    assert [line["form_type"] for line in lines] == ["SA17A", "SA17A"]
    assert [line["contribution_amount"] for line in lines] == [250.01, 250.02]
    assert [line["contribution_aggregate"] for line in lines] == [500.01, 500.02]
    assert [line["contributor_first_name"] for line in lines] == ["Ada1", "Ada2"]
    assert [line["election_code"] for line in lines] == ["P2026", "P2026"]


@pytest.mark.parametrize(("office", "form_type"), [("S", "F3A"), ("P", "F3PA")])
def test_an_amendment_says_so_and_names_the_original(office, form_type, tmp_path):
    report = make_report(amendment=True, original_report_id="FEC-1234567")

    parsed = parse(write(make_filing(office, report=report)), tmp_path)

    assert parsed["filing"]["form_type"] == form_type
    assert parsed["header"]["report_id"] == "FEC-1234567"


@pytest.mark.parametrize(("office", "form_type"), [("H", "SB20A"), ("P", "SB28A")])
def test_a_refund_is_itemized_as_a_disbursement_on_schedule_b(office, form_type, tmp_path):
    parsed = parse(write(make_filing(office, [make_receipt(1)], [make_refund(1)])), tmp_path)

    [line] = parsed["itemizations"]["Schedule B"]
    assert line["form_type"] == form_type
    assert line["transaction_id_number"] == "SB000001"
    assert (line["payee_last_name"], line["payee_first_name"]) == ("Babbage", "Charles")
    assert line["expenditure_amount"] == 1000.00  # positive: the refund total is a disbursement line
    assert line["expenditure_date"].date() == date(2026, 3, 20)
    assert line["expenditure_purpose_descrip"] == "Refund of contribution"
    assert line["category_code"] == "010"
    assert line["election_code"] == "P2026"


def test_the_form_3_summary_adds_up(tmp_path):
    parsed = parse(write(make_filing("H", [make_receipt(1)], [make_refund(1)])), tmp_path)

    summary = parsed["filing"]
    assert summary["col_a_individual_contributions_itemized"] == 250.01
    assert summary["col_a_individual_contributions_unitemized"] == 987.65
    assert summary["col_a_total_individual_contributions"] == 1237.66
    assert summary["col_a_total_contributions"] == 1237.66
    assert summary["col_a_refunds_to_individuals"] == 1015.00
    assert summary["col_a_net_contributions"] == round(1237.66 - 1015.00, 2)
    assert summary["col_a_total_disbursements"] == 1415.00
    assert summary["col_a_cash_on_hand_close"] == round(10_000 + 1237.66 - 1415.00, 2)
    assert summary["col_a_cash_on_hand_close_of_period"] == summary["col_a_cash_on_hand_close"]
    assert summary["col_a_other_loans"] == 0.0
    assert summary["col_b_total_individual_contributions"] == round(350.01 + 1987.65, 2)


def test_the_form_3p_summary_adds_up(tmp_path):
    parsed = parse(write(make_filing("P", [make_receipt(1)], [make_refund(1)])), tmp_path)

    summary = parsed["filing"]
    assert summary["col_a_individuals_itemized"] == 250.01
    assert summary["col_a_individual_contribution_total"] == 1237.66
    assert summary["col_a_individuals"] == 1015.00  # line 28(a), refunds
    assert summary["col_a_total_receipts"] == 1237.66
    assert summary["col_a_cash_on_hand_close_of_period"] == round(10_000 + 1237.66 - 1415.00, 2)
    assert summary["col_b_individual_contribution_total"] == round(350.01 + 1987.65, 2)
    assert summary["col_b_total_disbursements"] == 1915.00


@pytest.mark.parametrize(("office", "form"), [("H", "F3"), ("S", "F3"), ("P", "F3P")])
def test_header_and_cover_records_validate_against_the_fec_schemas(office, form):
    pre_primary = make_report(
        report_code="12P", election_code="P2026", election_date=date(2026, 6, 2), election_state="IA"
    )

    header, cover = records(write(make_filing(office, report=pre_primary)))[:2]

    for schema_name, fields in (("HDR", header), (form, cover)):
        schema = load_schema(schema_name)
        validate(as_json(schema, by_column_order(schema, fields)), schema)


@pytest.mark.parametrize("office", ["H", "P"])
def test_schedule_a_and_b_lines_validate_against_the_fec_schemas(office, tmp_path):
    receipts = [make_receipt(1, memo_text="Returned check", amount_cents=-2_500), make_receipt(2, memo=True)]
    filing = make_filing(office, receipts, [make_refund(1), make_refund(2, memo_text="Over the limit")])

    parsed = parse(write(filing), tmp_path, as_strings=True)

    lines = parsed["itemizations"]["Schedule A"] + parsed["itemizations"]["Schedule B"]
    assert len(lines) == 4
    for row in lines:
        schema, document = transaction_document(row)
        validate(document, schema)


def test_the_schemas_reject_what_the_fec_would_reject(tmp_path):
    # Proof that the validation above can fail: the schemas are strict where it matters.
    data = write(make_filing("H"))
    row = parse(data, tmp_path, as_strings=True)["itemizations"]["Schedule A"][0]
    schema, line = transaction_document(row)
    broken_lines = [
        {name: value for name, value in line.items() if name != "contributor_last_name"},
        line | {"contributor_last_name": "L" * 31},
        line | {"contributor_first_name": "José"},
        line | {"filer_committee_id_number": "C0012345"},
        line | {"contribution_date": "20260202"},
        line | {"contributor_employer": None},  # required once the aggregate passes $200
    ]
    for broken in broken_lines:
        with pytest.raises(jsonschema.ValidationError):
            validate(broken, schema)

    f3 = load_schema("F3")
    cover = as_json(f3, by_column_order(f3, records(data)[1]))
    with pytest.raises(jsonschema.ValidationError):
        validate(cover | {"form_type": "F3XN"}, f3)
    with pytest.raises(jsonschema.ValidationError):
        validate(cover | {"L11ai_individuals_itemized_period": -1.0}, f3)
    with pytest.raises(AssertionError):  # a record one column short
        by_column_order(f3, records(data)[1][:-1])


def test_records_end_in_crlf_and_fields_are_separated_by_ascii_28():
    data = write(make_filing("H", [make_receipt(1, memo_text="Returned check")], [make_refund(1)]))

    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    assert b"," not in data  # blank fields are empty, never quoted or comma-separated
    shape = [(fields[0], len(fields)) for fields in records(data)]
    assert shape == [("HDR", 8), ("F3N", 93), ("SA11AI", 45), ("TEXT", 6), ("SB20A", 44)]


def test_form_3p_cover_has_all_206_columns():
    assert [len(fields) for fields in records(write(make_filing("P")))] == [8, 206, 45, 45]


def test_non_ascii_input_comes_out_as_ascii(tmp_path):
    receipt = make_receipt(
        1,
        first_name="José",
        last_name="Núñez-Straße",
        middle_name="Zoë",
        street_1="12 Łódź Rd\u00a0Unit 4",
        city="Coeur d’Alene",
        employer="北京 Analytics",
        occupation="Æsthetician",
    )

    data = write(make_filing("H", [receipt]))

    data.decode("ascii")  # raises if one byte is not ASCII
    line = parse(data, tmp_path)["itemizations"]["Schedule A"][0]
    assert line["contributor_first_name"] == "Jose"
    assert line["contributor_last_name"] == "Nunez-Strasse"
    assert line["contributor_middle_name"] == "Zoe"
    assert line["contributor_street_1"] == "12 Lodz Rd Unit 4"
    assert line["contributor_city"] == "Coeur d'Alene"
    assert line["contributor_employer"] == "Analytics"
    assert line["contributor_occupation"] == "AEsthetician"


def test_control_characters_cannot_split_a_field_or_a_record():
    receipt = make_receipt(1, street_1="12 Engine Way\r\nApt 3", city="Spring\x1cfield\t", memo_text="two\nlines")

    fields = records(write(make_filing("H", [receipt])))

    assert [len(record) for record in fields] == [8, 93, 45, 6]
    assert fields[2][12] == "12 Engine Way Apt 3"
    assert fields[2][14] == "Spring field"
    assert fields[3][5] == "two lines"


def test_a_name_with_no_ascii_spelling_is_refused():
    with pytest.raises(ValueError, match="SA000001"):
        write(make_filing("H", [make_receipt(1, last_name="王")]))


def test_memo_text_becomes_a_text_record_linked_to_its_line(tmp_path):
    receipts = [make_receipt(1, memo_text="Earmarked through ActBlue"), make_receipt(2), make_receipt(3, memo_text="x")]
    filing = make_filing("P", receipts, [make_refund(1, memo_text="Refund of excessive portion")])
    data = write(filing)

    texts = parse(data, tmp_path)["text"]

    assert [(t["back_reference_tran_id_number"], t["back_reference_sched_form_name"], t["text"]) for t in texts] == [
        ("SA000001", "SA17A", "Earmarked through ActBlue"),
        ("SA000003", "SA17A", "x"),
        ("SB000001", "SB28A", "Refund of excessive portion"),
    ]
    ids = [t["transaction_id_number"] for t in texts]
    assert len(set(ids)) == 3 and all(len(text_id) <= 20 for text_id in ids)
    assert ids[0] == parse(write(make_filing("P", receipts)), tmp_path)["text"][0]["transaction_id_number"]
    kinds = [fields[0] for fields in records(data)]
    assert kinds == ["HDR", "F3PN", "SA17A", "TEXT", "SA17A", "SA17A", "TEXT", "SB28A", "TEXT"]


def test_overlong_fields_are_cut_to_the_width_the_fec_allows(tmp_path):
    receipt = make_receipt(
        1,
        last_name="Wolfeschlegelsteinhausenbergerdorff",  # 35 letters, 30 allowed
        street_1="1234 Extraordinarily Long Boulevard Northwest",
        city="Village of Palm Springs North Side",  # cut after "North ": no trailing space left
        employer="International Business Machines Corporation of America",
        memo_text="m" * 4_100,
    )
    filing = make_filing("H", [receipt])
    filing = replace(filing, committee=replace(filing.committee, name="Committee " * 30))

    data = write(filing)

    parsed = parse(data, tmp_path)
    line = parsed["itemizations"]["Schedule A"][0]
    assert line["contributor_last_name"] == "Wolfeschlegelsteinhausenberger"
    assert line["contributor_street_1"] == "1234 Extraordinarily Long Boulevar"
    assert line["contributor_city"] == "Village of Palm Springs North"
    assert line["contributor_employer"] == "International Business Machines Corpor"
    assert parsed["text"][0]["text"] == "m" * 4_000
    assert len(parsed["filing"]["committee_name"]) <= 200


def test_a_transaction_id_is_refused_rather_than_cut():
    for bad_id in ["A" * 21, "sa000001", ""]:
        with pytest.raises(ValueError, match="transaction id"):
            write(make_filing("H", [make_receipt(1, transaction_id=bad_id)]))


def test_a_datetime_is_refused_where_a_date_belongs():
    with pytest.raises(TypeError):
        write(make_filing("H", [make_receipt(1, date_received=datetime(2026, 2, 2, 23, 30))]))


def test_the_summary_must_match_the_itemized_lines():
    filing = make_filing("H")
    short = replace(filing.summary, period=replace(filing.summary.period, individual_itemized_cents=1))

    with pytest.raises(ValueError, match="Schedule A adds up to 500.03"):
        write(replace(filing, summary=short, receipts=[make_receipt(1), make_receipt(2)]))


def test_memo_entries_do_not_count_and_a_bounced_check_subtracts(tmp_path):
    receipts = [make_receipt(1), make_receipt(2, memo=True), make_receipt(3, amount_cents=-25_001)]

    assert schedule_total_cents(receipts) == 0
    data = write(make_filing("H", receipts))

    lines = parse(data, tmp_path)["itemizations"]["Schedule A"]
    assert [(line["contribution_amount"], line["memo_code"]) for line in lines] == [
        (250.01, ""),
        (250.02, "X"),
        (-250.01, ""),
    ]


def test_a_pre_election_report_needs_its_election():
    with pytest.raises(ValueError, match="12G"):
        write(make_filing("H", report=make_report(report_code="12G")))


def test_it_writes_while_the_receipts_are_still_coming():
    out = io.BytesIO()
    written_at: list[int] = []

    def receipts():
        for number in range(1, 20_001):
            written_at.append(out.tell())
            yield make_receipt(number)

    receipts_total = sum(25_000 + number for number in range(1, 20_001))
    filing = replace(make_filing("H", []), receipts=receipts())
    filing = replace(filing, summary=replace(filing.summary, period=Totals(receipts_total, 0)))
    fec_write(filing, out)

    assert written_at[0] == 0
    assert 0 < written_at[10_000] < written_at[-1] < out.tell()
