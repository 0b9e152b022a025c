"""The admin index: what unfold's DASHBOARD_CALLBACK adds to its context.

Every figure is aggregated by the database in a fixed number of queries (reports.selectors), and
the sales figures are kept in the cache under the orders' version and the local day: any change
to orders, their lines or refunds replaces the version once it commits (orders.changes), and the
next day has a key of its own, so the page shows the live aggregation's figures exactly while
reading them once per change, however many orders the shop holds.
"""

import json
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone

from backoffice.health import worker_health
from core.cache import tolerant_cache as cache
from core.money import quantize
from orders.changes import orders_version
from orders.models import Order
from reports.models import Report
from reports.selectors import (
    coupon_usage,
    orders_by_status,
    revenue_by_day,
    top_wines,
)
from shop.selectors import wine_list_low_stock

CHART_DAYS = 30
LIST_LENGTH = 8
# A day's figures are kept no longer than the day they are keyed by lasts.
FIGURES_TIMEOUT = 24 * 60 * 60


def revenue_chart(days: list[dict]) -> str:
    """Return the revenue per day, and the delivery income in it, as the JSON unfold's chart
    component reads (Chart.js data)."""
    return json.dumps(
        {
            "labels": [f"{row['day']:%d %b}" for row in days],
            "datasets": [
                {
                    "label": f"Revenue ({settings.SHOP_CURRENCY})",
                    "data": [str(row["revenue"]) for row in days],
                    "backgroundColor": "var(--color-primary-700)",
                    "maxBarThickness": 14,
                    "displayYAxis": True,
                    "suffixYAxis": settings.SHOP_CURRENCY_SYMBOL,
                },
                {
                    "label": f"of which delivery ({settings.SHOP_CURRENCY})",
                    "data": [str(row["delivery"]) for row in days],
                    "backgroundColor": "var(--color-primary-300)",
                    "maxBarThickness": 14,
                },
            ],
        }
    )


def _sales_card(title: str, days: list[dict]) -> dict:
    revenue = sum((row["revenue"] for row in days), Decimal("0.00"))
    detail = f"{sum(r['orders'] for r in days)} orders"
    refunds = sum(row["refunds"] for row in days)
    if refunds:
        detail += f", {refunds} refund{pluralize(refunds)}"
    return {"title": title, "money": revenue, "detail": detail}


def _money_card(title: str, days: list[dict], key: str, detail: str) -> dict:
    return {
        "title": title,
        "money": sum((row[key] for row in days), Decimal("0.00")),
        "detail": detail,
    }


def sales_figures_live(today) -> dict:
    """Return the revenue per local day of the CHART_DAYS days to today, the orders by status,
    the top wines and the coupons of those days, aggregated from the orders now."""
    first = today - timedelta(days=CHART_DAYS - 1)
    tomorrow = today + timedelta(days=1)
    return {
        "days": revenue_by_day(first, tomorrow),
        "statuses": orders_by_status(),
        "top_wines": top_wines(first, tomorrow, limit=LIST_LENGTH),
        "coupons": coupon_usage(first, tomorrow, limit=LIST_LENGTH),
    }


def sales_figures(today) -> dict:
    """Return sales_figures_live(today), from the cache while no order has changed since."""
    # The version is read before the orders: a change committed after this read replaces it,
    # so figures that may miss the change are stored under a version no one asks for again.
    zone = timezone.get_current_timezone_name()
    key = f"dashboard:sales:{orders_version()}:{zone}:{today.isoformat()}"
    figures = cache.get(key)
    if figures is None:
        figures = sales_figures_live(today)
        cache.set(key, figures, timeout=FIGURES_TIMEOUT)
    return figures


def sales_dashboard() -> dict:
    """Return the merchant's figures: KPIs, 30 days of revenue, statuses, wines, coupons.

    Revenue is net of refunds, each taken off on the local day it succeeded (reports.selectors);
    wine sales (after coupons) and delivery income are shown apart, before refunds.
    The KPIs of today, 7 and 30 days add up the rows of revenue per local day, and the counters
    come from the orders by status (sales_figures); the stock is read live.
    """
    figures = sales_figures(timezone.localdate())
    orders_url = reverse("admin:orders_order_changelist")
    days, statuses = figures["days"], figures["statuses"]
    pending = next(row["orders"] for row in statuses if row["status"] == Order.Status.PENDING)
    flagged = sum(row["flagged"] for row in statuses)
    month = _sales_card(f"Revenue, {CHART_DAYS} days", days)
    month_orders = sum(row["orders"] for row in days)
    return {
        "kpis": [
            _sales_card("Revenue today", days[-1:]),
            _sales_card("Revenue, 7 days", days[-7:]),
            month,
            {
                "title": f"Average order, {CHART_DAYS} days",
                "money": quantize(month["money"] / month_orders) if month_orders else None,
                "detail": "revenue ÷ orders",
            },
            _money_card(f"Wine sales, {CHART_DAYS} days", days, "wine_sales", "after coupons"),
            _money_card(
                f"Delivery income, {CHART_DAYS} days", days, "delivery", "delivery charges paid"
            ),
            {
                "title": "Awaiting payment",
                "count": pending,
                "detail": "pending orders",
                "href": f"{orders_url}?status__exact=pending",
            },
            {
                "title": "Flagged payments",
                "count": flagged,
                "detail": "need attention",
                "href": f"{orders_url}?payment_flagged__exact=1",
                "alert": flagged > 0,
            },
        ],
        "revenue_chart": revenue_chart(days),
        "revenue_chart_total": month["money"],
        "status_counts": statuses,
        "orders_url": orders_url,
        "top_wines": figures["top_wines"],
        "coupons": figures["coupons"],
        "low_stock": list(wine_list_low_stock()[:LIST_LENGTH]),
    }


def dashboard_callback(request, context: dict) -> dict:
    """Add the sales figures for those who may see orders, recent reports for those who may see
    reports, and the workers' health for those who may see the queues."""
    user = request.user
    if user.has_perm("orders.view_order"):
        context.update(sales_dashboard())
    if user.has_perm("reports.view_report"):
        context["recent_reports"] = list(Report.objects.select_related("requested_by")[:5])
        context["reports_url"] = reverse("admin:reports_report_changelist")
    if user.has_perm("django_celery_beat.view_periodictask"):
        # Workers answer within milliseconds when they are up; the page shouldn't wait longer.
        context["worker_health"] = worker_health(timeout=0.5)
        context["flower_url"] = settings.FLOWER_URL
    return context
