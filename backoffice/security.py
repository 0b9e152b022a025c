"""Security headers Django's SecurityMiddleware does not set: Content-Security-Policy and
Permissions-Policy (Referrer-Policy, X-Content-Type-Options and HSTS come from settings).

The shop's pages run no script at all, so they get a strict policy. The admin (django-unfold)
needs more: its templates carry inline scripts, and Alpine.js evaluates its x-data and x-on
expressions with `new Function`, which only 'unsafe-eval' allows. Everything is served from our
own origin (unfold ships its fonts and scripts), so nothing else is allowed anywhere.
"""

from urllib.parse import urlsplit

from django.conf import settings

from backoffice.paths import is_admin_path

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def payment_origins() -> list[str]:
    """Return where the checkout may send the customer to pay: Stripe, or the local sandbox."""
    if settings.STRIPE_SECRET_KEY:
        return [settings.STRIPE_CHECKOUT_ORIGIN]
    if settings.STRIPE_SANDBOX_ALLOWED:
        return [_origin(settings.STRIPE_SANDBOX_URL)]
    return []


def content_security_policy(*, admin: bool) -> str:
    scripts = "'self' 'unsafe-inline' 'unsafe-eval'" if admin else "'self'"
    directives = {
        "default-src": "'self'",
        "script-src": scripts,
        # Inline style attributes: unfold's templates and the shop's error pages.
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data:",
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "frame-ancestors": "'none'",
        # Browsers apply form-action to the redirect that follows a post: the checkout form's
        # redirect to Stripe's hosted page must be allowed.
        "form-action": " ".join(["'self'", *payment_origins()]),
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        admin = is_admin_path(request.path_info)
        response.headers.setdefault("Content-Security-Policy", content_security_policy(admin=admin))
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
