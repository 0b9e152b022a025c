import json

from django.contrib import admin
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.decorators import display

from payments.models import StripeEvent

OUTCOME_LABELS = {
    StripeEvent.Outcome.RECEIVED.label: "warning",
    StripeEvent.Outcome.APPLIED.label: "success",
    StripeEvent.Outcome.NO_CHANGE.label: "info",
    StripeEvent.Outcome.FLAGGED.label: "danger",
    StripeEvent.Outcome.UNKNOWN_ORDER.label: "warning",
    StripeEvent.Outcome.IGNORED.label: "info",
}


@admin.register(StripeEvent)
class StripeEventAdmin(ModelAdmin):
    """Stripe's webhook events as received: read only, they are Stripe's record."""

    list_display = ["event_id", "type", "order", "outcome_label", "received", "applied", "livemode"]
    list_filter = ["type", "outcome", "livemode"]
    list_select_related = ["order"]
    search_fields = ["event_id", "order__number"]
    date_hierarchy = "received"
    fields = [
        "event_id",
        "type",
        "livemode",
        "order",
        "outcome",
        "note",
        "received",
        "applied",
        "body",
    ]
    readonly_fields = fields

    @display(description="outcome", ordering="outcome", label=OUTCOME_LABELS)
    def outcome_label(self, event):
        return event.get_outcome_display()

    @display(description="payload")
    def body(self, event):
        return format_html("<pre>{}</pre>", json.dumps(event.payload, indent=2))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
