"""`barnstorm bench`: a tiny search benchmark runs end to end and reports in the agreed format."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from barnstorm.people.models import Person

pytestmark = pytest.mark.django_db

RESULT = re.compile(
    r"^RESULT bench=(?P<bench>\w+) value=(?P<value>[\d.]+) unit=(?P<unit>\S+) "
    r"baseline=(?P<baseline>[\d.]+) ratio=(?P<ratio>[\d.]+)$"
)


def test_the_search_benchmark_ends_with_one_result_line():
    out = io.StringIO()

    call_command("bench", "search", "--scale", "0.0002", "--queries", "40", stdout=out)

    lines = out.getvalue().splitlines()
    results = [line for line in lines if line.startswith("RESULT")]
    assert len(results) == 1 and lines[-1] == results[0]
    match = RESULT.match(results[0])
    assert match, results[0]
    assert (match["bench"], match["unit"], float(match["baseline"])) == ("search", "ms", 50.0)
    assert float(match["ratio"]) == pytest.approx(float(match["value"]) / 50, abs=0.001)
    assert Person.objects.count() == 600


def test_it_refuses_a_database_with_people_it_did_not_create(make_person):
    make_person()

    with pytest.raises(CommandError, match="no benchmark created"):
        call_command("bench", "search", "--scale", "0.0002", stdout=io.StringIO())
