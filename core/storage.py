"""Files kept in the database, which every web and worker process shares: private files (no
public URL, served only by views that check permissions) and public media (wine photos, served to
anyone by the media view)."""

import posixpath
import uuid

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.deconstruct import deconstructible

# Every public file's row name starts with this; nothing else is ever served publicly.
PUBLIC_PREFIX = "public/"


@deconstructible
class DatabaseStorage(Storage):
    """Keep files in the ``StoredFile`` table; names never collide and nothing is public."""

    prefix = ""

    def _row(self, name: str) -> str:
        """Return the StoredFile name of a file of this storage."""
        if name.startswith(PUBLIC_PREFIX) and not self.prefix:
            # A private file under the public prefix would be served to anyone.
            raise SuspiciousFileOperation(f"Private files can't be named {PUBLIC_PREFIX}...")
        return f"{self.prefix}{name}"

    def _open(self, name, mode="rb"):
        from core.models import StoredFile

        try:
            stored = StoredFile.objects.only("content").get(name=self._row(name))
        except StoredFile.DoesNotExist:
            raise FileNotFoundError(name) from None
        return ContentFile(bytes(stored.content), name=name)

    def _save(self, name, content):
        from core.models import StoredFile

        if hasattr(content, "seek"):
            content.seek(0)
        data = content.read()
        if isinstance(data, str):
            data = data.encode()
        while True:
            try:
                with transaction.atomic():
                    StoredFile.objects.create(name=self._row(name), content=data, size=len(data))
                return name
            except IntegrityError:
                # Another process took the name between get_available_name and the insert.
                name = self.get_alternative_name(*posixpath.splitext(name))

    def get_available_name(self, name, max_length=None):
        """Return name as it is when it fits: _save takes another one if the name is taken,
        which saves asking the table first for every file."""
        if max_length is None or len(name) <= max_length:
            return name
        return super().get_available_name(name, max_length=max_length)

    def get_alternative_name(self, file_root, file_ext):
        return f"{file_root}_{uuid.uuid4().hex[:8]}{file_ext}"

    def delete(self, name):
        from core.models import StoredFile

        StoredFile.objects.filter(name=self._row(name)).delete()

    def exists(self, name):
        from core.models import StoredFile

        return StoredFile.objects.filter(name=self._row(name)).exists()

    def size(self, name):
        from core.models import StoredFile

        try:
            return StoredFile.objects.values_list("size", flat=True).get(name=self._row(name))
        except StoredFile.DoesNotExist:
            raise FileNotFoundError(name) from None

    def get_created_time(self, name):
        from core.models import StoredFile

        try:
            return StoredFile.objects.values_list("created", flat=True).get(name=self._row(name))
        except StoredFile.DoesNotExist:
            raise FileNotFoundError(name) from None

    def url(self, name):
        raise NotImplementedError("Private files have no URL; a view serves them.")


@deconstructible
class PublicDatabaseStorage(DatabaseStorage):
    """Public media (wine photos) in the same table, under their own prefix, with a URL."""

    prefix = PUBLIC_PREFIX

    def url(self, name):
        return reverse("media", kwargs={"name": name})


def private_storage() -> Storage:
    """Return the storage for invoices, reports and uploaded imports (STORAGES["private"])."""
    from django.core.files.storage import storages

    return storages["private"]


def media_storage() -> Storage:
    """Return the storage for public media, wine photos (STORAGES["media"])."""
    from django.core.files.storage import storages

    return storages["media"]
