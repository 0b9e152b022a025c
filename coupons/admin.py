from django import forms
from django.contrib import admin
from django.db.models import F, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.html import format_html
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display

from core.admin_columns import money_column, money_html
from core.admin_search import FoldedSearchMixin
from core.spreadsheet import csv_response
from coupons.forms import CouponAdminForm, CouponBatchForm
from coupons.models import Coupon, CouponBatch, CouponRedemption
from coupons.selectors import (
    CODE_COLUMNS,
    coupon_batch_code_rows,
    coupon_batch_figures,
    coupon_valid_q,
)
from coupons.services import coupon_batch_create, coupon_batch_rename, coupon_save


class _YesNoFilter(admin.SimpleListFilter):
    def condition(self) -> Q:
        raise NotImplementedError

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(self.condition())
        if self.value() == "no":
            return queryset.exclude(self.condition())
        return queryset


class ValidNowFilter(_YesNoFilter):
    title = "valid now"
    parameter_name = "valid_now"

    def condition(self) -> Q:
        return coupon_valid_q()


class UsedUpFilter(_YesNoFilter):
    title = "used up"
    parameter_name = "used_up"

    def condition(self) -> Q:
        return Q(max_uses__isnull=False, uses__gte=F("max_uses"))


class RedemptionInline(TabularInline):
    model = CouponRedemption
    fields = ["order_link", "percent_off", "discount_money", "created", "released_at"]
    readonly_fields = fields
    extra = 0
    discount_money = money_column("discount", "discount", minus=True)
    can_delete = False
    hide_title = True
    verbose_name_plural = "orders that used the code"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")

    def has_add_permission(self, request, obj=None):
        return False

    @display(description="order")
    def order_link(self, redemption):
        return format_html(
            '<a href="/admin/orders/order/{}/change/">{}</a>',
            redemption.order_id,
            redemption.order.number,
        )


@admin.register(Coupon)
class CouponAdmin(FoldedSearchMixin, ModelAdmin):
    form = CouponAdminForm
    inlines = [RedemptionInline]
    list_display = ["code", "percent_label", "valid_from", "valid_to", "usage", "active", "batch"]
    list_filter = ["active", ValidNowFilter, UsedUpFilter, "batch"]
    list_filter_submit = True
    search_fields = ["code"]
    list_select_related = ["batch"]
    list_per_page = 100
    readonly_fields = ["uses", "batch", "created"]

    def save_model(self, request, obj, form, change):
        coupon_save(coupon=obj, fields=form.changed_data if change else None)

    @display(description="discount", ordering="percent_off")
    def percent_label(self, coupon):
        return f"{coupon.percent_off} %"

    @display(description="uses", ordering="uses")
    def usage(self, coupon):
        return f"{coupon.uses} / {coupon.max_uses if coupon.max_uses is not None else '∞'}"


@admin.register(CouponBatch)
class CouponBatchAdmin(FoldedSearchMixin, ModelAdmin):
    form = CouponBatchForm
    list_display = ["name", "created", "progress", "percent_off", "codes_used", "orders", "given"]
    list_select_related = ["created_by"]
    search_fields = ["name", "prefix"]
    actions_detail = ["export_codes"]
    change_form_before_template = "admin/coupons/couponbatch/progress.html"

    def get_queryset(self, request):
        return coupon_batch_figures(super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # A batch's codes exist with these settings; only its name can change.
        return [
            *(name for name in CouponBatchForm.Meta.fields if name != "name"),
            "status",
            "generated",
            "error",
            "created_by",
            "created",
            "started_at",
            "finished_at",
        ]

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:
            kwargs["form"] = forms.ModelForm
            kwargs["fields"] = ["name"]
        return super().get_form(request, obj, **kwargs)

    def get_changeform_initial_data(self, request):
        return {"valid_from": timezone.now(), **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        if change:
            coupon_batch_rename(batch_id=obj.pk, name=obj.name)
            return
        fields = {name: form.cleaned_data[name] for name in CouponBatchForm.Meta.fields}
        batch = coupon_batch_create(**fields, created_by=request.user)
        obj.pk, obj._state.adding = batch.pk, False

    @display(description="codes")
    def progress(self, batch):
        if batch.status == CouponBatch.Status.DONE:
            return f"{batch.count:,}"
        return f"{batch.get_status_display()}: {batch.generated:,} / {batch.count:,}"

    @display(description="codes used", ordering="used_codes")
    def codes_used(self, batch):
        return batch.used_codes

    @display(description="orders", ordering="order_count")
    def orders(self, batch):
        return batch.order_count

    @display(description="discount given", ordering="discount_given")
    def given(self, batch):
        return money_html(batch.discount_given or 0)

    @action(description="Export codes (CSV)", url_path="export-codes", permissions=["view"])
    def export_codes(self, request, object_id):
        batch = get_object_or_404(CouponBatch, pk=object_id)
        rows = coupon_batch_code_rows(batch=batch)
        return csv_response(f"coupons-{batch.pk}-{batch.prefix or 'batch'}.csv", CODE_COLUMNS, rows)
