"""A cap on request bodies, applied from Content-Length before anything reads the body.

DATA_UPLOAD_MAX_MEMORY_SIZE bounds form fields only; files stream to disk whatever their size,
and the import form's own limit is checked once the whole upload has been received. Django
reads no more than Content-Length (and nothing of a body sent without it), so refusing on the
header bounds what any request can make a web process read or store. The reverse proxy in front
enforces the same limit, for the connections it buffers.
"""

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string


class UploadLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0  # Django reads no body it can't measure
        if size > limit:
            page = render_to_string("413.html", {"limit": limit, "size": size})
            return HttpResponse(page, status=413)
        return self.get_response(request)
