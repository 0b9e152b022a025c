"""Which language a request is answered in.

The shop speaks the visitor's language: the one they chose (the language form at the foot of
every page, kept in a cookie), else their browser's, among LANGUAGES. The back office speaks
ADMIN_LANGUAGE whatever the browser asks: its pages are written in it, and a merchant's screen
half in one language and half in another helps nobody.
"""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from backoffice.paths import is_admin_path


class ShopLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        if is_admin_path(request.path_info):
            translation.activate(settings.ADMIN_LANGUAGE)
            request.LANGUAGE_CODE = translation.get_language()
            return
        super().process_request(request)
