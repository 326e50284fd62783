import pytest
from django.urls import reverse

from barnstorm.accounts.models import Role, User
from barnstorm.people.models import EmailAddress, EmailStatus, LocalGroup
from barnstorm.people.services import group_member_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def groups(make_person):
    des_moines = LocalGroup.objects.create(name="Des Moines", slug="des-moines", state="IA")
    reno = LocalGroup.objects.create(name="Reno", slug="reno", state="NV")
    leader = make_person(email="lead@example.com", given_name="Lea")
    group_member_add(group=des_moines, person=leader, role="leader")
    group_member_add(group=des_moines, person=make_person(email="mem@example.com", given_name="Mo", phone="5155550101"))
    group_member_add(group=reno, person=make_person(email="reno@example.com", given_name="Rita", zip_code="89501"))
    user = User.objects.create_user("lea", password="pw-lea-123456", role=Role.VOLUNTEER, person=leader)
    return {"des_moines": des_moines, "reno": reno, "leader_user": user}


def test_a_leader_sees_their_groups_members_and_how_to_reach_them(client, groups):
    client.force_login(groups["leader_user"])
    index = client.get(reverse("people:groups"))
    assert [g.slug for g in index.context["groups"]] == ["des-moines"]
    html = client.get(reverse("people:group_detail", args=["des-moines"])).content.decode()
    assert "mem@example.com" in html and "+15155550101" in html
    assert "reno@example.com" not in html
    assert reverse("people:detail", args=[1]) not in html  # the staff person page is not theirs


def test_a_leader_is_refused_another_groups_members(client, groups):
    client.force_login(groups["leader_user"])
    assert client.get(reverse("people:group_detail", args=["reno"])).status_code == 403
    assert client.get(reverse("people:list")).status_code == 403


def test_a_member_who_leads_nothing_is_refused(client, groups):
    member = User.objects.create_user(
        "mo", password="pw-mo-1234567", person=EmailAddress.objects.get(address="mem@example.com").person
    )
    client.force_login(member)
    assert client.get(reverse("people:groups")).status_code == 403
    assert client.get(reverse("people:group_detail", args=["des-moines"])).status_code == 403


def test_unsubscribed_addresses_are_not_offered_to_leaders(client, groups):
    EmailAddress.objects.filter(address="mem@example.com").update(status=EmailStatus.UNSUBSCRIBED)
    client.force_login(groups["leader_user"])
    html = client.get(reverse("people:group_detail", args=["des-moines"])).content.decode()
    assert "mem@example.com" not in html


def test_a_leader_lands_on_their_groups_after_login(client, groups):
    response = client.post(reverse("accounts:login"), {"username": "lea", "password": "pw-lea-123456"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("people:groups")


def test_the_member_list_costs_the_same_queries_at_any_size(
    staff_client, groups, make_person, django_assert_max_num_queries
):
    url = reverse("people:group_detail", args=["des-moines"])
    with django_assert_max_num_queries(20) as few:
        staff_client.get(url)
    for i in range(20):
        group_member_add(
            group=groups["des_moines"], person=make_person(email=f"m{i}@example.com", phone=f"515555{i:04d}")
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = staff_client.get(url)
    assert len(response.context["page"].object_list) == 22


def test_organizers_start_a_group_placed_by_its_zip(staff_client, groups):
    response = staff_client.post(reverse("people:groups"), {"name": "Des Moines", "zip_code": "50309"})
    group = LocalGroup.objects.get(slug="des-moines-2")  # the first Des Moines keeps its address
    assert response["Location"] == reverse("people:group_detail", args=["des-moines-2"])
    assert (group.city, group.state) == ("Des Moines", "IA") and group.latitude is not None


def test_a_group_with_an_unknown_zip_is_refused_on_that_field(staff_client, groups):
    response = staff_client.post(reverse("people:groups"), {"name": "Nowhere", "zip_code": "00000"})
    assert response.status_code == 200 and response.context["form"].errors["zip_code"]
    assert not LocalGroup.objects.filter(name="Nowhere").exists()


def test_organizers_appoint_a_leader_by_email(staff_client, groups, organizer):
    url = reverse("people:group_detail", args=["reno"])
    staff_client.post(url, {"email": "MEM@example.com", "role": "leader"})
    membership = groups["reno"].groupmembership_set.get(person__emails__address="mem@example.com")
    assert membership.role == "leader"
    unknown = staff_client.post(url, {"email": "nobody@example.com", "role": "member"})
    assert "Nobody has that email address" in unknown.content.decode()


def test_leaders_cannot_start_groups_or_change_members(client, groups):
    client.force_login(groups["leader_user"])
    assert client.post(reverse("people:groups"), {"name": "Mine"}).status_code == 403
    url = reverse("people:group_detail", args=["des-moines"])
    assert client.post(url, {"email": "reno@example.com", "role": "leader"}).status_code == 403
    assert LocalGroup.objects.count() == 2
    assert not groups["des_moines"].groupmembership_set.filter(person__emails__address="reno@example.com").exists()
