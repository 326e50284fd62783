import csv
import datetime
import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from barnstorm.activity.models import Activity
from barnstorm.donations.actblue import (
    ActBlueFileError,
    import_actblue,
    parse_cents,
    parse_received_at,
)
from barnstorm.donations.models import (
    CaseAction,
    CaseKind,
    ComplianceCase,
    Contribution,
    ContributionStatus,
    LineItem,
    Refund,
)
from barnstorm.people.models import Person

pytestmark = pytest.mark.django_db

# The columns of an ActBlue contribution export, in ActBlue's order ("Reserved" appears several times).
COLUMNS = [
    "Receipt ID", "Date", "Amount", "Recurring Total Months", "Recurrence Number", "Recipient",
    "Fundraising Page", "Fundraising Partner", "Reference Code 2", "Reference Code", "Donor First Name",
    "Donor Last Name", "Donor Addr1", "Donor Addr2", "Donor City", "Donor State", "Donor ZIP", "Donor Country",
    "Donor Occupation", "Donor Employer", "Donor Email", "Donor Phone", "New Express Signup", "Comments",
    "Check Number", "Check Date", "Employer Addr1", "Employer Addr2", "Employer City", "Employer State",
    "Employer ZIP", "Employer Country", "Donor ID", "Fundraiser ID", "Fundraiser Recipient ID",
    "Fundraiser Contact Email", "Fundraiser Contact First Name", "Fundraiser Contact Last Name", "Partner ID",
    "Partner Contact Email", "Partner Contact First Name", "Partner Contact Last Name", "Reserved", "Lineitem ID",
    "AB Test Name", "AB Variation", "Recipient Committee", "Recipient ID", "Recipient Gov ID", "Recipient Election",
    "Reserved", "Payment ID", "Payment Date", "Disbursement ID", "Disbursement Date", "Recovery ID",
    "Recovery Date", "Refund ID", "Refund Date", "Fee", "Recur Weekly", "ActBlue Express Lane", "Reserved",
    "Card Type", "Reserved", "Mobile", "Recurring Upsell Shown", "Recurring Upsell Succeeded", "Double Down",
    "Smart Recurring", "Monthly Recurring Amount", "Apple Pay", "Card Replaced by Account Updater",
    "ActBlue Express Donor", "Custom Field 1 Label", "Custom Field 1 Value", "Donor US Passport Number",
    "Text Message Opt In", "Gift Identifier", "Gift Declined", "Shipping Addr1", "Shipping City", "Shipping State",
    "Shipping Zip", "Shipping Country", "Weekly Recurring Amount", "Smart Boost Amount", "Smart Boost Shown",
    "Bump Recurring Seen", "Bump Recurring Succeeded", "Weekly to Monthly Rollover Date", "Weekly Recurring Sunset",
    "Recurring Type", "Recurring Pledged", "Paypal", "Kind", "Managed Entity Name", "Managed Entity Committee Name",
]  # fmt: skip


def row(**values):
    """One line item of a $27 gift from Dana to Rivera for Iowa (C00123456); keywords override columns."""
    base = {
        "Receipt ID": "AB1001",
        "Date": "2026-03-05 14:22:10",
        "Amount": "27.00",
        "Recurrence Number": "1",
        "Recipient": "Rivera for Iowa",
        "Recipient Gov ID": "C00123456",
        "Reference Code": "email-0305",
        "Reference Code 2": "footer",
        "Donor First Name": "Dana",
        "Donor Last Name": "Whitfield",
        "Donor Addr1": "12 Elm St",
        "Donor City": "Ames",
        "Donor State": "IA",
        "Donor ZIP": "50010",
        "Donor Country": "United States",
        "Donor Occupation": "Librarian",
        "Donor Employer": "Ames Public Library",
        "Donor Email": "dana@example.com",
        "Lineitem ID": "5001",
        "Payment ID": "PAY-77",  # ActBlue's payout to the committee: many charges share it
    }
    base.update({key.replace("_", " "): value for key, value in values.items()})
    unknown = set(base) - set(COLUMNS)
    assert not unknown, unknown
    return [base.get(column, "") for column in COLUMNS]


def csv_text(*rows, columns=COLUMNS):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


@pytest.fixture
def write(tmp_path):
    def write(*rows, name="actblue.csv", columns=COLUMNS):
        path = tmp_path / name
        path.write_text(csv_text(*rows, columns=columns), encoding="utf-8")
        return path

    return write


def read_report(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [(int(r["line"]), r["reason"]) for r in csv.DictReader(f)]


def counts(summary):
    return (summary.imported, summary.refunded, summary.skipped, summary.rejected)


# One charge, one contribution ----------------------------------------------------------------


def test_it_imports_a_one_recipient_contribution_as_history(committee, write, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        summary = import_actblue(path=write(row()))
    assert counts(summary) == (1, 0, 0, 0) and summary.contributions == 1 and summary.rows == 1

    contribution = Contribution.objects.get()
    assert (contribution.amount_cents, contribution.method, contribution.source) == (2700, "card", "import")
    assert (contribution.processor, contribution.charge_id) == ("actblue", "")
    assert contribution.idempotency_key == "actblue:AB1001:1"
    # 14:22:10 in Des Moines' Eastern-time export is 19:22:10 UTC (before daylight saving starts).
    assert contribution.received_at == datetime.datetime(2026, 3, 5, 19, 22, 10, tzinfo=datetime.UTC)
    assert (contribution.refcode, contribution.refcode2) == ("email-0305", "footer")
    assert (contribution.employer, contribution.occupation) == ("Ames Public Library", "Librarian")
    assert contribution.person.emails.get().address == "dana@example.com"
    item = contribution.line_items.get()
    assert (item.committee, item.amount_cents, item.election) == (committee, 2700, "P2026")
    assert contribution.receipt_sent_at is None
    assert mail.outbox == []  # history: nobody is emailed a receipt


def test_actblue_times_are_eastern_with_daylight_saving():
    assert parse_received_at("2026-07-04 09:00:00") == datetime.datetime(2026, 7, 4, 13, tzinfo=datetime.UTC)
    assert parse_received_at("01/15/2026 09:00") == datetime.datetime(2026, 1, 15, 14, tzinfo=datetime.UTC)
    with pytest.raises(ValueError):
        parse_received_at("yesterday")


def test_amounts_are_dollars_and_whole_cents():
    assert (parse_cents("1,234.50"), parse_cents("$27"), parse_cents("-27.00")) == (123450, 2700, -2700)
    for bad in ("27.001", "twelve", "", "NaN"):
        with pytest.raises(ValueError):
            parse_cents(bad)


def test_a_check_number_makes_it_a_check(committee, write):
    import_actblue(path=write(row(**{"Check Number": "1042"})))
    contribution = Contribution.objects.get()
    assert (contribution.method, contribution.check_number) == ("check", "1042")


def test_a_split_charge_is_one_contribution_with_each_committees_exact_cents(committee, second_committee, write):
    # The second recipient has no Gov ID in the file: it is found by its exact name.
    rows = [
        row(Amount="10.00", **{"Lineitem ID": "5001"}),
        row(Amount="17.00", Recipient="Iowa Victory Fund", **{"Recipient Gov ID": "", "Lineitem ID": "5002"}),
    ]
    summary = import_actblue(path=write(*rows))
    assert counts(summary) == (2, 0, 0, 0) and summary.contributions == 1

    contribution = Contribution.objects.get()
    assert contribution.amount_cents == 2700
    amounts = dict(contribution.line_items.values_list("committee_id", "amount_cents"))
    assert amounts == {committee.pk: 1000, second_committee.pk: 1700}


def test_the_rows_of_a_split_charge_need_not_be_together(committee, second_committee, write):
    rows = [
        row(Amount="10.00", **{"Lineitem ID": "5001"}),
        row(**{"Receipt ID": "AB2002", "Lineitem ID": "6001", "Donor Email": "lee@example.com"}),
        row(Amount="17.00", **{"Recipient Gov ID": "C00654321", "Lineitem ID": "5002"}),
    ]
    import_actblue(path=write(*rows))
    split = Contribution.objects.get(idempotency_key="actblue:AB1001:1")
    assert sorted(split.line_items.values_list("amount_cents", flat=True)) == [1000, 1700]
    assert Contribution.objects.count() == 2


def test_a_split_is_recorded_to_the_exact_cent(committee, second_committee, write):
    rows = [
        row(Amount="333.33", **{"Lineitem ID": "5001"}),
        row(Amount="666.67", **{"Recipient Gov ID": "C00654321", "Lineitem ID": "5002"}),
    ]
    summary = import_actblue(path=write(*rows))
    assert counts(summary)[3] == 0
    contribution = Contribution.objects.get()
    assert contribution.amount_cents == 100000
    amounts = dict(contribution.line_items.values_list("committee__fec_id", "amount_cents"))
    assert amounts == {"C00123456": 33333, "C00654321": 66667}


def test_recurring_installments_of_one_receipt_are_separate_contributions(committee, write):
    rows = [
        row(**{"Recurrence Number": "1", "Lineitem ID": "5001", "Recurring Total Months": "12"}),
        row(Date="2026-04-05 14:22:10", **{"Recurrence Number": "2", "Lineitem ID": "5101"}),
        row(Date="2026-05-05 14:22:10", **{"Recurrence Number": "3", "Lineitem ID": "5201"}),
    ]
    summary = import_actblue(path=write(*rows))
    assert summary.contributions == 3
    keys = sorted(Contribution.objects.values_list("idempotency_key", flat=True))
    assert keys == ["actblue:AB1001:1", "actblue:AB1001:2", "actblue:AB1001:3"]
    assert Person.objects.count() == 1
    assert LineItem.objects.filter(person__isnull=False).count() == 3


# Running again -------------------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing(committee, second_committee, write):
    path = write(
        row(Amount="10.00", **{"Lineitem ID": "5001"}),
        row(Amount="17.00", **{"Recipient Gov ID": "C00654321", "Lineitem ID": "5002"}),
        row(**{"Receipt ID": "AB2002", "Lineitem ID": "6001", "Donor Email": "lee@example.com"}),
    )
    first = import_actblue(path=path)
    assert counts(first) == (3, 0, 0, 0)
    before = list(Contribution.objects.values_list("pk", "amount_cents").order_by("pk"))

    second = import_actblue(path=path)
    assert counts(second) == (0, 0, 3, 0) and second.contributions == 0
    assert list(Contribution.objects.values_list("pk", "amount_cents").order_by("pk")) == before
    assert LineItem.objects.count() == 3


def test_a_charge_imported_before_with_other_line_items_is_reported_not_skipped(
    committee, second_committee, write, tmp_path
):
    # One committee's export first, then the campaign-wide one with both line items of the charge.
    import_actblue(path=write(row(Amount="10.00", **{"Lineitem ID": "5001"}), name="one.csv"))
    both = write(
        row(Amount="10.00", **{"Lineitem ID": "5001"}),
        row(Amount="17.00", **{"Recipient Gov ID": "C00654321", "Lineitem ID": "5002"}),
        name="both.csv",
    )
    summary = import_actblue(path=both, report_path=tmp_path / "rejects.csv")
    assert counts(summary) == (0, 0, 0, 2)
    reasons = {reason for _, reason in read_report(tmp_path / "rejects.csv")}
    assert reasons == {"this charge was imported before as $10.00, but these rows add up to $27.00"}


# Refunds -------------------------------------------------------------------------------------


def test_a_refund_file_refunds_once_however_often_it_is_imported(committee, write):
    import_actblue(path=write(row(), name="paid.csv"))
    refunds = write(row(**{"Refund ID": "R-9", "Refund Date": "2026-03-20 10:00:00"}), name="refunds.csv")

    first = import_actblue(path=refunds)
    assert counts(first) == (0, 1, 0, 0)
    second = import_actblue(path=refunds)
    assert counts(second) == (0, 0, 1, 0)

    refund = Refund.objects.get()
    assert (refund.amount_cents, refund.external_id) == (2700, "actblue-refund:R-9")
    # Dated when ActBlue gave the money back (Eastern time), which decides its FEC report.
    assert refund.created_at == datetime.datetime(2026, 3, 20, 14, 0, tzinfo=datetime.UTC)
    contribution = Contribution.objects.get()
    assert (contribution.refunded_cents, contribution.status) == (2700, ContributionStatus.REFUNDED)
    assert LineItem.objects.get().refunded_cents == 2700
    activity = Activity.objects.get(kind="donation_refunded")
    assert activity.occurred_at == refund.created_at


def test_a_refund_with_a_date_that_is_no_date_is_rejected(committee, write, tmp_path):
    import_actblue(path=write(row(), name="paid.csv"))
    refunds = write(row(**{"Refund ID": "R-9", "Refund Date": "last Tuesday"}), name="refunds.csv")
    summary = import_actblue(path=refunds, report_path=tmp_path / "rejects.csv")
    assert counts(summary) == (0, 0, 0, 1) and not Refund.objects.exists()
    [(line, reason)] = read_report(tmp_path / "rejects.csv")
    assert line == 2 and "Refund Date last Tuesday is not a date" in reason


def test_a_refund_row_without_the_paid_file_records_the_contribution_and_its_refund(committee, write):
    summary = import_actblue(path=write(row(Amount="-27.00", **{"Refund ID": "R-9"})))
    assert counts(summary) == (0, 1, 0, 0) and summary.contributions == 1
    contribution = Contribution.objects.get()
    assert (contribution.amount_cents, contribution.refunded_cents) == (2700, 2700)


def test_refunding_one_committees_part_of_a_split_is_refunded_to_that_committee(committee, second_committee, write):
    paid = [
        row(Amount="10.00", **{"Lineitem ID": "5001"}),
        row(Amount="17.00", **{"Recipient Gov ID": "C00654321", "Lineitem ID": "5002"}),
    ]
    import_actblue(path=write(*paid, name="paid.csv"))
    refund = row(Amount="17.00", **{"Recipient Gov ID": "C00654321", "Lineitem ID": "5002", "Refund ID": "R-1"})
    summary = import_actblue(path=write(refund, name="refunds.csv"))
    assert counts(summary) == (0, 1, 0, 0)
    refunded = dict(LineItem.objects.values_list("committee_id", "refunded_cents"))
    assert refunded == {committee.pk: 0, second_committee.pk: 1700}


def test_refunding_the_first_committees_part_of_a_split_is_refunded_by_that_committee(
    committee, second_committee, write
):
    paid = [
        row(Amount="10.00", **{"Lineitem ID": "5001"}),
        row(Amount="17.00", **{"Recipient Gov ID": "C00654321", "Lineitem ID": "5002"}),
    ]
    import_actblue(path=write(*paid, name="paid.csv"))
    # The staff button would take a refund from the last-designated part; ActBlue says whose it was.
    refund = row(Amount="10.00", **{"Lineitem ID": "5001", "Refund ID": "R-1"})
    summary = import_actblue(path=write(refund, name="refunds.csv"))
    assert counts(summary) == (0, 1, 0, 0)
    refunded = dict(LineItem.objects.values_list("committee_id", "refunded_cents"))
    assert refunded == {committee.pk: 1000, second_committee.pk: 0}
    [line] = Refund.objects.get().lines.all()
    assert (line.line_item.committee_id, line.amount_cents) == (committee.pk, 1000)


def test_a_refund_of_more_than_a_committees_part_is_rejected(committee, second_committee, write, tmp_path):
    paid = [
        row(Amount="10.00", **{"Lineitem ID": "5001"}),
        row(Amount="17.00", **{"Recipient Gov ID": "C00654321", "Lineitem ID": "5002"}),
    ]
    import_actblue(path=write(*paid, name="paid.csv"))
    refund = row(Amount="12.00", **{"Lineitem ID": "5001", "Refund ID": "R-1"})
    summary = import_actblue(path=write(refund, name="refunds.csv"), report_path=tmp_path / "rejects.csv")
    assert counts(summary) == (0, 0, 0, 1)
    assert not Refund.objects.exists() and not LineItem.objects.filter(refunded_cents__gt=0).exists()
    [(line, reason)] = read_report(tmp_path / "rejects.csv")
    assert line == 2 and "$2.00 more than is left of a recipient's part" in reason


# Rejected rows ------------------------------------------------------------------------------


def test_bad_rows_are_rejected_with_line_and_reason_and_the_rest_kept(committee, second_committee, write, tmp_path):
    rows = [
        row(),  # line 2: good
        row(Amount="twelve", **{"Receipt ID": "AB2", "Lineitem ID": "2"}),  # line 3
        row(Date="last tuesday", **{"Receipt ID": "AB3", "Lineitem ID": "3"}),  # line 4
        row(**{"Receipt ID": "AB4", "Lineitem ID": "4", "Donor Last Name": ""}),  # line 5
        row(**{"Receipt ID": "AB5", "Lineitem ID": "5", "Donor Email": "not-an-email"}),  # line 6
        # A split charge with one bad line item: both of its rows are rejected, neither recorded.
        row(**{"Receipt ID": "AB6", "Lineitem ID": "61"}),  # line 7
        row(Amount="0", **{"Receipt ID": "AB6", "Lineitem ID": "62", "Recipient Gov ID": "C00654321"}),  # line 8
        row(**{"Receipt ID": "", "Lineitem ID": "7"}),  # line 9
        row(**{"Receipt ID": "AB8", "Lineitem ID": "8", "Donor Email": "lee@example.com"}),  # line 10: good
    ]
    summary = import_actblue(path=write(*rows), report_path=tmp_path / "rejects.csv")

    assert counts(summary) == (2, 0, 0, 7)
    assert summary.total == summary.rows == 9
    assert Contribution.objects.count() == 2
    assert read_report(tmp_path / "rejects.csv") == [
        (3, "the Amount twelve is not an amount of money"),
        (4, "the Date last tuesday is not a date"),
        (5, "the donor's first or last name is missing"),
        (6, "not-an-email is not a valid email address"),
        (7, "another line item of this charge was rejected (line 8)"),
        (8, "the Amount 0 is not an amount of money"),
        (9, "no Receipt ID"),
    ]


def test_an_unknown_recipient_committee_is_rejected(committee, write, tmp_path):
    rows = [
        # Named like ours, but the FEC id says it is another committee.
        row(**{"Recipient Gov ID": "C00999999"}),
        row(Recipient="Friends of Someone Else", **{"Recipient Gov ID": "", "Receipt ID": "AB2", "Lineitem ID": "2"}),
    ]
    summary = import_actblue(path=write(*rows), report_path=tmp_path / "rejects.csv")
    assert counts(summary) == (0, 0, 0, 2)
    assert not Contribution.objects.exists() and not Person.objects.exists()
    assert read_report(tmp_path / "rejects.csv") == [
        (2, "no committee here has the FEC id C00999999"),
        (3, "no committee here is named Friends of Someone Else"),
    ]


def test_a_file_without_actblues_columns_is_refused_naming_them(write):
    columns = [c for c in COLUMNS if c not in ("Lineitem ID", "Recipient")]
    with pytest.raises(ActBlueFileError) as error:
        import_actblue(path=write(columns=columns))
    assert "“Recipient”" in str(error.value) and "“Lineitem ID”" in str(error.value)


# Donors and compliance ------------------------------------------------------------------------


def test_the_donor_is_matched_to_the_person_with_that_email(committee, write, make_person):
    dana = make_person(email="Dana@Example.com", given_name="Dana", family_name="Whitfield")
    import_actblue(path=write(row(**{"Donor Email": "dana@example.com"})))
    assert Contribution.objects.get().person == dana
    assert Person.objects.count() == 1


def test_history_over_the_limit_is_accepted_with_a_compliance_case(committee, write):
    # The 2026 limit is $3,500 per election; the money has moved, so the excess is queued for refund.
    import_actblue(path=write(row(Amount="4000.00")))
    contribution = Contribution.objects.get()
    assert contribution.amount_cents == 400000
    case = ComplianceCase.objects.get()
    assert (case.kind, case.action, case.amount_cents) == (CaseKind.OVER_LIMIT, CaseAction.REFUND_QUEUED, 50000)
    assert case.contribution == contribution


def test_history_sends_no_best_efforts_email(committee, write, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        import_actblue(path=write(row(Amount="250.00", **{"Donor Employer": "", "Donor Occupation": ""})))
    assert Contribution.objects.get().line_items.get().itemized
    assert mail.outbox == []


# The command ---------------------------------------------------------------------------------


def test_the_command_prints_the_counts_and_writes_the_rejects(committee, write, tmp_path):
    path = write(row(), row(Amount="-", **{"Receipt ID": "AB2", "Lineitem ID": "2"}))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_actblue", str(path), "--rejects", str(tmp_path / "out.csv"), stdout=out, stderr=err)
    assert out.getvalue().strip() == "rows 2: imported 1 (1 contributions), refunded 0, already imported 0, rejected 1"
    assert read_report(tmp_path / "out.csv") == [(3, "the Amount - is not an amount of money")]


def test_the_command_refuses_a_file_that_is_no_actblue_export(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("email,first_name\nann@example.com,Ann\n")
    with pytest.raises(CommandError, match="Receipt ID"):
        call_command("import_actblue", str(path))


# The staff page ------------------------------------------------------------------------------


@pytest.fixture
def import_dir(settings, tmp_path):
    settings.IMPORT_DIR = tmp_path / "imports"
    return settings.IMPORT_DIR


def upload(client, content, name="actblue-2026.csv"):
    return client.post(reverse("donations:actblue_import"), {"file": SimpleUploadedFile(name, content.encode())})


def test_outsiders_are_refused_and_visitors_sent_to_log_in(client, outsider_client, import_dir):
    url = reverse("donations:actblue_import")
    assert outsider_client.get(url).status_code == 403
    assert upload(outsider_client, csv_text(row())).status_code == 403
    assert not Contribution.objects.exists()
    outsider_client.logout()
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_an_organizer_uploads_a_file_and_sees_the_counts_and_rejected_rows(
    staff_client, committee, import_dir, django_capture_on_commit_callbacks
):
    page = staff_client.get(reverse("donations:actblue_import"))
    assert page.status_code == 200 and 'type="file"' in page.content.decode()

    content = csv_text(row(), row(**{"Receipt ID": "AB2", "Lineitem ID": "2", "Recipient Gov ID": "C00999999"}))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = upload(staff_client, content)
    assert len(callbacks) == 1 and response.status_code == 302
    assert Contribution.objects.get().source == "import"

    html = staff_client.get(response["Location"]).content.decode()
    assert "actblue-2026.csv" in html
    assert '<div class="stat" id="count-imported">1</div>' in html
    assert '<div class="stat" id="count-rejected">1</div>' in html
    assert "no committee here has the FEC id C00999999" in html
    assert not list(import_dir.glob("actblue/*[0-9a-f].csv"))  # the upload, personal data, is gone

    report = staff_client.get(response["Location"] + "rejected.csv")
    assert report.status_code == 200
    assert b"C00999999" in b"".join(report.streaming_content)
    assert "actblue-2026.csv" in staff_client.get(reverse("donations:actblue_import")).content.decode()


def test_an_upload_that_is_no_actblue_export_is_refused_on_the_spot(staff_client, import_dir):
    response = upload(staff_client, "email,first_name\nann@example.com,Ann\n", name="people.csv")
    assert response.status_code == 400
    assert "not an ActBlue contribution export" in response.content.decode()
    assert not list(import_dir.glob("actblue/*"))
