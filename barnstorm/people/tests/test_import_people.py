import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DataError

from barnstorm.activity.models import Activity
from barnstorm.people import imports
from barnstorm.people.imports import ImportFileError, ImportSummary, guess_mapping, import_people
from barnstorm.people.models import EmailAddress, Person, PhoneNumber, Tag
from barnstorm.people.services import PersonInput, person_upsert

pytestmark = pytest.mark.django_db

HEADER = "first_name,last_name,email,phone,zip"


@pytest.fixture
def write(tmp_path):
    """Write a CSV file from text (str is encoded as UTF-8, bytes are written as they are)."""

    def write(content, name="people.csv"):
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return write


def read_report(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# Columns --------------------------------------------------------------------------------------


def test_it_recognises_common_header_names():
    headers = [
        "First Name",
        "family_name",
        "Email Address",
        "Mobile",
        "postal_code",
        "Address Line 1",
        "address2",
        "City",
        "State",
        "Employer",
        "Occupation",
        "Tags",
        "Middle Name",
        "Source",
        "Referral Code",
        "Shirt size",
    ]
    assert guess_mapping(headers) == {
        "First Name": "given_name",
        "family_name": "family_name",
        "Email Address": "email",
        "Mobile": "phone",
        "postal_code": "zip_code",
        "Address Line 1": "address1",
        "address2": "address2",
        "City": "city",
        "State": "state",
        "Employer": "employer",
        "Occupation": "occupation",
        "Tags": "tags",
        "Middle Name": "additional_name",
        "Source": "source",
        "Referral Code": "referral_code",
    }


@pytest.mark.parametrize(
    "header,target",
    [
        ("given_name", "given_name"),
        ("firstName", "given_name"),
        ("last_name", "family_name"),
        ("E-mail", "email"),
        ("email", "email"),
        ("phone", "phone"),
        ("zip", "zip_code"),
        ("ZIP Code", "zip_code"),
        ("street", "address1"),
        ("address_line_1", "address1"),
    ],
)
def test_it_recognises_header_variants(header, target):
    assert guess_mapping([header]) == {header: target}


def test_the_first_of_two_columns_for_one_field_wins():
    assert guess_mapping(["Phone", "Mobile"]) == {"Phone": "phone"}


def test_it_imports_every_recognised_column(write):
    path = write(
        "First Name,Middle Name,Last Name,Email Address,Mobile,Address,Address2,City,State,ZIP Code,"
        "Employer,Occupation,Tags,Source,Referral Code\n"
        "Ann,Marie,Lee, Ann@Example.com ,(515) 555-0134,1 Main St,Apt 2,,,50309,"
        "Acme,Nurse,volunteer; donor,rally,FRIEND1\n"
    )
    summary = import_people(path=path)
    assert (summary.imported, summary.updated, summary.rejected) == (1, 0, 0)
    person = Person.objects.get()
    assert (person.given_name, person.additional_name, person.family_name) == ("Ann", "Marie", "Lee")
    assert (person.employer, person.occupation) == ("Acme", "Nurse")
    assert (person.source, person.referral_code) == ("rally", "FRIEND1")
    assert person.emails.get().address == "ann@example.com"
    assert person.phones.get().number == "+15155550134"
    address = person.addresses.get()
    assert (address.line1, address.line2, address.city, address.state, address.zip_code) == (
        "1 Main St",
        "Apt 2",
        "Des Moines",
        "IA",
        "50309",
    )
    assert sorted(person.tags.values_list("name", flat=True)) == ["donor", "volunteer"]


def test_tags_are_split_on_semicolons_and_commas(write):
    path = write('email,tags\nann@example.com,"a, b;c"\n')
    import_people(path=path)
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["a", "b", "c"]


def test_an_explicit_mapping_overrides_recognition(write):
    path = write("Work address,email,Shirt,Notes\nann@work.example,ann@home.example,M,likes cats\n")
    import_people(path=path, mapping={"Work address": "email", "email": "", "Shirt": "custom:shirt_size"})
    person = Person.objects.get()
    assert list(person.emails.values_list("address", flat=True)) == ["ann@work.example"]
    # Mapped as custom:NAME, a column lands in custom_fields; an unmapped one (Notes) nowhere.
    assert person.custom_fields == {"shirt_size": "M"}


def test_an_explicit_mapping_takes_a_field_from_a_recognised_column(write):
    path = write("phone,Cell\n515-555-0100,515-555-0134\n")
    import_people(path=path, mapping={"Cell": "phone"})
    assert list(PhoneNumber.objects.values_list("number", flat=True)) == ["+15155550134"]


def test_a_mapping_may_name_fields_by_their_usual_headers(write):
    path = write("Courriel,Prénom\nann@example.com,Ann\n")
    import_people(path=path, mapping={"Courriel": "E-mail", "Prénom": "first_name"})
    assert Person.objects.get().given_name == "Ann"


@pytest.mark.parametrize(
    "mapping,message",
    [
        ({"Nope": "email"}, "no column called Nope"),
        ({"Name": "favourite_colour"}, "not a field"),
        ({"Name": "email", "Mail": "email"}, "2 columns are mapped to email"),
        ({"Mail": "custom:"}, "needs a name"),
    ],
)
def test_a_wrong_mapping_is_refused_before_anything_is_written(write, mapping, message):
    path = write("Name,Mail\nAnn,ann@example.com\n")
    with pytest.raises(ImportFileError, match=message):
        import_people(path=path, mapping=mapping)
    assert Person.objects.count() == 0


def test_a_file_without_an_email_or_phone_column_is_refused(write):
    path = write("first_name,zip\nAnn,50309\n")
    with pytest.raises(ImportFileError, match="email addresses or phone numbers"):
        import_people(path=path)


def test_an_empty_file_is_refused(write):
    with pytest.raises(ImportFileError, match="empty"):
        import_people(path=write(""))


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match="cannot be read"):
        import_people(path=tmp_path / "nope.csv")


# Counting and reporting ---------------------------------------------------------------------


def test_it_reports_every_rejected_row_with_its_line_and_reason(write, tmp_path):
    path = write(
        (
            f"{HEADER}\n"
            "Ann,Lee,ann@example.com,515-555-0134,50309\n"  # line 2: fine
            "Bob,Bad,not-an-email,,50309\n"  # 3: bad email
            "Cy,Bad,cy@example.com,12,50309\n"  # 4: bad phone
            "Di,Bad,di@example.com,,99999\n"  # 5: unknown ZIP
        ).encode()
        + b"Jos\xe9,Latin1,jose@example.com,,50309\n"  # 6: not UTF-8
        + (
            b"Ed,Short,ed@example.com\n"  # 7: too few columns
            b"Flo,Long,flo@example.com,,50309,extra\n"  # 8: too many columns
            b"\n"  # 9: blank, not a row
            b"Gus,Fine,gus@example.com,,03301\n"  # 10: fine
            b",,,,\n"  # 11: nothing in it, not a row
            b"Hal,Nobody,,,50309\n"  # 12: neither email nor phone
        )
    )
    report = tmp_path / "rejects.csv"
    summary = import_people(path=path, report_path=report)

    assert (summary.imported, summary.updated, summary.rejected) == (2, 0, 7)
    assert summary.total == 9
    assert str(summary) == "imported 2, updated 0, rejected 7"
    assert summary.report_path == report
    rows = read_report(report)
    assert [(r["line"], r["first_name"]) for r in rows] == [
        ("3", "Bob"),
        ("4", "Cy"),
        ("5", "Di"),
        ("6", "Jos\ufffd"),
        ("7", "Ed"),
        ("8", "Flo"),
        ("12", "Hal"),
    ]
    reasons = [r["reason"] for r in rows]
    assert "not a valid email address" in reasons[0]
    assert "not a valid phone number" in reasons[1]
    assert "not a known ZIP code" in reasons[2]
    assert reasons[3] == "wrong encoding"
    assert reasons[4] == "wrong number of columns: expected 5, found 3"
    assert reasons[5] == "wrong number of columns: expected 5, found 6"
    assert "email address or a phone number is required" in reasons[6]
    # The original columns are kept; a row's extra values follow the reason, nothing is lost.
    assert rows[0]["email"] == "not-an-email" and rows[0]["zip"] == "50309"
    assert rows[4]["phone"] == "" and rows[4]["email"] == "ed@example.com"
    assert rows[5][None] == ["extra"]
    assert set(EmailAddress.objects.values_list("address", flat=True)) == {"ann@example.com", "gus@example.com"}


def test_a_bad_row_never_costs_its_neighbours_their_place(write):
    rows = [f"P{i},Lee,p{i}@example.com,,50309" for i in range(10)]
    rows[4] = "Bad,Lee,p4@,,50309"
    path = write(HEADER + "\n" + "\n".join(rows) + "\n")
    summary = import_people(path=path, batch_size=3)
    assert (summary.imported, summary.rejected) == (9, 1)
    assert Person.objects.count() == 9


def test_a_batch_that_fails_in_the_database_is_retried_row_by_row(write, tmp_path, monkeypatch):
    upsert_many = imports.person_upsert_many

    def refuse_boom(*, rows, **kwargs):
        if any(row.email == "boom@example.com" for row in rows):
            raise DataError("value too long for type character varying(128)\nDETAIL: something")
        return upsert_many(rows=rows, **kwargs)

    monkeypatch.setattr(imports, "person_upsert_many", refuse_boom)
    path = write("email\na@example.com\nboom@example.com\nc@example.com\n")
    summary = import_people(path=path, report_path=tmp_path / "r.csv", batch_size=10)
    assert (summary.imported, summary.rejected) == (2, 1)
    [row] = read_report(tmp_path / "r.csv")
    assert (row["line"], row["reason"]) == ("3", "could not be saved: value too long for type character varying(128)")


def test_a_value_too_long_for_its_column_is_rejected_on_its_own(write, tmp_path):
    path = write(f"email,first_name,tags\na@example.com,{'x' * 129},\nb@example.com,Bo,{'t' * 101}\nc@example.com,C,\n")
    summary = import_people(path=path, report_path=tmp_path / "r.csv")
    assert (summary.imported, summary.rejected) == (1, 2)
    reasons = [r["reason"] for r in read_report(tmp_path / "r.csv")]
    assert reasons == ["First name is longer than 128 characters", "Tag is longer than 100 characters"]


def test_a_byte_order_mark_and_windows_newlines_are_read(write):
    path = write(b"\xef\xbb\xbfEmail,First Name\r\nann@example.com,Ann\r\nbob@example.com,Bob\r\n")
    summary = import_people(path=path)
    assert summary.imported == 2
    assert sorted(Person.objects.values_list("given_name", flat=True)) == ["Ann", "Bob"]


def test_a_quoted_value_may_span_lines_and_line_numbers_stay_right(write, tmp_path):
    path = write('email,first_name\nann@example.com,"Ann\nMarie"\nbad,Bo\n')
    summary = import_people(path=path, report_path=tmp_path / "r.csv")
    assert (summary.imported, summary.rejected) == (1, 1)
    assert read_report(tmp_path / "r.csv")[0]["line"] == "4"


def test_a_semicolon_separated_file_is_read(write):
    path = write("Email;First Name\nann@example.com;Ann\n")
    assert import_people(path=path).imported == 1
    assert Person.objects.get().given_name == "Ann"


def test_the_report_has_only_its_header_when_nothing_is_rejected(write, tmp_path):
    import_people(path=write("email\na@example.com\n"), report_path=tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text().splitlines() == ["email,line,reason"]


def test_progress_is_reported_after_each_batch(write):
    path = write("email\n" + "".join(f"p{i}@example.com\n" for i in range(5)))
    done = []
    import_people(path=path, batch_size=2, progress=done.append)
    assert done == [2, 4, 5]


# Matching -------------------------------------------------------------------------------------


def test_a_second_run_updates_everyone_and_adds_nobody(write):
    path = write(
        HEADER + "\n" + "".join(f"P{i},Lee,p{i}@example.com,515555{i:04d},50309\n" for i in range(25)) + "x,y,bad,,\n"
    )
    first = import_people(path=path, batch_size=10)
    assert str(first) == "imported 25, updated 0, rejected 1"
    people = Person.objects.count()
    second = import_people(path=path, batch_size=10)
    assert str(second) == "imported 0, updated 25, rejected 1"
    assert Person.objects.count() == people == 25
    assert PhoneNumber.objects.count() == 25 and EmailAddress.objects.count() == 25


@pytest.mark.parametrize("batch_size", [1000, 2])
def test_duplicates_within_the_file_are_one_person(write, batch_size):
    path = write(
        f"{HEADER}\n"
        "Ann,,ann@example.com,515-555-0134,\n"
        "Bob,,bob@example.com,,\n"
        ",Lee,ANN@example.com,,50309\n"  # same email
        "Annie,,,(515) 555-0134,\n"  # same phone
    )
    summary = import_people(path=path, batch_size=batch_size)
    assert (summary.imported, summary.updated, summary.rejected) == (2, 2, 0)
    assert Person.objects.count() == 2
    ann = Person.objects.get(emails__address="ann@example.com")
    assert (ann.given_name, ann.family_name) == ("Ann", "Lee")
    assert ann.addresses.get().zip_code == "50309"


def test_a_phone_first_seen_with_someone_already_here_matches_later_rows(write, make_person):
    """Within one batch, rows match each other as they would one at a time (person_upsert_many)."""
    ann = make_person(email="ann@example.com")
    path = write("email,phone\nann@example.com,515-555-0134\n,515-555-0134\nnew@example.com,515-555-0134\n")
    summary = import_people(path=path)
    assert (summary.imported, summary.updated) == (0, 3)
    assert Person.objects.count() == 1
    assert set(ann.emails.values_list("address", flat=True)) == {"ann@example.com", "new@example.com"}


def test_people_already_here_are_updated_not_duplicated(write, make_person):
    ann = make_person(email="ann@example.com", given_name="Ann", family_name="")
    path = write("email,last_name,employer\nANN@example.com,Lee,Acme\nbob@example.com,Bo,\n")
    summary = import_people(path=path)
    assert (summary.imported, summary.updated) == (1, 1)
    ann.refresh_from_db()
    assert (ann.given_name, ann.family_name, ann.employer) == ("Ann", "Lee", "Acme")
    assert Person.objects.count() == 2


def test_an_import_never_resubscribes(write, make_person):
    make_person(email="ann@example.com")
    EmailAddress.objects.update(status="unsubscribed")
    import_people(path=write("email\nann@example.com\n"))
    assert EmailAddress.objects.get().status == "unsubscribed"


def test_tags_given_to_the_import_go_on_every_row(write):
    path = write("email,tags\na@example.com,donor\nb@example.com,\n")
    import_people(path=path, tags=["Rally 2026"])
    for person in Person.objects.all():
        assert "Rally 2026" in person.tags.values_list("name", flat=True)
    assert Person.objects.get(emails__address="a@example.com").tags.count() == 2


def test_source_is_the_file_unless_a_column_says_otherwise(write, organizer):
    path = write("email,source\na@example.com,rally\nb@example.com,\n", name="iowa.csv")
    import_people(path=path, actor=organizer)
    assert Person.objects.get(emails__address="a@example.com").source == "rally"
    assert Person.objects.get(emails__address="b@example.com").source == "import: iowa.csv"
    activities = Activity.objects.filter(kind="imported")
    assert activities.count() == 2
    assert all(a.data["import"] == "iowa.csv" and a.actor == organizer for a in activities)


def test_a_source_already_known_is_kept(write):
    person_upsert(data=PersonInput(email="a@example.com", source="signup form"))
    import_people(path=write("email\na@example.com\n"))
    assert Person.objects.get().source == "signup form"


def test_the_summary_reads_as_the_command_prints_it():
    summary = ImportSummary(imported=3, updated=2, rejected=1)
    assert (summary.total, str(summary)) == (6, "imported 3, updated 2, rejected 1")


# The command ----------------------------------------------------------------------------------


def test_the_command_prints_the_summary_and_writes_the_report(write, tmp_path):
    path = write("E-mail,Given,Shirt\nann@example.com,Ann,M\nbad,Bob,L\n")
    report = tmp_path / "rejects.csv"
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_people",
        str(path),
        "--report",
        str(report),
        "--tag",
        "rally",
        "--tag",
        "iowa",
        "--map",
        "Given=first_name",
        "--map",
        "Shirt=custom:shirt",
        stdout=out,
        stderr=err,
    )
    assert out.getvalue() == "imported 1, updated 0, rejected 1\n"
    assert str(report) in err.getvalue()
    [row] = read_report(report)
    assert (row["E-mail"], row["Given"], row["line"]) == ("bad", "Bob", "3")
    person = Person.objects.get()
    assert (person.given_name, person.custom_fields) == ("Ann", {"shirt": "M"})
    assert sorted(person.tags.values_list("name", flat=True)) == ["iowa", "rally"]

    out = io.StringIO()
    call_command("import_people", str(path), stdout=out, stderr=io.StringIO())
    assert out.getvalue() == "imported 0, updated 1, rejected 1\n"


def test_the_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_people", str(tmp_path / "nope.csv"))


def test_the_command_refuses_a_file_with_nothing_to_match_people_by(write):
    with pytest.raises(CommandError, match="email addresses or phone numbers"):
        call_command("import_people", str(write("first_name\nAnn\n")))
    assert Person.objects.count() == 0


def test_the_command_refuses_a_malformed_map(write):
    with pytest.raises(CommandError, match="HEADER=FIELD"):
        call_command("import_people", str(write("email\na@example.com\n")), "--map", "email")
