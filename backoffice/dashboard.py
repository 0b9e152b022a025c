"""The admin index: what unfold's DASHBOARD_CALLBACK adds to its context.

Every figure is aggregated by the database in a fixed number of queries, however many orders
the shop holds (reports.selectors).
"""

import json
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from backoffice.health import worker_health
from reports.models import Report
from reports.selectors import (
    coupon_usage,
    order_counts,
    orders_by_status,
    revenue_by_day,
    top_wines,
)
from shop.money import quantize
from shop.selectors import low_stock_wines

CHART_DAYS = 30
LIST_LENGTH = 8


def revenue_chart(days: list[dict]) -> str:
    """Return the revenue per day as the JSON unfold's chart component reads (Chart.js data)."""
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
                }
            ],
        }
    )


def sales_dashboard() -> dict:
    """Return the merchant's figures: KPIs, 30 days of revenue, statuses, wines, coupons."""
    today = timezone.localdate()
    first = today - timedelta(days=CHART_DAYS - 1)
    tomorrow = today + timedelta(days=1)
    counts = order_counts(today=today)
    orders_url = reverse("admin:orders_order_changelist")
    month_orders = counts["orders_month"]
    days = revenue_by_day(first, tomorrow)
    return {
        "kpis": [
            {
                "title": "Revenue today",
                "money": counts["revenue_today"],
                "detail": f"{counts['orders_today']} orders",
            },
            {
                "title": "Revenue, 7 days",
                "money": counts["revenue_week"],
                "detail": f"{counts['orders_week']} orders",
            },
            {
                "title": "Revenue, 30 days",
                "money": counts["revenue_month"],
                "detail": f"{month_orders} orders",
            },
            {
                "title": "Average order, 30 days",
                "money": quantize(counts["revenue_month"] / month_orders) if month_orders else None,
                "detail": "revenue ÷ orders",
            },
            {
                "title": "Awaiting payment",
                "count": counts["awaiting_payment"],
                "detail": "pending orders",
                "href": f"{orders_url}?status__exact=pending",
            },
            {
                "title": "Flagged payments",
                "count": counts["flagged"],
                "detail": "need attention",
                "href": f"{orders_url}?payment_flagged__exact=1",
                "alert": counts["flagged"] > 0,
            },
        ],
        "revenue_chart": revenue_chart(days),
        "revenue_chart_total": sum(row["revenue"] for row in days),
        "status_counts": orders_by_status(),
        "orders_url": orders_url,
        "top_wines": top_wines(first, tomorrow, limit=LIST_LENGTH),
        "coupons": coupon_usage(first, tomorrow, limit=LIST_LENGTH),
        "low_stock": list(low_stock_wines()[:LIST_LENGTH]),
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
