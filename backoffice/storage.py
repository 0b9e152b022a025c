"""Private storage: files with no public URL, served only by views that check permissions."""

import posixpath
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import IntegrityError, transaction
from django.utils.deconstruct import deconstructible


@deconstructible
class DatabaseStorage(Storage):
    """Keep files in the ``StoredFile`` table; names never collide and nothing is public."""

    def _open(self, name, mode="rb"):
        from backoffice.models import StoredFile

        try:
            stored = StoredFile.objects.only("content").get(name=name)
        except StoredFile.DoesNotExist:
            raise FileNotFoundError(name) from None
        return ContentFile(bytes(stored.content), name=name)

    def _save(self, name, content):
        from backoffice.models import StoredFile

        if hasattr(content, "seek"):
            content.seek(0)
        data = content.read()
        if isinstance(data, str):
            data = data.encode()
        while True:
            try:
                with transaction.atomic():
                    StoredFile.objects.create(name=name, content=data, size=len(data))
                return name
            except IntegrityError:
                # Another process took the name between get_available_name and the insert.
                name = self.get_alternative_name(*posixpath.splitext(name))

    def get_alternative_name(self, file_root, file_ext):
        return f"{file_root}_{uuid.uuid4().hex[:8]}{file_ext}"

    def delete(self, name):
        from backoffice.models import StoredFile

        StoredFile.objects.filter(name=name).delete()

    def exists(self, name):
        from backoffice.models import StoredFile

        return StoredFile.objects.filter(name=name).exists()

    def size(self, name):
        from backoffice.models import StoredFile

        try:
            return StoredFile.objects.values_list("size", flat=True).get(name=name)
        except StoredFile.DoesNotExist:
            raise FileNotFoundError(name) from None

    def url(self, name):
        raise NotImplementedError("Private files have no URL; a view serves them.")


def private_storage() -> Storage:
    """Return the storage for invoices, reports and uploaded imports (STORAGES["private"])."""
    from django.core.files.storage import storages

    return storages["private"]
