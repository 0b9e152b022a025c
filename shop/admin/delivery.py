"""Delivery in the admin: destination countries (VAT rate, minimum age) and shipping zones."""

from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import ValidationError
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import display
from unfold.forms import PaginationInlineFormSet

from core.admin_search import FoldedSearchMixin
from core.money import money_format
from core.search import fold
from shop.delivery.countries import COUNTRY_NAMES, country_name
from shop.delivery.models import Destination, ShippingRate, ShippingZone, ZoneArea
from shop.delivery.services import shipping_rates_check
from shop.exceptions import ShippingRatesInvalid


@admin.register(Destination)
class DestinationAdmin(ModelAdmin):
    list_display = ["country_display", "vat_percent", "minimum_age"]
    search_fields = ["country"]
    fields = ["country", "vat_rate", "minimum_age"]

    def get_readonly_fields(self, request, obj=None):
        # A country's row keeps its country: zones point at it.
        return ["country"] if obj else []

    def get_search_results(self, request, queryset, search_term):
        """Find a country by its code or by its name (names are not in the database), accents
        and case aside."""
        queryset, duplicates = super().get_search_results(request, queryset, search_term)
        term = fold(search_term.strip())
        if term:
            named = [code for code, name in COUNTRY_NAMES.items() if term in fold(name)]
            queryset |= self.model.objects.filter(country__in=named)
        return queryset, duplicates

    @display(description="country", ordering="country")
    def country_display(self, destination):
        return f"{country_name(destination.country)} ({destination.country})"

    @display(description="VAT rate", ordering="vat_rate")
    def vat_percent(self, destination):
        percent = (destination.vat_rate * 100).quantize(Decimal("0.01")).normalize()
        return f"{percent:f} %"


class ZoneAreaInline(TabularInline):
    model = ZoneArea
    fields = ["destination", "postal_prefixes", "excluded_postal_prefixes"]
    autocomplete_fields = ["destination"]
    extra = 0
    hide_title = True


class ShippingRateFormSet(PaginationInlineFormSet):
    def clean(self):
        # Before the formset's own checks: "overlap" says more than "duplicate data".
        if not any(self.errors):
            self._bands_check()
        super().clean()

    def _bands_check(self):
        bands = [
            (form.cleaned_data["min_bottles"], form.cleaned_data["max_bottles"])
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            shipping_rates_check(bands=bands)
        except ShippingRatesInvalid as error:
            raise ValidationError(str(error)) from None


class ShippingRateInline(TabularInline):
    model = ShippingRate
    formset = ShippingRateFormSet
    fields = ["min_bottles", "max_bottles", "price"]
    extra = 0
    hide_title = True
    verbose_name = "rate by bottles"
    verbose_name_plural = "rates by bottles (bands from 1, one after another, without gaps)"


@admin.register(ShippingZone)
class ShippingZoneAdmin(FoldedSearchMixin, ModelAdmin):
    list_display = ["name", "active", "countries", "bands", "free_from_display"]
    list_filter = ["active"]
    search_fields = ["name"]
    fields = ["name", "active", "free_from", "per_bottle_above"]
    inlines = [ZoneAreaInline, ShippingRateInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("areas__destination", "rates")

    @display(description="countries")
    def countries(self, zone):
        return ", ".join(_area_label(area) for area in zone.areas.all()) or "—"

    @display(description="rates")
    def bands(self, zone):
        rates = sorted(zone.rates.all(), key=lambda rate: rate.min_bottles)
        parts = [f"{r.min_bottles}–{r.max_bottles}: {money_format(r.price)}" for r in rates]
        if rates and zone.per_bottle_above is not None:
            parts.append(f"then +{money_format(zone.per_bottle_above)} a bottle")
        return ", ".join(parts) or "none: serves no one"

    @display(description="free from", ordering="free_from")
    def free_from_display(self, zone):
        return money_format(zone.free_from) or "—"


def _area_label(area: ZoneArea) -> str:
    label = country_name(area.destination.country)
    if area.postal_prefixes:
        return f"{label} (only {area.postal_prefixes})"
    if area.excluded_postal_prefixes:
        return f"{label} (except {area.excluded_postal_prefixes})"
    return label
