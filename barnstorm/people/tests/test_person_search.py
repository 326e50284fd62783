import pytest

from barnstorm.people.selectors import person_search, person_search_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_person):
    made = {}
    for i, (given, family) in enumerate(
        [("Zoe", "Martin"), ("Al", "Mason"), ("Maria", "Lopez"), ("Mark", "Adams"), ("Bo", "Marsh"), ("Cy", "Ng")]
    ):
        made[f"{given} {family}"] = make_person(email=f"p{i}@example.com", given_name=given, family_name=family)
    return made


def names(page):
    return [p.full_name for p in page.people]


def test_one_word_lists_last_names_first_then_first_names(people):
    page = person_search_page(query="ma", page_size=10)
    assert names(page) == ["Bo Marsh", "Zoe Martin", "Al Mason", "Maria Lopez", "Mark Adams"]
    assert not page.has_next


def test_pages_run_on_from_last_names_into_first_names(people):
    pages = [person_search_page(query="MA", page=n, page_size=2) for n in (1, 2, 3, 4)]
    assert [names(p) for p in pages] == [
        ["Bo Marsh", "Zoe Martin"],
        ["Al Mason", "Maria Lopez"],
        ["Mark Adams"],
        [],
    ]
    assert [p.has_next for p in pages] == [True, True, False, False]


def test_a_page_past_every_last_name_counts_them_to_find_its_place(people):
    page = person_search_page(query="mar", page=2, page_size=2)  # Marsh, Martin | Maria, Mark
    assert names(page) == ["Maria Lopez", "Mark Adams"]


def test_two_words_are_a_first_name_and_a_last_name(people):
    assert names(person_search_page(query="mar ad")) == ["Mark Adams"]


def test_the_page_and_the_full_search_agree(people):
    assert {p.pk for p in person_search(query="ma")} == {p.pk for p in person_search_page(query="ma").people}


def test_filters_apply_to_both_lists(people, make_person):
    make_person(email="p1@example.com", tags=["host"])  # Al Mason
    make_person(email="p3@example.com", tags=["host"])  # Mark Adams
    assert names(person_search_page(query="ma", tag_id=people["Al Mason"].tags.get().pk)) == ["Al Mason", "Mark Adams"]
