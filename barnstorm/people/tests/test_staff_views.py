import pytest
from django.urls import reverse

from barnstorm.activity.models import Activity
from barnstorm.people.models import LocalGroup, MergeRecord, PeopleList, Person, Tag, Tagging
from barnstorm.people.services import group_member_add

pytestmark = pytest.mark.django_db

STAFF_PAGES = [
    ("people:list", {}),
    ("people:export", {}),
    ("people:add", {}),
    ("people:detail", {"person_id": 1}),
    ("people:merge", {"person_id": 1}),
    ("people:tags", {}),
    ("people:tag_edit", {"tag_id": 1}),
    ("people:lists", {}),
    ("people:groups", {}),
    ("people:group_detail", {"slug": "des-moines"}),
]
STAFF_ACTIONS = [
    ("people:tag_add", {"person_id": 1}),
    ("people:tag_remove", {"person_id": 1, "tag_id": 1}),
    ("people:list_add", {"person_id": 1}),
]


@pytest.fixture
def world(make_person):
    person = make_person(email="ann@example.com")
    Tag.objects.create(name="volunteer")
    LocalGroup.objects.create(name="Des Moines", slug="des-moines")
    return person


@pytest.mark.parametrize("name,kwargs", STAFF_PAGES + STAFF_ACTIONS)
def test_outsiders_are_refused(client, outsider, world, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    response = client.get(url) if (name, kwargs) in STAFF_PAGES else client.post(url, {"name": "x", "list": 1})
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(outsider)
    response = client.get(url) if (name, kwargs) in STAFF_PAGES else client.post(url, {"name": "x", "list": 1})
    assert response.status_code == 403
    assert Tagging.objects.count() == 0


def test_search_finds_a_person_by_email_phone_zip_and_name(staff_client, make_person):
    ann = make_person(email="ann@example.com", given_name="Ann", family_name="Lee", phone="515-555-0134")
    make_person(email="bob@example.com", given_name="Bob", family_name="Smith", zip_code="03301")
    for query in ["ANN@example.com", "(515) 555-0134", "50309", "Le", "ann", "Ann L"]:
        people = staff_client.get(reverse("people:list"), {"q": query}).context["people"]
        assert [p.pk for p in people] == [ann.pk], query
    assert staff_client.get(reverse("people:list"), {"q": "zz"}).context["people"] == []


def test_the_people_list_costs_the_same_queries_at_any_size(staff_client, make_person, django_assert_max_num_queries):
    make_person(email="first@example.com")
    with django_assert_max_num_queries(12) as few:
        staff_client.get(reverse("people:list"))
    for i in range(40):
        make_person(email=f"p{i}@example.com", phone=f"515555{i:04d}", tags=["t"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = staff_client.get(reverse("people:list"))
    assert len(response.context["people"]) == 41


def test_the_people_list_pages_without_counting(staff_client, make_person):
    for i in range(51):
        make_person(email=f"p{i}@example.com")
    first = staff_client.get(reverse("people:list"))
    assert first.context["has_next"] and len(first.context["people"]) == 50
    second = staff_client.get(reverse("people:list"), {"page": 2})
    assert not second.context["has_next"] and len(second.context["people"]) == 1


def test_an_htmx_search_returns_only_the_rows(staff_client, make_person):
    make_person(email="ann@example.com")
    response = staff_client.get(reverse("people:list"), {"q": "ann"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "ann@example.com" in html and "<html" not in html


def test_the_person_page_shows_contacts_and_timeline(staff_client, make_person):
    person = make_person(email="ann@example.com", phone="5155550134", tags=["volunteer"])
    html = staff_client.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert "ann@example.com" in html and "+15155550134" in html and "volunteer" in html
    assert "Signed up" in html and "Des Moines" in html


def test_an_unknown_person_is_404(staff_client):
    assert staff_client.get(reverse("people:detail", args=[999])).status_code == 404


def test_staff_add_a_person_through_the_one_service(staff_client, organizer):
    response = staff_client.post(
        reverse("people:add"),
        {"given_name": "Cy", "family_name": "Ng", "email": "cy@example.com", "zip_code": "89501", "occupation": "RN"},
    )
    person = Person.objects.get(emails__address="cy@example.com")
    assert response["Location"] == reverse("people:detail", args=[person.pk])
    assert person.occupation == "RN" and person.addresses.get().state == "NV"
    assert Activity.objects.get(person=person).actor == organizer


def test_staff_add_reports_a_bad_zip_on_its_field(staff_client):
    response = staff_client.post(
        reverse("people:add"), {"given_name": "Cy", "family_name": "Ng", "email": "cy@example.com", "zip_code": "00000"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["zip_code"]
    assert not Person.objects.exists()


def test_tags_are_added_and_removed_with_htmx(staff_client, make_person, organizer):
    person = make_person()
    response = staff_client.post(reverse("people:tag_add", args=[person.pk]), {"name": "Host"}, HTTP_HX_REQUEST="true")
    assert "Host" in response.content.decode()
    tag = Tag.objects.get(name="Host")
    staff_client.post(reverse("people:tag_remove", args=[person.pk, tag.pk]), HTTP_HX_REQUEST="true")
    assert not person.tags.exists()
    kinds = list(Activity.objects.filter(person=person).order_by("id").values_list("kind", "actor"))
    assert kinds[-2:] == [("tag_added", organizer.pk), ("tag_removed", organizer.pk)]


def test_tags_are_renamed_without_clashing(staff_client):
    tag, other = Tag.objects.create(name="vol"), Tag.objects.create(name="host")
    response = staff_client.post(reverse("people:tag_edit", args=[tag.pk]), {"name": "HOST"})
    assert "already exists" in response.content.decode()
    staff_client.post(reverse("people:tag_edit", args=[tag.pk]), {"name": "volunteer"})
    tag.refresh_from_db()
    assert tag.name == "volunteer"
    staff_client.post(reverse("people:tag_edit", args=[other.pk]), {"delete": "yes"})
    assert not Tag.objects.filter(pk=other.pk).exists()


def test_lists_are_created_filled_and_filter_the_search(staff_client, make_person):
    ann, bob = make_person(email="ann@example.com"), make_person(email="bob@example.com")
    staff_client.post(reverse("people:lists"), {"name": "Press", "description": "reporters"})
    press = PeopleList.objects.get(name="Press")
    staff_client.post(reverse("people:list_add", args=[ann.pk]), {"list": press.pk})
    people = staff_client.get(reverse("people:list"), {"list": press.pk}).context["people"]
    assert [p.pk for p in people] == [ann.pk]
    assert bob.pk not in [p.pk for p in people]
    duplicate = staff_client.post(reverse("people:lists"), {"name": "press"})
    assert "already exists" in duplicate.content.decode()


def test_groups_show_members_and_leaders(staff_client, make_person):
    group = LocalGroup.objects.create(name="Des Moines", slug="des-moines", state="IA")
    group_member_add(group=group, person=make_person(email="lead@example.com"), role="leader")
    group_member_add(group=group, person=make_person(email="m@example.com"))
    row = staff_client.get(reverse("people:groups")).context["groups"][0]
    assert (row.people_count, row.leader_count) == (2, 1)
    html = staff_client.get(reverse("people:group_detail", args=["des-moines"])).content.decode()
    assert "Leader" in html and "Member" in html


def test_merge_compares_then_moves_everything(staff_client, make_person, organizer):
    keep = make_person(email="ann@example.com", tags=["a"])
    dup = make_person(email="ann.lee@example.org", phone="5155550134", given_name="Annie", tags=["a", "b"])
    compare = staff_client.get(reverse("people:merge", args=[keep.pk]), {"other": "ann.lee@example.org"})
    assert compare.context["other"].pk == dup.pk
    assert Person.objects.filter(pk=dup.pk).exists()  # comparing changes nothing
    staff_client.post(reverse("people:merge", args=[keep.pk]), {"other": str(dup.pk), "confirm": "yes"})
    assert not Person.objects.filter(pk=dup.pk).exists()
    assert set(keep.emails.values_list("address", flat=True)) == {"ann@example.com", "ann.lee@example.org"}
    assert sorted(keep.tags.values_list("name", flat=True)) == ["a", "b"]
    record = MergeRecord.objects.get()
    assert (record.survivor_id, record.merged_person_id, record.actor) == (keep.pk, dup.pk, organizer)
    assert record.merged_snapshot["given_name"] == "Annie"


def test_merge_refuses_the_same_person(staff_client, make_person):
    keep = make_person()
    response = staff_client.get(reverse("people:merge", args=[keep.pk]), {"other": str(keep.pk)})
    assert "That is this person" in response.content.decode()


def test_staff_record_an_unsubscribe_and_a_stop_for_texts_and_calls(staff_client, make_person, organizer):
    person = make_person(email="ann@example.com", phone="5155550134", sms_consent=True)
    email, phone = person.emails.get(), person.phones.get()
    url = reverse("people:consent", args=[person.pk])
    for data in (
        {"action": "unsubscribe", "email": email.pk},
        {"action": "sms_opt_out", "phone": phone.pk},
        {"action": "do_not_call", "phone": phone.pk},
    ):
        assert staff_client.post(url, data)["Location"] == reverse("people:detail", args=[person.pk])
    email.refresh_from_db()
    phone.refresh_from_db()
    assert email.status == "unsubscribed" and not phone.can_text and phone.do_not_call
    kinds = set(Activity.objects.filter(person=person, actor=organizer).values_list("kind", flat=True))
    assert kinds == {"email_status", "sms_opt_out", "do_not_call"}


def test_consent_changes_refuse_outsiders_and_other_peoples_records(client, outsider, staff_client, make_person):
    ann, bob = make_person(email="ann@example.com"), make_person(email="bob@example.com")
    bobs_email = bob.emails.get()
    url = reverse("people:consent", args=[ann.pk])
    assert staff_client.post(url, {"action": "unsubscribe", "email": bobs_email.pk}).status_code == 404
    assert staff_client.post(url, {"action": "resubscribe", "email": bobs_email.pk}).status_code == 400
    staff_client.logout()
    client.force_login(outsider)
    assert client.post(url, {"action": "unsubscribe", "email": ann.emails.get().pk}).status_code == 403
    assert set(Person.objects.values_list("emails__status", flat=True)) == {"subscribed"}
