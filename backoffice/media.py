"""Public media (wine photos) served from the database, by every web process alike.

Only names that look like a photo under the public prefix are looked up at all; anything else,
however it is spelt (``..``, NUL, a private file's name, a very long name), is a 404. Photo names
carry a hash of their content (shop.images), so browsers and proxies may keep them for a year.
"""

import hashlib
import posixpath
import re

from django.http import Http404, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from core.models import StoredFile
from core.storage import PUBLIC_PREFIX

CONTENT_TYPES = {
    ".webp": "image/webp",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}
# Folders of plain names ending in an image extension: no dot elsewhere, so no "..".
NAME = re.compile(r"[A-Za-z0-9_-]{1,100}(?:/[A-Za-z0-9_-]{1,100}){0,3}\.(?:webp|jpe?g|png)")
# The name starts with a content hash: the bytes behind it never change.
CONTENT_ADDRESSED = re.compile(r"(?:^|/)[0-9a-f]{16,64}-[^/]*$")
IMMUTABLE = "public, max-age=31536000, immutable"
# Names without a hash may be replaced: browsers check again after an hour.
REVALIDATE = "public, max-age=3600"


@require_safe
def media_file(request, name: str):
    if len(name) > 255 or not NAME.fullmatch(name):
        raise Http404("No such file.")
    stored = StoredFile.objects.filter(name=f"{PUBLIC_PREFIX}{name}").values("size", "created")
    info = stored.first()
    if info is None:
        raise Http404("No such file.")
    tag = hashlib.sha256(f"{name}:{info['size']}:{info['created'].isoformat()}".encode())
    etag = f'"{tag.hexdigest()[:32]}"'
    modified = int(info["created"].timestamp())  # HTTP dates have whole seconds
    response = get_conditional_response(request, etag=etag, last_modified=modified)
    if response is None:
        content = stored.values_list("content", flat=True).first()
        if content is None:  # deleted since the first look
            raise Http404("No such file.")
        extension = posixpath.splitext(name)[1].lower()
        response = HttpResponse(bytes(content), content_type=CONTENT_TYPES[extension])
        response["Content-Length"] = str(info["size"])
    response["ETag"] = etag
    response["Last-Modified"] = http_date(modified)
    response["Cache-Control"] = IMMUTABLE if CONTENT_ADDRESSED.search(name) else REVALIDATE
    return response
