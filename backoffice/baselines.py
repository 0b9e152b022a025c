"""The floors that bench/ measures pages against: each does one thing the page also does.

They answer 404 unless BENCH_BASELINES is on, which only the benchmark's environment sets.
"""

from functools import wraps

from django.conf import settings
from django.http import Http404, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from backoffice.models import BaselineRow


def _baseline(view):
    @wraps(view)
    def wrapped(request):
        if not settings.BENCH_BASELINES:
            raise Http404
        view(request)
        return HttpResponse("ok", content_type="text/plain")

    return wrapped


@require_GET
@_baseline
def session_read(request) -> None:
    """Read the session, as the cart page does, and leave it unchanged."""
    request.session.get("cart")


@require_POST
@_baseline
def session_save(request) -> None:
    """Read the session and change it, so that the middleware saves it, as adding to a cart does."""
    request.session["baseline"] = request.session.get("baseline", 0) + 1


@csrf_exempt  # as Stripe's webhook
@require_POST
@_baseline
def row_insert(request) -> None:
    """Insert one row and commit, the floor of the webhook's write."""
    BaselineRow.objects.create()


urlpatterns = [
    path("session/read/", session_read, name="session_read"),
    path("session/save/", session_save, name="session_save"),
    path("row/insert/", row_insert, name="row_insert"),
]
