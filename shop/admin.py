from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeNumericFilter, RelatedDropdownFilter
from unfold.contrib.import_export.forms import ImportForm, SelectableFieldsExportForm
from unfold.decorators import display
from unfold.widgets import UnfoldAdminImageFieldWidget

from shop.exceptions import WineImageInvalid
from shop.images import WinePhoto
from shop.imports import (
    COLUMNS,
    REQUIRED_COLUMNS,
    ImportReport,
    import_job_confirm,
    import_job_create,
    import_job_queue,
    import_job_run,
    job_progress,
)
from shop.models import Category, Country, Region, Wine, WineImport
from shop.resources import WineResource
from shop.services import wine_image_prepare, wine_image_set, wine_save


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


class WineImportForm(ImportForm):
    """import-export's upload form in unfold's style; the format defaults to the file's own."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].required = False
        self.fields["format"].help_text = "Leave blank to read it from the file."

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        limit = settings.IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {filesizeformat(upload.size)}; the admin takes files up to "
                f"{filesizeformat(limit)}. Import larger files with manage.py import_wines."
            )
        return upload


@admin.register(Wine)
class WineAdmin(ModelAdmin, ImportExportModelAdmin):
    form = WineAdminForm
    resource_classes = [WineResource]
    formats = [CSV, XLSX]
    import_form_class = WineImportForm
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

    # --- Import: checked by shop.imports, previewed, applied once confirmed ---------------------

    def has_import_permission(self, request):
        return request.user.has_perms(["shop.add_wine", "shop.change_wine"])

    def has_export_permission(self, request):
        return request.user.has_perm("shop.view_wine")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/<int:job_id>/", view(self.import_job_view), name="shop_wine_import_job"),
            path(
                "import/<int:job_id>/confirm/",
                view(require_POST(self.import_confirm_view)),
                name="shop_wine_import_confirm",
            ),
            *super().get_urls(),
        ]

    def import_action(self, request, **kwargs):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = WineImportForm(
            self.get_import_formats(),
            [WineResource],
            data=request.POST or None,
            files=request.FILES or None,
        )
        if request.method == "POST" and form.is_valid():
            chosen = form.cleaned_data.get("format")
            hint = "xlsx" if chosen and self.get_import_formats()[int(chosen)] is XLSX else ""
            job = import_job_create(
                upload=form.cleaned_data["import_file"], format_hint=hint, user=request.user
            )
            self._start(job)
            return redirect("admin:shop_wine_import_job", job_id=job.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Import wines",
            "opts": self.opts,
            "form": form,
            "fields_list": [("Wines", list(COLUMNS))],
            "required_columns": REQUIRED_COLUMNS,
            "sync_max_bytes": settings.IMPORT_SYNC_MAX_BYTES,
            "max_bytes": settings.IMPORT_MAX_BYTES,
            "recent_jobs": WineImport.objects.select_related("created_by")[:10],
        }
        return TemplateResponse(request, "admin/shop/wine/import.html", context)

    def process_import(self, request, **kwargs):
        # Confirmation goes through import_confirm_view, on the file kept with its job.
        return redirect("admin:shop_wine_import")

    def import_job_view(self, request, job_id):
        if not self.has_import_permission(request):
            raise PermissionDenied
        job = get_object_or_404(WineImport.objects.select_related("created_by"), pk=job_id)
        rows, share = job_progress(job)
        report = ImportReport.from_dict(job.summary) if job.summary else None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import of {job.original_name}",
            "opts": self.opts,
            "job": job,
            "report": report,
            "rows_processed": rows,
            "percent": round(share * 100) if share is not None else None,
            "percent_text": f"{share:.0%}" if share is not None else "…",
            "working": job.status in (WineImport.Status.QUEUED, WineImport.Status.RUNNING),
            "can_confirm": (
                job.status == WineImport.Status.DONE and job.dry_run and report and report.ok
            ),
            "more_errors": report.invalid - len(report.errors) if report else 0,
        }
        return TemplateResponse(request, "admin/shop/wine/import_job.html", context)

    def import_confirm_view(self, request, job_id):
        if not self.has_import_permission(request):
            raise PermissionDenied
        job = get_object_or_404(WineImport, pk=job_id)
        if import_job_confirm(job_id=job.pk):
            self._start(job)
        else:
            messages.warning(request, "This file has already been imported or can't be.")
        return redirect("admin:shop_wine_import_job", job_id=job.pk)

    def _start(self, job: WineImport) -> None:
        """Check or apply a job: small files now, large ones on a worker."""
        if job.size <= settings.IMPORT_SYNC_MAX_BYTES:
            import_job_run(job_id=job.pk)
        else:
            import_job_queue(job_id=job.pk)


@admin.register(WineImport)
class WineImportAdmin(ModelAdmin):
    list_display = ["file_link", "stage", "status_label", "rows_processed", "size_text"]
    list_display += ["created_by", "created"]
    list_filter = ["status", "dry_run"]
    list_select_related = ["created_by"]
    list_display_links = None
    date_hierarchy = "created"

    def has_add_permission(self, request):
        return False  # uploads go through the wines' Import page

    def has_change_permission(self, request, obj=None):
        return False

    @display(description="file", ordering="original_name")
    def file_link(self, job):
        url = reverse("admin:shop_wine_import_job", args=[job.pk])
        return format_html('<a href="{}">{}</a>', url, job.original_name)

    @display(description="stage")
    def stage(self, job):
        return "preview" if job.dry_run else "import"

    @display(
        description="status",
        ordering="status",
        label={"queued": "info", "running": "warning", "done": "success", "failed": "danger"},
    )
    def status_label(self, job):
        return job.status

    @display(description="size", ordering="size")
    def size_text(self, job):
        return filesizeformat(job.size)
