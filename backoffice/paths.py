"""Which part of the site a request is for, told by its path without resolving it."""

from functools import cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse


def is_admin_path(path_info: str) -> bool:
    """Return whether a request's path_info (the path without the script prefix the site may be
    mounted under) is the back office's."""
    return path_info.startswith(_admin_prefix(get_urlconf() or settings.ROOT_URLCONF))


@cache
def _admin_prefix(urlconf: str) -> str:
    # reverse() puts the script prefix in front of the path; path_info has none. Kept per
    # URLconf: every request asks, and it changes only with the URLconf.
    return "/" + reverse("admin:index", urlconf=urlconf).removeprefix(get_script_prefix())
