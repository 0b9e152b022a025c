from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.cache import CacheVersion
from core.money import quantize
from shop.delivery.countries import COUNTRY_NAMES, DEFAULT_MINIMUM_AGE, country_name
from shop.delivery.models import (
    DeliveryMethod,
    Destination,
    ShippingZone,
    ZoneArea,
    split_prefixes,
)
from shop.delivery.postcodes import postal_code_key
from shop.exceptions import DeliveryRefused


@dataclass(frozen=True)
class DeliveryQuote:
    """How a basket reaches the customer, what it costs and the VAT and age rules there."""

    method: str
    country: str
    zone: str
    charge: Decimal
    vat_rate: Decimal
    minimum_age: int
    # The zone's free-delivery threshold on the wine after its coupon, None without one.
    free_from: Decimal | None = None

    @property
    def country_name(self) -> str:
        return country_name(self.country)


def delivery_label(*, method: str, country: str, zone: str) -> str:
    """Return how every page, email and document names a delivery: "Delivery to Germany
    (European Union)", "Click & collect"."""
    if method == DeliveryMethod.COLLECT:
        return str(DeliveryMethod.COLLECT.label)
    label = _("Delivery to %(country)s") % {"country": country_name(country)} if country else ""
    label = label or str(DeliveryMethod.DELIVERY.label)
    return f"{label} ({zone})" if zone else label


# The countries served change only with the zones, their areas and rates (shop.signals), while
# every cart page offers them: they are kept in the shared cache under a version of their own.
ZONES_VERSION = CacheVersion("delivery:zones:version")
SERVED_KEY = "delivery:served"


def delivery_zones_changed() -> None:
    """Retire the cached countries served once the current transaction commits."""
    ZONES_VERSION.replace_on_commit()


def _served_codes() -> list[str]:
    version, codes = ZONES_VERSION.read(SERVED_KEY)
    if codes is None:
        codes = list(
            ZoneArea.objects.filter(zone__active=True, zone__rates__isnull=False)
            .values_list("destination__country", flat=True)
            .distinct()
        )
        ZONES_VERSION.store(SERVED_KEY, version, codes, timeout=None)
    return codes


def delivery_countries() -> list[tuple[str, str]]:
    """Return (code, name) of the countries an active zone with rates delivers to, by name."""
    pairs = ((code, country_name(code)) for code in _served_codes())
    return sorted(pairs, key=lambda pair: pair[1])


def _served() -> str:
    names = [name for _, name in delivery_countries()]
    return ", ".join(names) if names else _("nowhere yet; choose click & collect")


def _area_match(area: ZoneArea, key: str) -> int | None:
    """Return how closely the area takes the postal code (its prefix length), None if not."""
    if key and any(key.startswith(p) for p in split_prefixes(area.excluded_postal_prefixes)):
        return None
    only = split_prefixes(area.postal_prefixes)
    if not only:
        return 0
    # A part of a country is served only to a postal code known to be in it.
    return max((len(p) for p in only if key and key.startswith(p)), default=None)


def _zone_of(country: str, postal_code: str) -> tuple[ShippingZone, Destination]:
    key = postal_code_key(postal_code)
    areas = (
        ZoneArea.objects.filter(destination__country=country, zone__active=True)
        .select_related("zone", "destination")
        .prefetch_related("zone__rates")
        .order_by("zone__name")
    )
    if country not in COUNTRY_NAMES:
        # No zone serves a code no country has; not asked, since the database may not even
        # take it as text (a NUL, which PostgreSQL refuses).
        areas = ZoneArea.objects.none()
    # A zone without rates serves no one, as delivery_countries() says.
    matches = [
        (m, area)
        for area in areas
        if area.zone.rates.all() and (m := _area_match(area, key)) is not None
    ]
    if not matches:
        if key:
            text = _("We don't deliver to %(country)s (postal code %(postal_code)s).")
        else:
            text = _("We don't deliver to %(country)s.")
        where = text % {"country": country_name(country), "postal_code": postal_code}
        served = _("We deliver to: %(countries)s.") % {"countries": _served()}
        raise DeliveryRefused(f"{where} {served}")
    # The most specific area wins: Corsica's "20" before France's whole country.
    best = max(matches, key=lambda pair: pair[0])[1]
    return best.zone, best.destination


def _charge(zone: ShippingZone, *, bottles: int, subtotal: Decimal) -> Decimal:
    rates = sorted(zone.rates.all(), key=lambda rate: rate.min_bottles)
    price = next((r.price for r in rates if r.min_bottles <= bottles <= r.max_bottles), None)
    top = rates[-1] if rates else None
    if price is None and top and bottles > top.max_bottles and zone.per_bottle_above is not None:
        price = top.price + zone.per_bottle_above * (bottles - top.max_bottles)
    if price is None:
        bands = ", ".join(f"{r.min_bottles}–{r.max_bottles}" for r in rates) or _("none")
        text = ngettext(
            "We can't deliver %(bottles)d bottle to %(zone)s: it takes orders of %(bands)s "
            "bottles. Change your cart, or choose click & collect.",
            "We can't deliver %(bottles)d bottles to %(zone)s: it takes orders of %(bands)s "
            "bottles. Change your cart, or choose click & collect.",
            bottles,
        )
        raise DeliveryRefused(text % {"bottles": bottles, "zone": zone.name, "bands": bands})
    if zone.free_from is not None and subtotal >= zone.free_from:
        return Decimal("0.00")
    return quantize(price)


def collect_quote() -> DeliveryQuote:
    """Return the quote of click & collect at the shop: free, taxed as a sale at home."""
    home = settings.SHOP_COUNTRY
    destination = Destination.objects.filter(country=home).first()
    return DeliveryQuote(
        method=DeliveryMethod.COLLECT,
        country=home,
        zone="",
        charge=Decimal("0.00"),
        vat_rate=destination.vat_rate if destination else settings.VAT_RATE,
        minimum_age=destination.minimum_age if destination else DEFAULT_MINIMUM_AGE,
    )


def delivery_quote(
    *, method: str, country: str = "", postal_code: str = "", bottles: int, subtotal: Decimal
) -> DeliveryQuote:
    """Return how bottles worth subtotal (after the coupon) reach country, or DeliveryRefused.

    Without a postal code (the cart, before checkout) the whole country's zone is quoted; the
    checkout quotes again with it, so a part of a country with its own rates (an island) is
    charged what it costs.
    """
    if method == DeliveryMethod.COLLECT:
        return collect_quote()
    if method != DeliveryMethod.DELIVERY:
        raise DeliveryRefused(_("Choose delivery or click & collect."))
    zone, destination = _zone_of(country, postal_code)
    return DeliveryQuote(
        method=DeliveryMethod.DELIVERY,
        country=country,
        zone=zone.name,
        charge=_charge(zone, bottles=bottles, subtotal=subtotal),
        vat_rate=destination.vat_rate,
        minimum_age=destination.minimum_age,
        free_from=zone.free_from,
    )
