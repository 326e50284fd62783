import io

import pytest
from django.core.management import call_command

from barnstorm.segments.models import Engagement, Level

pytestmark = pytest.mark.django_db


def test_the_demo_seed_puts_people_on_the_ladder():
    call_command("seed", "--people", "120", "--seed", "3", stdout=io.StringIO())
    levels = set(Engagement.objects.values_list("level", flat=True))
    assert Engagement.objects.count() > 100
    assert {Level.SUPPORTER, Level.DONOR} <= levels
