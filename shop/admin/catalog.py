"""The catalog in the admin: categories, countries, regions and wines, with photos and stock."""

from django import forms
from django.contrib import admin
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import XLSX
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeNumericFilter, RelatedDropdownFilter
from unfold.contrib.import_export.forms import SelectableFieldsExportForm
from unfold.decorators import display
from unfold.widgets import UnfoldAdminImageFieldWidget

from core.admin_search import FoldedSearchMixin
from core.spreadsheet import ExcelCSV
from shop.admin.wine_import import WineImportAdminMixin
from shop.exceptions import WineImageInvalid
from shop.images import WinePhoto
from shop.models import Category, Country, Region, Wine
from shop.resources import WineResource
from shop.services import wine_image_prepare, wine_image_set, wine_save


@admin.register(Category)
class CategoryAdmin(FoldedSearchMixin, ModelAdmin):
    list_display = ["name", "slug", "wine_count"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    # Spelled out: a query counting wines (GROUP BY) ignores the model's ordering, and the
    # autocomplete's pages would come in any order.
    ordering = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(wine_count=Count("wines"))

    @display(description="wines", ordering="wine_count")
    def wine_count(self, obj):
        return obj.wine_count


@admin.register(Country)
class CountryAdmin(CategoryAdmin):
    pass


@admin.register(Region)
class RegionAdmin(FoldedSearchMixin, ModelAdmin):
    list_display = ["name", "country", "wine_count"]
    list_filter = [("country", RelatedDropdownFilter)]
    list_filter_submit = True
    list_select_related = ["country"]
    search_fields = ["name", "country__name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["country"]
    ordering = ["country__name", "name"]  # as the categories' (above)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(wine_count=Count("wines"))

    @display(description="wines", ordering="wine_count")
    def wine_count(self, obj):
        return obj.wine_count


class WineAdminForm(forms.ModelForm):
    # The stock the merchant was shown, so that a stock edit applies as a difference.
    stock_seen = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # Not the model's field: the upload is checked and resized by wine_image_prepare, and the
    # sizes it makes are stored by wine_image_set, never the file as uploaded.
    photo = forms.FileField(
        label="Photo",
        required=False,
        widget=UnfoldAdminImageFieldWidget(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text="A JPEG, PNG or WebP image, shown on the catalog and on the wine's page.",
    )

    class Meta:
        model = Wine
        fields = [
            "sku",
            "name",
            "slug",
            "producer",
            "vintage",
            "description",
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
        if self.instance.image:
            self.fields["photo"].initial = self.instance.image

    def clean_photo(self):
        """Return the photo's sizes for a new upload, False to remove it, None to keep it."""
        photo = self.cleaned_data.get("photo")
        if photo is False:
            return False
        if not isinstance(photo, UploadedFile):  # the current photo, or none: nothing changes
            return None
        try:
            return wine_image_prepare(upload=photo)
        except WineImageInvalid as error:
            raise forms.ValidationError(str(error)) from None


@admin.register(Wine)
class WineAdmin(FoldedSearchMixin, WineImportAdminMixin, ModelAdmin, ImportExportModelAdmin):
    form = WineAdminForm
    resource_classes = [WineResource]
    formats = [ExcelCSV, XLSX]
    export_form_class = SelectableFieldsExportForm
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
    readonly_fields = ["photo_preview", "created", "updated"]
    fieldsets = [
        (None, {"fields": ["sku", "name", "slug", "producer", "vintage", "description"]}),
        ("Photo", {"fields": ["photo", "photo_preview"]}),
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
        photo = form.cleaned_data.get("photo")
        if isinstance(photo, WinePhoto):
            wine_image_set(wine=obj, photo=photo)
        elif photo is False and obj.image:
            wine_image_set(wine=obj, photo=None)

    @display(description="as the catalog shows it")
    def photo_preview(self, obj):
        if not obj.thumbnail:
            return "No photo yet."
        return format_html(
            '<img src="{}" width="{}" height="{}" alt="{}" style="max-width:240px;height:auto">',
            obj.thumbnail.url,
            obj.thumbnail_width,
            obj.thumbnail_height,
            f"Photo of {obj.name}",
        )

    def has_export_permission(self, request):
        return request.user.has_perm("shop.view_wine")
