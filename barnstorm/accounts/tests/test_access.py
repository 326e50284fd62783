import pytest
from django.urls import reverse

from barnstorm.accounts.models import Role, User

pytestmark = pytest.mark.django_db


def test_the_dashboard_refuses_anonymous_visitors(client):
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_dashboard_refuses_a_volunteer(outsider_client):
    assert outsider_client.get(reverse("accounts:home")).status_code == 403


def test_an_inactive_organizer_is_refused(client):
    user = User.objects.create_user("gone", password="pw-gone-12345", role=Role.ORGANIZER, is_active=False)
    client.force_login(user)
    assert client.get(reverse("accounts:home")).status_code in (302, 403)


def test_an_organizer_sees_the_dashboard_with_counts(staff_client, make_person):
    make_person(email="a@example.com")
    make_person(email="b@example.com")
    response = staff_client.get(reverse("accounts:home"))
    assert response.status_code == 200
    assert response.context["people_count"] == 2
    assert response.context["recent"].signups == 2


def test_an_admin_role_is_staff(client):
    client.force_login(User.objects.create_user("ada", password="pw-ada-123456", role=Role.ADMIN))
    assert client.get(reverse("accounts:home")).status_code == 200


def test_login_with_the_right_password_goes_home(client, organizer):
    response = client.post(reverse("accounts:login"), {"username": "olivia", "password": "pw-organizer-1"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:home")
    assert response.status_code == 200


def test_login_with_a_wrong_password_says_so(client, organizer):
    response = client.post(reverse("accounts:login"), {"username": "olivia", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_the_root_sends_visitors_to_signup_and_staff_home(client, organizer):
    assert client.get("/")["Location"] == reverse("people:signup")
    client.force_login(organizer)
    assert client.get("/")["Location"] == reverse("accounts:home")


def test_django_admin_is_for_superusers_only(client, organizer):
    client.force_login(organizer)
    assert client.get("/django-admin/").status_code == 302
    admin = User.objects.create_superuser("root", "root@campaign.test", "pw-root-123456")
    client.force_login(admin)
    assert client.get("/django-admin/people/person/").status_code == 200


def test_a_signed_in_supporter_lands_on_their_events(client, outsider):
    client.force_login(outsider)
    assert client.get("/")["Location"] == reverse("events:mine")


def test_the_login_page_offers_a_sign_in_link_by_email(client):
    assert reverse("accounts:magic_start") in client.get(reverse("accounts:login")).content.decode()
