"""The admin sidebar: Catalog, Delivery, Sales and Operations, each link shown to those allowed
to use it.

Every item carries a permission; a group none of whose items the user may use is left out.
"""

from django.conf import settings
from django.urls import reverse_lazy


def _model_item(title: str, icon: str, app_label: str, model: str) -> dict:
    return {
        "title": title,
        "icon": icon,
        "link": reverse_lazy(f"admin:{app_label}_{model}_changelist"),
        "permission": lambda request: request.user.has_perm(f"{app_label}.view_{model}"),
    }


def _flower_item() -> dict:
    return {
        "title": "Queues & workers",
        "icon": "monitoring",
        "link": settings.FLOWER_PUBLIC_URL,
        # Flower lives on another host: unfold would match its "/" path against every page.
        "active": False,
        "permission": lambda request: request.user.has_perm("django_celery_beat.view_periodictask"),
    }


def sidebar(request) -> list[dict]:
    """Return the sidebar groups for the unfold admin, with only the items the user may use."""
    groups = []
    for group in _groups():
        items = [item for item in group["items"] if item["permission"](request)]
        if items:
            groups.append({**group, "items": items})
    return groups


def _groups() -> list[dict]:
    return [
        {
            "title": "Catalog",
            "items": [
                _model_item("Wines", "wine_bar", "shop", "wine"),
                _model_item("Categories", "category", "shop", "category"),
                _model_item("Countries", "public", "shop", "country"),
                _model_item("Regions", "map", "shop", "region"),
                _model_item("Wine imports", "upload_file", "shop", "wineimport"),
            ],
        },
        {
            "title": "Delivery",
            "items": [
                _model_item("Shipping zones", "local_shipping", "shop", "shippingzone"),
                _model_item("Destinations (VAT, age)", "flag", "shop", "destination"),
            ],
        },
        {
            "title": "Sales",
            "items": [
                _model_item("Orders", "receipt_long", "orders", "order"),
                _model_item("Coupons", "sell", "coupons", "coupon"),
                _model_item("Coupon batches", "stacks", "coupons", "couponbatch"),
                _model_item("Invoices", "request_quote", "reports", "invoice"),
                _model_item("Credit notes", "receipt", "reports", "creditnote"),
                _model_item("Sales reports", "analytics", "reports", "report"),
                _model_item("Stripe events", "webhook", "payments", "stripeevent"),
            ],
        },
        {
            "title": "Operations",
            "items": [
                _model_item("Users", "person", "auth", "user"),
                _model_item("Groups", "group", "auth", "group"),
                _model_item("Periodic tasks", "schedule", "django_celery_beat", "periodictask"),
                _model_item("Intervals", "timer", "django_celery_beat", "intervalschedule"),
                _model_item("Crontabs", "event_repeat", "django_celery_beat", "crontabschedule"),
                _flower_item(),
            ],
        },
    ]
