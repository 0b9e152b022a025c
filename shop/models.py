from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, OuterRef, Subquery, TextField, Value
from django.db.models.functions import Coalesce, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from core.models import JobStatus
from core.search import Fold, fold
from core.storage import media_storage, private_storage


class Category(models.Model):
    name = models.CharField("name", max_length=100, unique=True)
    slug = models.SlugField("slug", max_length=120, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "category"
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class Country(models.Model):
    name = models.CharField("name", max_length=100, unique=True)
    slug = models.SlugField("slug", max_length=120, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "country"
        verbose_name_plural = "countries"

    def __str__(self):
        return self.name


class RegionManager(models.Manager):
    def get_queryset(self):
        # A region is shown with its country ("Rioja (Spain)"): fetch both in one query.
        return super().get_queryset().select_related("country")


class Region(models.Model):
    country = models.ForeignKey(
        Country, on_delete=models.PROTECT, related_name="regions", verbose_name="country"
    )
    name = models.CharField("name", max_length=100)
    slug = models.SlugField("slug", max_length=120, unique=True)

    objects = RegionManager()

    class Meta:
        ordering = ["country__name", "name"]
        verbose_name = "region"
        verbose_name_plural = "regions"
        constraints = [
            models.UniqueConstraint(
                fields=["country", "name"], name="region_name_unique_per_country"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.country})"


class Wine(models.Model):
    sku = models.CharField("SKU", max_length=32, unique=True)
    name = models.CharField("name", max_length=200)
    slug = models.SlugField("slug", max_length=220, unique=True)
    producer = models.CharField("producer", max_length=200)
    vintage = models.PositiveSmallIntegerField(
        "vintage",
        null=True,
        blank=True,
        validators=[MinValueValidator(1800)],
        help_text="Leave blank for a non-vintage wine.",
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="wines", verbose_name="category"
    )
    country = models.ForeignKey(
        Country, on_delete=models.PROTECT, related_name="wines", verbose_name="country"
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="wines",
        verbose_name="region",
        null=True,
        blank=True,
    )
    price = models.DecimalField(
        "price", max_digits=10, decimal_places=2, validators=[MinValueValidator(0)]
    )
    stock = models.PositiveIntegerField("stock", default=0)
    low_stock_threshold = models.PositiveIntegerField("low-stock threshold", default=6)
    available = models.BooleanField("available", default=True)
    description = models.TextField("description", blank=True)
    # The photo at the wine page's size and the catalog card's, in public media (the database,
    # shared by every web process), named by their content; set by shop.services.wine_image_set.
    image = models.ImageField("photo", upload_to="wines/", storage=media_storage, blank=True)
    image_width = models.PositiveSmallIntegerField("photo width", null=True, blank=True)
    image_height = models.PositiveSmallIntegerField("photo height", null=True, blank=True)
    thumbnail = models.ImageField(
        "thumbnail", upload_to="wines/", storage=media_storage, blank=True
    )
    thumbnail_width = models.PositiveSmallIntegerField("thumbnail width", null=True, blank=True)
    thumbnail_height = models.PositiveSmallIntegerField("thumbnail height", null=True, blank=True)
    created = models.DateTimeField("created", auto_now_add=True)
    updated = models.DateTimeField("updated", auto_now=True)
    # What a catalog search looks in, folded (see SEARCHED); kept by save() and, for the writes
    # that go around it, by wine_search_text_refresh. Indexed by trigrams on PostgreSQL.
    search_text = models.TextField("searchable text", blank=True, default="", editable=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "wine"
        verbose_name_plural = "wines"
        indexes = [
            models.Index(fields=["available", "category", "name"], name="wine_category_idx"),
            models.Index(fields=["available", "country", "name"], name="wine_country_idx"),
            models.Index(fields=["available", "region", "name"], name="wine_region_idx"),
            models.Index(fields=["available", "name", "id"], name="wine_list_idx"),
            models.Index(fields=["available", "price", "name", "id"], name="wine_price_idx"),
            models.Index(fields=["available", "vintage", "name", "id"], name="wine_vintage_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="wine_stock_gte_0"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="wine_price_gte_0"),
        ]

    def __str__(self):
        return f"{self.name} {self.vintage or 'NV'}"

    def save(self, *args, **kwargs):
        fields = kwargs.get("update_fields")
        if fields is None or SEARCHED_FIELDS & set(fields):
            self.search_text = wine_search_text(self)
            if fields is not None:
                kwargs["update_fields"] = {*fields, "search_text"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("shop:wine_detail", kwargs={"slug": self.slug})

    def clean(self):
        errors = {}
        if self.vintage and self.vintage > timezone.localdate().year:
            errors["vintage"] = "The vintage cannot be in the future."
        if self.region_id and self.country_id and self.region.country_id != self.country_id:
            errors["region"] = "The region must belong to the wine's country."
        if errors:
            raise ValidationError(errors)

    @property
    def in_stock(self) -> bool:
        return self.available and self.stock > 0

    @property
    def low_stock(self) -> bool:
        return 0 < self.stock <= self.low_stock_threshold


class WineGroup(models.Model):
    """The wines on sale of one category, country and region (0: none), and how many of them
    are in stock: the catalog's filter counts without a search, kept by database triggers on
    every write to wines (see migration 0011)."""

    category = models.IntegerField("category id")
    country = models.IntegerField("country id")
    region = models.IntegerField("region id, 0 for none")
    wines = models.IntegerField("wines on sale", default=0)
    in_stock = models.IntegerField("wines on sale in stock", default=0)

    class Meta:
        verbose_name = "group of wines"
        verbose_name_plural = "groups of wines"
        constraints = [
            models.UniqueConstraint(
                fields=["category", "country", "region"], name="wine_group_unique"
            )
        ]

    def __str__(self):
        return f"{self.category}/{self.country}/{self.region}: {self.wines}"


class WineImport(models.Model):
    """A wine file uploaded in the admin: checked first (a preview), applied once confirmed.

    The file stays in private storage, so the check, the confirmation and a worker on another
    machine all read the same bytes.
    """

    Status = JobStatus

    file = models.FileField("file", upload_to="imports/", storage=private_storage)
    original_name = models.CharField("file name", max_length=255)
    size = models.PositiveBigIntegerField("size in bytes")
    format_hint = models.CharField("format", max_length=10, blank=True)
    dry_run = models.BooleanField(
        "preview only", default=True, help_text="Checked, not yet applied."
    )
    status = models.CharField("status", max_length=10, choices=Status, default=Status.QUEUED)
    rows_processed = models.PositiveIntegerField("rows processed", default=0)
    progress = models.FloatField("share of the file read", null=True, blank=True)
    erase_blanks = models.BooleanField(
        "blank cells erase values",
        default=False,
        help_text="Else a blank cell leaves the wine's value as it is.",
    )
    summary = models.JSONField("summary", default=dict, blank=True)
    # Apart from the summary, which lists of imports load: a large file lists thousands.
    wine_changes = models.JSONField(
        "new and updated wines", default=list, blank=True, help_text="With their changed fields."
    )
    error = models.TextField("error", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="uploaded by",
    )
    created = models.DateTimeField("created", auto_now_add=True)
    started_at = models.DateTimeField("started", null=True, blank=True)
    finished_at = models.DateTimeField("finished", null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = "wine import"
        verbose_name_plural = "wine imports"

    def __str__(self):
        return f"{self.original_name} ({self.get_status_display()})"


# A search's words hold no white space, so no word found in the searchable text spans two of
# its parts: every word is in one of the name, producer, region, country or category.
SEARCHED_SEPARATOR = "\n"
SEARCHED_FIELDS = {"name", "producer", "region", "region_id", "country", "country_id"}
SEARCHED_FIELDS |= {"category", "category_id"}


def wine_search_text(wine: Wine, *, names: dict | None = None) -> str:
    """Return what a catalog search looks in for wine: its names, folded. names: the names of
    the categories, countries and regions by (model, id), else the wine's own are read."""
    if names is None:
        region = wine.region.name if wine.region_id else ""
        places = [region, wine.country.name, wine.category.name]
    else:
        region = names[Region, wine.region_id] if wine.region_id else ""
        places = [region, names[Country, wine.country_id], names[Category, wine.category_id]]
    return fold(SEARCHED_SEPARATOR.join([wine.name, wine.producer, *places]))


def place_names() -> dict:
    """Return the names of every category, country and region by (model, id)."""
    return {
        (model, pk): name
        for model in (Category, Country, Region)
        for pk, name in model.objects.order_by().values_list("pk", "name")
    }


def _name_of(model):
    return Coalesce(
        Subquery(model.objects.filter(pk=OuterRef(f"{model._meta.model_name}_id")).values("name")),
        Value(""),
    )


def wine_search_text_refresh(wines, **also) -> int:
    """Store again the searchable text of the wines of a queryset, in one UPDATE: for the
    writes that don't go through Wine.save (bulk writes, a renamed region, country or category).
    The database folds as fold() does (see core.search). also: other fields to set alike."""
    parts = [F("name"), F("producer"), _name_of(Region), _name_of(Country), _name_of(Category)]
    separated = [part for p in parts for part in (p, Value(SEARCHED_SEPARATOR))][:-1]
    text = Concat(*separated, output_field=TextField())
    return wines.order_by().update(search_text=Fold(text), **also)


def unique_slug(model, text: str, *, max_length: int = 200) -> str:
    """Return a slug for text that no row of model uses yet."""
    base = slugify(text)[:max_length] or "item"
    slug, n = base, 2
    while model.objects.filter(slug=slug).exists():
        slug = f"{base[: max_length - len(str(n)) - 1]}-{n}"
        n += 1
    return slug


# The delivery models live in their package; importing them here registers them with the app.
from shop.delivery.models import (  # noqa: E402, F401
    DeliveryMethod,
    Destination,
    ShippingRate,
    ShippingZone,
    ZoneArea,
)
