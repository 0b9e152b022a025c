import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from core.models import StoredFile
from core.search import LETTERS, SPELLED_OUT, Fold, fold, fold_search

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Château", "chateau"),
        ("LEFÈVRE", "lefevre"),
        ("Côtes-du-Rhône", "cotes-du-rhone"),
        ("Grüner Veltliner", "gruner veltliner"),
        ("Weißburgunder", "weissburgunder"),
        ("Cœur de Œnologue", "coeur de oenologue"),
        ("Lefe\u0300vre", "lefevre"),  # the accent typed as a mark of its own
        ("Ñandú Ørsted", "nandu orsted"),
    ],
)
def test_fold_drops_accents_and_case(typed, folded):
    assert fold(typed) == folded


def _in_database(text: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT ws_fold(%s)", [text])
        return cursor.fetchone()[0]


def test_the_database_folds_every_letter_of_the_table_as_python_does():
    every = "".join(LETTERS) + "".join(SPELLED_OUT) + "Lefe\u0300vre 'quoted' 100 %"
    assert _in_database(every) == fold(every)


@given(st.text(alphabet=st.characters(max_codepoint=0x2FF, exclude_categories=["Cs"])))
def test_the_database_folds_any_text_as_python_does(text):
    text = text.replace("\x00", "")
    assert _in_database(text) == fold(text)


def searchable_rows(names):
    """Return the stored files, after storing one named after each of names."""
    for name in names:
        StoredFile.objects.create(name=name, content=b"", size=0)
    return StoredFile.objects.all()


def test_fold_search_needs_every_word_in_some_field():
    wines = searchable_rows(["Château Margaux", "Chateau Lefèvre", "Domaine Lefevre"])
    names = lambda q: sorted(fold_search(wines, ["name"], q).values_list("name", flat=True))  # noqa: E731
    assert names("chateau") == ["Chateau Lefèvre", "Château Margaux"]
    assert names("LEFÈVRE") == ["Chateau Lefèvre", "Domaine Lefevre"]
    assert names("chateau  lefevre") == ["Chateau Lefèvre"]
    assert names("   ") == sorted(["Château Margaux", "Chateau Lefèvre", "Domaine Lefevre"])
    assert names("100%") == []  # LIKE's wildcards are searched for, not obeyed


def test_fold_is_an_expression_the_database_compares():
    searchable_rows(["Côte Rôtie"])
    assert connection.vendor in {"sqlite", "postgresql"}
    assert list(
        searchable_rows([]).annotate(folded=Fold("name")).values_list("folded", flat=True)
    ) == ["cote rotie"]
