from django import forms
from django.contrib import admin
from django.db.models import Count
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeNumericFilter, RelatedDropdownFilter
from unfold.decorators import display

from shop.models import Category, Country, Region, Wine
from shop.services import wine_save


@admin.register(Category)
class CategoryAdmin(ModelAdmin):
    list_display = ["name", "slug", "wine_count"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(wine_count=Count("wines"))

    @display(description="wines", ordering="wine_count")
    def wine_count(self, obj):
        return obj.wine_count


@admin.register(Country)
class CountryAdmin(CategoryAdmin):
    pass


@admin.register(Region)
class RegionAdmin(ModelAdmin):
    list_display = ["name", "country", "wine_count"]
    list_filter = [("country", RelatedDropdownFilter)]
    list_filter_submit = True
    list_select_related = ["country"]
    search_fields = ["name", "country__name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["country"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(wine_count=Count("wines"))

    @display(description="wines", ordering="wine_count")
    def wine_count(self, obj):
        return obj.wine_count


class WineAdminForm(forms.ModelForm):
    # The stock the merchant was shown, so that a stock edit applies as a difference.
    stock_seen = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Wine
        fields = [
            "sku",
            "name",
            "slug",
            "producer",
            "vintage",
            "description",
            "image",
            "category",
            "country",
            "region",
            "price",
            "stock",
            "low_stock_threshold",
            "available",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["stock_seen"].initial = self.instance.stock


@admin.register(Wine)
class WineAdmin(ModelAdmin):
    form = WineAdminForm
    list_display = [
        "sku",
        "name",
        "vintage",
        "producer",
        "category",
        "country",
        "region",
        "price",
        "stock_level",
        "available",
    ]
    list_display_links = ["sku", "name"]
    list_filter = [
        "available",
        ("category", RelatedDropdownFilter),
        ("country", RelatedDropdownFilter),
        ("region", RelatedDropdownFilter),
        ("stock", RangeNumericFilter),
        ("price", RangeNumericFilter),
    ]
    list_filter_submit = True
    list_select_related = ["category", "country", "region__country"]
    list_per_page = 50
    search_fields = ["sku", "name", "producer"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["category", "country", "region"]
    readonly_fields = ["created", "updated"]
    fieldsets = [
        (None, {"fields": ["sku", "name", "slug", "producer", "vintage", "description", "image"]}),
        ("Origin", {"fields": ["category", "country", "region"]}),
        (
            "Sales",
            {"fields": ["price", "stock", "low_stock_threshold", "available", "stock_seen"]},
        ),
        ("History", {"fields": ["created", "updated"], "classes": ["collapse"]}),
    ]

    @display(
        description="stock",
        ordering="stock",
        label={"sold out": "danger", "low": "warning", "in stock": "success"},
    )
    def stock_level(self, obj):
        if obj.stock == 0:
            return "sold out", f"{obj.stock}"
        return ("low" if obj.low_stock else "in stock"), f"{obj.stock}"

    def save_model(self, request, obj, form, change):
        seen = form.cleaned_data.get("stock_seen")
        if seen is None:
            seen = form.initial.get("stock")
        wine_save(wine=obj, stock_seen=seen if change else None)
