import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile

from core.models import StoredFile
from core.storage import private_storage

pytestmark = pytest.mark.django_db


def test_saved_file_reads_back_and_names_never_collide():
    storage = private_storage()
    first = storage.save("invoices/WS-1.pdf", ContentFile(b"%PDF-one"))
    second = storage.save("invoices/WS-1.pdf", ContentFile(b"%PDF-two"))

    assert first == "invoices/WS-1.pdf"
    assert second != first and second.startswith("invoices/WS-1_")
    assert storage.open(first).read() == b"%PDF-one"
    assert storage.open(second).read() == b"%PDF-two"
    assert storage.size(second) == 8
    assert StoredFile.objects.count() == 2


def test_saving_a_file_is_one_insert(django_assert_num_queries):
    # In a savepoint, which a name taken meanwhile rolls back before another is tried.
    with django_assert_num_queries(3):
        name = private_storage().save("invoices/WS-2.pdf", ContentFile(b"%PDF-two"))

    assert StoredFile.objects.get(name=name).size == 8


def test_missing_file_and_delete():
    storage = private_storage()
    name = storage.save("reports/day.csv", ContentFile("date,revenue\n"))
    assert storage.exists(name)

    storage.delete(name)

    assert not storage.exists(name)
    with pytest.raises(FileNotFoundError):
        storage.open(name)
    with pytest.raises(FileNotFoundError):
        storage.size(name)


def test_private_files_have_no_url():
    with pytest.raises(NotImplementedError):
        private_storage().url("invoices/WS-1.pdf")


def test_private_storage_refuses_names_under_the_public_prefix():
    with pytest.raises(SuspiciousFileOperation):
        private_storage().save("public/wines/x.webp", ContentFile(b"x"))
