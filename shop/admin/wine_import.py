"""The wine import in the admin: the upload form, an import's page (the preview, paged, with
Confirm and the choice of what blank cells do), the list.

Wiring only: the admin checks permissions and forms, shop.imports' services start and confirm
an import and its selectors say where one stands.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from import_export.formats.base_formats import XLSX
from unfold.admin import ModelAdmin
from unfold.contrib.import_export.forms import ImportForm
from unfold.decorators import display
from unfold.widgets import UnfoldAdminRadioSelectWidget

from core.exceptions import DomainError
from shop.imports import (
    COLUMNS,
    REQUIRED_COLUMNS,
    Outcome,
    wine_import_confirm,
    wine_import_get,
    wine_import_list_recent,
    wine_import_outcome,
    wine_import_recheck,
    wine_import_start,
    wine_import_state,
)
from shop.models import WineImport

OUTCOME_COLOURS = {
    Outcome.QUEUED: "info",
    Outcome.RUNNING: "warning",
    Outcome.FAILED: "danger",
    Outcome.REJECTED: "danger",
    Outcome.CHECKED: "info",
    Outcome.IMPORTED: "success",
}


KEEP, ERASE = "keep", "erase"
BLANK_CELLS = [
    (KEEP, "Blank cells leave values as they are"),
    (ERASE, "Blank cells erase values (vintage, region, description)"),
]


class WineImportForm(ImportForm):
    """import-export's upload form in unfold's style; the format defaults to the file's own."""

    blank_cells = forms.ChoiceField(
        label="Blank cells",
        choices=BLANK_CELLS,
        initial=KEEP,
        required=False,  # left out: blank cells leave values as they are
        widget=UnfoldAdminRadioSelectWidget,
        help_text="For wines already in the catalog. The preview shows the blank cells either way.",
    )

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.formats = formats
        self.fields["format"].required = False
        self.fields["format"].help_text = "Leave blank to read it from the file."

    def format_hint(self) -> str:
        """Return "xlsx" when the merchant chose Excel, else "" (read from the file)."""
        chosen = self.cleaned_data.get("format")
        return "xlsx" if chosen and self.formats[int(chosen)] is XLSX else ""


class WineImportAdminMixin:
    """The wines' Import page and each wine import's page, on the wine admin."""

    import_form_class = WineImportForm

    def has_import_permission(self, request):
        return request.user.has_perms(["shop.add_wine", "shop.change_wine"])

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "import/<int:wine_import_id>/",
                view(self.wine_import_detail_view),
                name="shop_wine_import_detail",
            ),
            path(
                "import/<int:wine_import_id>/confirm/",
                view(require_POST(self.wine_import_confirm_view)),
                name="shop_wine_import_confirm",
            ),
            path(
                "import/<int:wine_import_id>/blank-cells/",
                view(require_POST(self.wine_import_blank_cells_view)),
                name="shop_wine_import_blank_cells",
            ),
            *super().get_urls(),
        ]

    def import_action(self, request, **kwargs):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = WineImportForm(
            self.get_import_formats(),
            self.get_import_resource_classes(request),
            data=request.POST or None,
            files=request.FILES or None,
        )
        if request.method == "POST" and form.is_valid():
            try:
                wine_import = wine_import_start(
                    upload=form.cleaned_data["import_file"],
                    format_hint=form.format_hint(),
                    erase_blanks=form.cleaned_data["blank_cells"] == ERASE,
                    user=request.user,
                )
            except DomainError as error:
                form.add_error("import_file", str(error))
            else:
                return redirect("admin:shop_wine_import_detail", wine_import_id=wine_import.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Import wines",
            "opts": self.opts,
            "form": form,
            "fields_list": [("Wines", list(COLUMNS))],
            "required_columns": REQUIRED_COLUMNS,
            "sync_max_bytes": settings.IMPORT_SYNC_MAX_BYTES,
            "max_bytes": settings.IMPORT_MAX_BYTES,
            "recent_imports": [
                (wine_import, wine_import_outcome(wine_import=wine_import))
                for wine_import in wine_import_list_recent()
            ],
        }
        return TemplateResponse(request, "admin/shop/wine/wine_import_form.html", context)

    def process_import(self, request, **kwargs):
        # Confirmation goes through wine_import_confirm_view, on the file kept with its import.
        return redirect("admin:shop_wine_import")

    def wine_import_detail_view(self, request, wine_import_id):
        if not self.has_import_permission(request):
            raise PermissionDenied
        state = wine_import_state(wine_import_id=wine_import_id, page=request.GET.get("page"))
        if state is None:
            raise Http404("No such wine import.")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import of {state.wine_import.original_name}",
            "opts": self.opts,
            "wine_import": state.wine_import,
            "report": state.report,
            "state": state,
            "outcome_colour": OUTCOME_COLOURS[state.outcome],
        }
        return TemplateResponse(request, "admin/shop/wine/wine_import_detail.html", context)

    def wine_import_confirm_view(self, request, wine_import_id):
        if not self.has_import_permission(request):
            raise PermissionDenied
        if wine_import_get(wine_import_id=wine_import_id) is None:
            raise Http404("No such wine import.")
        if not wine_import_confirm(wine_import_id=wine_import_id):
            messages.warning(request, "This file has already been imported or can't be.")
        return redirect("admin:shop_wine_import_detail", wine_import_id=wine_import_id)

    def wine_import_blank_cells_view(self, request, wine_import_id):
        if not self.has_import_permission(request):
            raise PermissionDenied
        if wine_import_get(wine_import_id=wine_import_id) is None:
            raise Http404("No such wine import.")
        choice = request.POST.get("blank_cells")
        if choice not in (KEEP, ERASE):
            messages.error(request, "Choose what blank cells do.")
        elif not wine_import_recheck(wine_import_id=wine_import_id, erase_blanks=choice == ERASE):
            messages.warning(request, "Only a finished preview can be checked again.")
        return redirect("admin:shop_wine_import_detail", wine_import_id=wine_import_id)


@admin.register(WineImport)
class WineImportAdmin(ModelAdmin):
    list_display = ["file_link", "stage", "outcome_label", "rows_processed", "size_text"]
    list_display += ["created_by", "created"]
    list_filter = ["status", "dry_run"]
    list_select_related = ["created_by"]
    list_display_links = None
    date_hierarchy = "created"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("wine_changes")

    def has_add_permission(self, request):
        return False  # uploads go through the wines' Import page

    def has_change_permission(self, request, obj=None):
        return False

    @display(description="file", ordering="original_name")
    def file_link(self, wine_import):
        url = reverse("admin:shop_wine_import_detail", args=[wine_import.pk])
        return format_html('<a href="{}">{}</a>', url, wine_import.original_name)

    @display(description="stage")
    def stage(self, wine_import):
        return "preview" if wine_import.dry_run else "import"

    @display(description="status", ordering="status", label=OUTCOME_COLOURS)
    def outcome_label(self, wine_import):
        outcome = wine_import_outcome(wine_import=wine_import)
        return outcome.value, outcome.label

    @display(description="size", ordering="size")
    def size_text(self, wine_import):
        return filesizeformat(wine_import.size)
