"""The FEC report from the database, parsed back with the `fecfile` package."""

import datetime
import importlib
import io
import threading

import fecfile
import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from barnstorm.donations import fec_export
from barnstorm.donations.compliance import Split
from barnstorm.donations.fec_export import fec_export_write, general_election_day
from barnstorm.donations.models import Committee, LineItem, OverLimitPolicy, Refund, RefundLine
from barnstorm.donations.services import DonorInput, contribution_record, contribution_refund

pytestmark = pytest.mark.django_db

Q2_FROM, Q2_TO = datetime.date(2026, 4, 1), datetime.date(2026, 6, 30)


def at(year, month, day, hour=12):
    return datetime.datetime(year, month, day, hour, tzinfo=datetime.UTC)


def donor(given_name, family_name, email, **extra):
    address = dict(street1="12 Elm St", city="Ames", state="IA", zip_code="50010")
    job = dict(employer="Ames Public Library", occupation="Librarian")
    return DonorInput(given_name=given_name, family_name=family_name, email=email, **(address | job | extra))


@pytest.fixture
def history(committee, second_committee, gift, set_policy):
    """A second quarter (April to June 2026, New York time) and what happened around it."""
    set_policy(committee, OverLimitPolicy.REDESIGNATE)
    dana = donor("Dana", "Whitfield", "dana@example.com")
    sam = donor("Sam", "Small", "sam@example.com")
    rosa = donor("Rosa", "Big", "rosa@example.com", employer="Big Farms", occupation="Farmer")
    lee = donor("Lee", "Split", "lee@example.com")
    late = donor("Kim", "Late", "kim@example.com")

    def give(key, who, cents, when, **extra):
        return contribution_record(data=gift(committee, cents, key, donor=who, received_at=when, **extra)).contribution

    h = {}
    h["dana_march"] = give("dana-1", dana, 2_700, at(2026, 3, 1))  # Q1; itemized once April's gift passes $200
    h["dana_april"] = give("dana-2", dana, 25_000, at(2026, 4, 10))
    h["sam"] = give("sam-1", sam, 5_000, at(2026, 4, 20))  # $50 in all: never itemized
    h["rosa"] = give("rosa-1", rosa, 400_000, at(2026, 5, 1))  # $500 over the primary limit: redesignated
    h["lee"] = give(
        "lee-1", lee, 60_000, at(2026, 5, 15), splits=[Split(committee.pk, 5000), Split(second_committee.pk, 5000)]
    )
    h["kim_edge_before"] = give("kim-0", late, 30_000, at(2026, 4, 1, 3))  # March 31, 11 pm in New York
    h["kim_edge_after"] = give("kim-1", late, 1_000, at(2026, 7, 1, 3))  # June 30, 11 pm in New York
    h["kim_july"] = give("kim-2", late, 20_000, at(2026, 7, 2))  # next quarter

    def refund(contribution, cents, when):
        made = contribution_refund(contribution=contribution, amount_cents=cents, reason="Asked for it back")
        Refund.objects.filter(pk=made.pk).update(created_at=when)
        return made

    h["dana_refund"] = refund(h["dana_april"], 5_000, at(2026, 6, 10))
    h["sam_refund"] = refund(h["sam"], 1_000, at(2026, 6, 11))  # of an unitemized gift: in the total only
    h["rosa_refund"] = refund(h["rosa"], 60_000, at(2026, 6, 12))  # the $500 excess first, then $100 of the primary
    h["kim_refund_later"] = refund(h["kim_july"], 20_000, at(2026, 7, 3))
    return h


def export(committee, date_from=Q2_FROM, date_to=Q2_TO, report_code="Q2"):
    out = io.BytesIO()
    result = fec_export_write(
        committee=committee, date_from=date_from, date_to=date_to, report_code=report_code, out=out
    )
    return result, parse(out.getvalue())


def parse(data: bytes) -> dict:
    # fecfile.loads splits records at LF alone and would leave the CR on each record's last field.
    return fecfile.loads(data.decode("ascii").replace("\r\n", "\n"))


def test_only_the_itemized_line_items_of_the_period_are_on_schedule_a(committee, history):
    result, parsed = export(committee)

    lines = parsed["itemizations"]["Schedule A"]
    items = {item.pk: item for item in LineItem.objects.filter(committee=committee)}
    expected = [
        item
        for item in sorted(items.values(), key=lambda i: (i.received_at, i.pk))
        if item.itemized and at(2026, 4, 1, 4) <= item.received_at < at(2026, 7, 1, 4)
    ]
    assert [line["transaction_id"] for line in lines] == [f"SA{item.pk}" for item in expected]
    assert result.receipts == len(lines) == 5  # Dana's April, Rosa's two, Lee's half, Kim's June 30
    assert [line["contributor_last_name"] for line in lines] == ["Whitfield", "Big", "Big", "Split", "Late"]
    assert [line["contribution_amount"] for line in lines] == [250.00, 3500.00, 500.00, 300.00, 10.00]
    # The cycle-to-date aggregate as of each contribution, as the service recorded it.
    assert [line["contribution_aggregate"] for line in lines] == [277.00, 3500.00, 4000.00, 300.00, 310.00]
    assert [line["election_code"] for line in lines] == ["P2026", "P2026", "G2026", "P2026", "G2026"]
    assert [line["contribution_date"].date() for line in lines] == [
        datetime.date(2026, 4, 10),
        datetime.date(2026, 5, 1),
        datetime.date(2026, 5, 1),
        datetime.date(2026, 5, 15),
        datetime.date(2026, 6, 30),  # the site's date, not UTC's July 1
    ]
    dana = lines[0]
    assert (dana["contributor_first_name"], dana["contributor_street_1"], dana["contributor_city"]) == (
        "Dana",
        "12 Elm St",
        "Ames",
    )
    assert (dana["contributor_employer"], dana["contributor_occupation"]) == ("Ames Public Library", "Librarian")


def test_a_redesignated_excess_carries_its_memo_as_a_text_record(committee, history):
    _result, parsed = export(committee)

    general = next(line for line in parsed["itemizations"]["Schedule A"] if line["contribution_amount"] == 500.00)
    [text] = parsed["text"]
    assert text["back_reference_tran_id_number"] == general["transaction_id"]
    assert text["text"] == "Redesignated from the primary"
    assert general["memo_code"] == ""  # a real receipt, counted in the totals: only the text is a memo


def test_the_cover_totals_are_the_sums_of_the_period(committee, history):
    _result, parsed = export(committee)

    cover = parsed["filing"]
    assert cover["form_type"] == "F3N"
    assert cover["report_code"] == "Q2"
    assert cover["coverage_from_date"].date() == Q2_FROM
    assert cover["coverage_through_date"].date() == Q2_TO
    itemized = 250.00 + 3500.00 + 500.00 + 300.00 + 10.00
    assert cover["col_a_individual_contributions_itemized"] == itemized
    assert sum(line["contribution_amount"] for line in parsed["itemizations"]["Schedule A"]) == itemized
    assert cover["col_a_individual_contributions_unitemized"] == 50.00  # Sam
    assert cover["col_a_refunds_to_individuals"] == 50.00 + 10.00 + 600.00
    # Column B, the cycle since the 2024 general election: Dana's March gift (itemized since April)
    # and Kim's of March 31, New York time, are in it.
    assert cover["col_b_individual_contributions_itemized"] == itemized + 27.00 + 300.00
    assert cover["col_b_individual_contributions_unitemized"] == 50.00
    assert cover["col_b_refunds_to_individuals"] == 660.00


def test_refunds_of_itemized_contributions_are_on_schedule_b_by_election(committee, history):
    result, parsed = export(committee)

    lines = parsed["itemizations"]["Schedule B"]
    dana, rosa = history["dana_refund"].pk, history["rosa_refund"].pk
    assert [(line["transaction_id_number"], line["election_code"], line["expenditure_amount"]) for line in lines] == [
        (f"SB{dana}", "P2026", 50.00),
        # Rosa's refund took back the redesignated $500 first, then $100 of the primary share.
        (f"SB{rosa}G2026", "G2026", 500.00),
        (f"SB{rosa}P2026", "P2026", 100.00),
    ]
    assert result.refunds == 3
    assert [line["payee_last_name"] for line in lines] == ["Whitfield", "Big", "Big"]
    assert [line["expenditure_date"].date() for line in lines] == [
        datetime.date(2026, 6, 10),
        datetime.date(2026, 6, 12),
        datetime.date(2026, 6, 12),
    ]
    # Sam's refund (unitemized) is only in the total; Kim's is in July.


def test_a_split_counts_only_this_committees_share(committee, second_committee, history):
    _result, parsed = export(second_committee)

    [line] = parsed["itemizations"]["Schedule A"]
    assert line["contribution_amount"] == 300.00
    assert parsed["filing"]["filer_committee_id_number"] == "C00654321"
    assert parsed["filing"]["col_a_individual_contributions_itemized"] == 300.00
    assert parsed["itemizations"].get("Schedule B", []) == []


def test_a_refund_of_one_recipients_part_of_a_split_is_that_recipients(committee, second_committee, history):
    # Lee's $600 went half to each; $100 of the first-designated half comes back (an ActBlue refund
    # names its committee), which the last-designated-first rule would have charged to the other.
    refund = contribution_refund(
        contribution=history["lee"],
        committees={committee.pk: 10_000},
        refunded_at=at(2026, 6, 13),
        at_processor=False,
    )
    result, parsed = export(committee)
    lee = [line for line in parsed["itemizations"]["Schedule B"] if line["transaction_id_number"] == f"SB{refund.pk}"]
    assert [(line["payee_last_name"], line["expenditure_amount"]) for line in lee] == [("Split", 100.00)]
    assert lee[0]["expenditure_date"].date() == datetime.date(2026, 6, 13)
    result, parsed = export(second_committee)
    assert result.refunds == 0 and parsed["itemizations"].get("Schedule B", []) == []


def test_refunds_made_before_refund_lines_get_them_by_the_spending_order(committee, history):
    migration = importlib.import_module("barnstorm.donations.migrations.0007_refund_lines")
    kept = sorted(RefundLine.objects.values_list("refund_id", "line_item_id", "amount_cents"))
    assert len(kept) == 5  # four refunds; Rosa's took from two line items
    RefundLine.objects.all().delete()

    migration.lines_from_the_spending_order(django_apps, None)

    assert sorted(RefundLine.objects.values_list("refund_id", "line_item_id", "amount_cents")) == kept


def test_a_pre_primary_report_names_the_committees_primary(committee, history):
    _result, parsed = export(committee, date_from=datetime.date(2026, 4, 1), date_to=datetime.date(2026, 5, 13))

    assert parsed["filing"]["report_code"] == "Q2"
    _result, parsed = export(
        committee, date_from=datetime.date(2026, 4, 1), date_to=datetime.date(2026, 5, 13), report_code="12P"
    )
    assert parsed["filing"]["report_code"] == "12P"
    assert parsed["filing"]["election_code"] == "P2026"
    assert parsed["filing"]["election_date"].date() == datetime.date(2026, 6, 2)
    assert parsed["filing"]["state_of_election"] == "IA"


def test_column_b_starts_the_day_after_the_seats_last_general_election(committee, second_committee):
    assert general_election_day(2024) == datetime.date(2024, 11, 5)
    assert general_election_day(2026) == datetime.date(2026, 11, 3)
    q1 = (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
    assert fec_export._to_date_from(committee, *q1) == datetime.date(2024, 11, 6)
    assert fec_export._to_date_from(second_committee, *q1) == datetime.date(2020, 11, 4)  # a Senate seat: six years
    post_general = (datetime.date(2026, 10, 15), datetime.date(2026, 11, 23))
    assert fec_export._to_date_from(committee, *post_general) == datetime.date(2024, 11, 6)
    year_end = (datetime.date(2026, 11, 24), datetime.date(2026, 12, 31))
    assert fec_export._to_date_from(committee, *year_end) == datetime.date(2026, 11, 4)
    committee.office = "P"
    assert fec_export._to_date_from(committee, *q1) == datetime.date(2026, 1, 1)


def test_a_presidential_committee_files_form_3p_with_the_calendar_year_to_date(committee, history):
    Committee.objects.filter(pk=committee.pk).update(office="P", report_form="F3P", office_district="")
    committee.refresh_from_db()

    _result, parsed = export(committee)

    assert parsed["filing"]["form_type"] == "F3PN"
    assert {line["form_type"] for line in parsed["itemizations"]["Schedule A"]} == {"SA17A"}
    assert {line["form_type"] for line in parsed["itemizations"]["Schedule B"]} == {"SB28A"}
    # Calendar 2026 to date: Dana's March gift and Kim's of March 31 are in column B.
    assert parsed["filing"]["col_b_individual_contribution_total"] == round(
        parsed["filing"]["col_a_individual_contribution_total"] + 27.00 + 300.00, 2
    )


def test_the_export_makes_the_same_few_queries_for_any_number_of_rows(committee, gift, django_assert_max_num_queries):
    def add_donors(first, count):
        for n in range(first, first + count):
            who = donor(f"Donor{n}", "Many", f"d{n}@example.com")
            made = contribution_record(
                data=gift(committee, 25_000, f"many-{n}", donor=who, received_at=at(2026, 5, 1))
            ).contribution
            contribution_refund(contribution=made, amount_cents=1_000)
            Refund.objects.filter(contribution=made).update(created_at=at(2026, 5, 2))

    add_donors(0, 2)
    with django_assert_max_num_queries(4):
        few, _parsed = export(committee)
    add_donors(2, 20)
    with django_assert_max_num_queries(4):
        many, _parsed = export(committee)
    assert (few.receipts, few.refunds, many.receipts, many.refunds) == (2, 2, 22, 22)


def test_an_itemized_donor_without_an_address_stops_the_export_by_transaction(committee, gift):
    who = donor("Ann", "Nowhere", "ann@example.com", street1="", city="", state="", zip_code="")
    contribution_record(data=gift(committee, 30_000, "ann", donor=who, received_at=at(2026, 5, 1)))

    with pytest.raises(ValueError, match=r"transaction SA\d+: name, street"):
        export(committee)


@pytest.mark.django_db(transaction=True)
def test_a_contribution_recorded_during_the_export_waits_for_the_next_report(committee, gift, monkeypatch):
    """Totals and lines come from one snapshot: a gift recorded between them is in neither."""
    contribution_record(data=gift(committee, 25_000, "before", received_at=at(2026, 5, 1)))
    stream = fec_export._receipts

    def receipts_after_a_new_gift(*args):
        def record_elsewhere():
            try:
                # Dana again: itemized, in the period, and committed before the lines are read.
                contribution_record(data=gift(committee, 1_000, "during", received_at=at(2026, 5, 2)))
            finally:
                connection.close()

        thread = threading.Thread(target=record_elsewhere)
        thread.start()
        thread.join()
        yield from stream(*args)

    monkeypatch.setattr(fec_export, "_receipts", receipts_after_a_new_gift)

    result, parsed = export(committee)

    assert LineItem.objects.filter(committee=committee).count() == 2
    assert result.receipts == 1
    assert parsed["filing"]["col_a_individual_contributions_itemized"] == 250.00


def command(arguments: str, out, **options):
    return call_command("fec_export", *arguments.split(), "--out", str(out), **options)


def test_the_command_writes_the_file_and_says_what_is_in_it(committee, history, tmp_path):
    out = tmp_path / "q2.fec"
    stdout = io.StringIO()

    command("--committee C00123456 --from 2026-04-01 --to 2026-06-30", out, stdout=stdout)

    parsed = parse(out.read_bytes())
    assert parsed["filing"]["report_code"] == "Q2"  # the quarter ending on --to
    assert len(parsed["itemizations"]["Schedule A"]) == 5
    printed = stdout.getvalue()
    assert "Schedule A lines 5, Schedule B lines 3" in printed
    assert "itemized $4,560.00, unitemized $50.00, refunds $660.00" in printed
    assert [path.name for path in tmp_path.iterdir()] == ["q2.fec"]  # no temporary file left behind

    command(f"--committee {committee.pk} --from 2026-04-01 --to 2026-05-13 --report-code 12p", out, stdout=stdout)
    assert parse(out.read_bytes())["filing"]["report_code"] == "12P"


def test_the_command_leaves_no_file_when_the_report_cannot_be_written(committee, gift, tmp_path):
    who = donor("Ann", "Nowhere", "ann@example.com", street1="", city="", state="", zip_code="")
    contribution_record(data=gift(committee, 30_000, "ann", donor=who, received_at=at(2026, 5, 1)))
    out = tmp_path / "q2.fec"

    with pytest.raises(CommandError, match="not written"):
        command("--committee C00123456 --from 2026-04-01 --to 2026-06-30", out)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(CommandError, match="No committee"):
        command("--committee C99999999 --from 2026-04-01 --to 2026-06-30", out)
    with pytest.raises(CommandError, match="report-code"):
        command("--committee C00123456 --from 2026-04-01 --to 2026-05-13", out)


def form_data(committee, report_code="Q2"):
    return {"committee": committee.pk, "date_from": "2026-04-01", "date_to": "2026-06-30", "report_code": report_code}


def test_the_staff_page_refuses_outsiders(outsider_client, committee):
    response = outsider_client.get(reverse("donations:fec_export"), form_data(committee))
    assert response.status_code == 403


def test_the_staff_page_sends_visitors_to_log_in(client, committee):
    response = client.get(reverse("donations:fec_export"), form_data(committee))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_staff_page_shows_the_form(staff_client, committee):
    response = staff_client.get(reverse("donations:fec_export"))
    assert response.status_code == 200
    assert b'name="report_code"' in response.content
    assert committee.name.encode() in response.content


def test_the_staff_page_gives_organizers_the_file(staff_client, committee, history):
    response = staff_client.get(reverse("donations:fec_export"), form_data(committee))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response["Content-Disposition"] == 'attachment; filename="C00123456-Q2-20260630.fec"'
    data = b"".join(response.streaming_content)
    parsed = parse(data)
    assert parsed["filing"]["col_a_individual_contributions_itemized"] == 4560.00
    assert len(parsed["itemizations"]["Schedule B"]) == 3


def test_the_staff_page_says_why_a_report_cannot_be_written(staff_client, committee, gift):
    who = donor("Ann", "Nowhere", "ann@example.com", street1="", city="", state="", zip_code="")
    contribution_record(data=gift(committee, 30_000, "ann", donor=who, received_at=at(2026, 5, 1)))

    response = staff_client.get(reverse("donations:fec_export"), form_data(committee))

    assert response.status_code == 400
    assert b"could not be written" in response.content
    assert b"name, street, city, state and ZIP are required" in response.content
