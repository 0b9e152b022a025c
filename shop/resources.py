"""The catalog's spreadsheet columns for django-import-export (the admin's export).

Imports go through shop.imports, which reads the same columns in bulk; exporting a file and
importing it again changes nothing.
"""

from import_export import fields, resources

from core.spreadsheet import safe_cell
from shop.imports import COLUMNS
from shop.models import Wine


class WineResource(resources.ModelResource):
    category = fields.Field(attribute="category__name", column_name="category")
    country = fields.Field(attribute="country__name", column_name="country")
    region = fields.Field(attribute="region__name", column_name="region")

    class Meta:
        model = Wine
        fields = COLUMNS
        export_order = COLUMNS
        import_id_fields = ["sku"]
        name = "Wines"

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("category", "country", "region").order_by("sku")

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        # Text that starts like a formula is neutralised; numbers stay numbers in a workbook.
        return safe_cell(value) if value is None or isinstance(value, str) else value

    def dehydrate_vintage(self, wine):
        return wine.vintage or ""

    def dehydrate_price(self, wine):
        return f"{wine.price:.2f}"

    def dehydrate_stock(self, wine):
        return wine.stock

    def dehydrate_available(self, wine):
        return "yes" if wine.available else "no"

    def dehydrate_region(self, wine):
        return wine.region.name if wine.region_id else ""
