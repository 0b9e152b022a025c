"""The session cart.

The session holds only ``{"<wine id>": quantity}``; names, prices and stock always come from the
database, so a tampered or stale session can never change what a customer pays.
"""

import time
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.utils.translation import gettext as _

from core.money import percent_of, quantize
from core.totals import AmountLine, sale_totals
from coupons.exceptions import CouponNotValid
from coupons.selectors import coupon_check
from shop.delivery.countries import COUNTRY_NAMES
from shop.delivery.models import DeliveryMethod
from shop.delivery.selectors import DeliveryQuote, delivery_label, delivery_quote
from shop.exceptions import CartError, DeliveryRefused
from shop.models import Wine

SESSION_KEY = "cart"
COUPON_KEY = "coupon"
DELIVERY_KEY = "delivery"
UNDO_KEY = "cart_undo"
# How long a removal can be undone: long enough to notice a slip, short enough not to surprise.
UNDO_SECONDS = 15 * 60
# What a line shows and checks of its wine, loaded on every page with a cart: the rest of a
# wine (its description, photos, search text) costs time to load and to build the model.
LINE_FIELDS = ("name", "slug", "producer", "vintage", "price", "stock", "available")


def quantity_limit(wine: Wine) -> int:
    """Return the most bottles of wine one cart can hold: its stock, within the cart's limit."""
    if not wine.available:
        return 0
    return max(0, min(wine.stock, settings.CART_MAX_QUANTITY))


@dataclass(frozen=True)
class CartLine:
    wine: Wine
    quantity: int

    @property
    def unit_price(self) -> Decimal:
        return self.wine.price

    @property
    def total(self) -> Decimal:
        return quantize(self.wine.price * self.quantity)

    @property
    def max_quantity(self) -> int:
        return quantity_limit(self.wine)


def _parse(raw) -> dict[int, int]:
    """Return the valid ``{wine_id: quantity}`` pairs of raw session data, ignoring the rest."""
    if not isinstance(raw, dict):
        return {}
    quantities = {}
    for key, value in raw.items():
        # ASCII digits only, and no more than a database id can hold.
        if not (isinstance(key, str) and key.isascii() and key.isdigit() and len(key) <= 18):
            continue
        if type(value) is not int or value < 1:
            continue
        quantities[int(key)] = value
    return quantities


class Cart:
    """The cart of one request; build it with ``Cart.for_request`` so it is loaded once."""

    def __init__(self, request):
        self.session = request.session
        self.quantities = _parse(self.session.get(SESSION_KEY))

    @classmethod
    def for_request(cls, request) -> "Cart":
        if not hasattr(request, "_cart"):
            request._cart = cls(request)
        return request._cart

    def __bool__(self):
        return bool(self.lines)

    def __iter__(self):
        return iter(self.lines)

    @property
    def count(self) -> int:
        """Return the number of bottles."""
        return sum(line.quantity for line in self.lines)

    @cached_property
    def _checked(self) -> tuple[list[CartLine], list[str]]:
        """Return the lines that can be bought now and a message for each one that changed."""
        if not self.quantities:
            return [], []
        wines = {
            wine.pk: wine
            for wine in Wine.objects.filter(pk__in=list(self.quantities)).only(*LINE_FIELDS)
        }
        lines, problems = [], []
        for wine_id, quantity in self.quantities.items():
            wine = wines.get(wine_id)
            if wine is None:
                problems.append(_("A wine in your cart is no longer sold and was removed."))
            elif not wine.available or wine.stock < 1:
                problems.append(
                    _("%(wine)s is no longer available and was removed from your cart.")
                    % {"wine": wine}
                )
            elif quantity > wine.stock:
                problems.append(
                    _("Only %(stock)s of %(wine)s left: your cart now holds %(stock)s.")
                    % {"stock": wine.stock, "wine": wine}
                )
                lines.append(CartLine(wine, wine.stock))
            else:
                lines.append(CartLine(wine, quantity))
        lines.sort(key=lambda line: (line.wine.name, line.wine.pk))
        return lines, problems

    @property
    def lines(self) -> list[CartLine]:
        return self._checked[0]

    @property
    def subtotal(self) -> Decimal:
        return quantize(sum((line.total for line in self.lines), Decimal(0)))

    @property
    def coupon_code(self) -> str:
        code = self.session.get(COUPON_KEY)
        return code if isinstance(code, str) else ""

    @cached_property
    def _coupon(self):
        """Return (the session's coupon if usable now, why not); one query, only with a code."""
        if not self.coupon_code or not self.lines:
            return None, ""
        try:
            return coupon_check(code=self.coupon_code), ""
        except CouponNotValid as error:
            return None, str(error)

    @property
    def coupon(self):
        return self._coupon[0]

    @property
    def discount(self) -> Decimal:
        """Return the coupon's discount on the subtotal (see core.money.percent_of)."""
        return (
            percent_of(self.subtotal, self.coupon.percent_off) if self.coupon else Decimal("0.00")
        )

    @property
    def wine_total(self) -> Decimal:
        """Return what the wine costs: the subtotal less the coupon's discount."""
        return self.subtotal - self.discount

    @property
    def delivery_choice(self) -> tuple[str, str]:
        """Return the (method, country) chosen, or ("", "") before any valid choice."""
        raw = self.session.get(DELIVERY_KEY)
        if not isinstance(raw, dict):
            return "", ""
        method, country = raw.get("method"), raw.get("country", "")
        if method == DeliveryMethod.COLLECT:
            return method, ""
        if (
            method == DeliveryMethod.DELIVERY
            and isinstance(country, str)
            and country in COUNTRY_NAMES
        ):
            return method, country
        return "", ""

    def page_key(self) -> str:
        """Return what the cart page shows of the session: its wines and quantities, the coupon
        code and the delivery chosen."""
        return repr((sorted(self.quantities.items()), self.coupon_code, self.delivery_choice))

    def choose_delivery(self, *, method: str, country: str = "") -> DeliveryQuote:
        """Keep how the order will reach the customer; DeliveryRefused where the shop can't."""
        quote = delivery_quote(
            method=method, country=country, bottles=max(self.count, 1), subtotal=self.wine_total
        )
        self.session[DELIVERY_KEY] = {"method": quote.method, "country": quote.country}
        self.__dict__.pop("_delivery", None)
        return quote

    @cached_property
    def _delivery(self) -> tuple[DeliveryQuote | None, str]:
        """Return (the chosen delivery's quote for this cart, why it can't be delivered)."""
        method, country = self.delivery_choice
        if not method or not self.lines:
            return None, ""
        try:
            quote = delivery_quote(
                method=method, country=country, bottles=self.count, subtotal=self.wine_total
            )
        except DeliveryRefused as refusal:
            return None, str(refusal)
        return quote, ""

    @property
    def delivery(self) -> DeliveryQuote | None:
        """Return the quote of the delivery chosen, None before a choice or where refused."""
        return self._delivery[0]

    @property
    def delivery_refusal(self) -> str:
        return self._delivery[1]

    @property
    def delivery_charge(self) -> Decimal:
        return self.delivery.charge if self.delivery else Decimal("0.00")

    @property
    def total(self) -> Decimal:
        """Return what the customer pays: the wine less the coupon, plus the delivery chosen.

        The coupon never discounts delivery.
        """
        return self.wine_total + self.delivery_charge

    @property
    def totals(self) -> list[AmountLine]:
        """Return what the cart adds up to, line by line, as its order will show it."""
        quote = self.delivery
        return sale_totals(
            subtotal=self.subtotal,
            discount=self.discount,
            coupon_code=self.coupon.code if self.coupon else "",
            delivery_label=delivery_label(
                method=quote.method, country=quote.country, zone=quote.zone
            )
            if quote
            else "",
            delivery_charge=quote.charge if quote else None,
            total=self.total,
            vat_rate=quote.vat_rate if quote else None,
        )

    def sync(self) -> list[str]:
        """Store the checked lines in the session; return what had to change, for the customer."""
        problems = list(self._checked[1])
        if problems:
            self._save({line.wine.pk: line.quantity for line in self.lines})
        refusal = self._coupon[1]
        if refusal:
            problems.append(
                _("Coupon %(code)s: %(refusal)s It was removed.")
                % {"code": self.coupon_code, "refusal": refusal}
            )
            self.remove_coupon()
        return problems

    def apply_coupon(self, code: str) -> None:
        self.session[COUPON_KEY] = code
        self.__dict__.pop("_coupon", None)
        self.__dict__.pop("_delivery", None)

    def remove_coupon(self) -> None:
        self.session.pop(COUPON_KEY, None)
        self.__dict__.pop("_coupon", None)
        self.__dict__.pop("_delivery", None)

    def addable(self, wine: Wine) -> int:
        """Return how many more bottles of wine can be put in the cart."""
        return max(0, quantity_limit(wine) - self.quantities.get(wine.pk, 0))

    def add(self, wine: Wine, quantity: int, *, replace: bool = False) -> int:
        """Put quantity bottles of wine in the cart (on top of those there unless replace)."""
        if not wine.available or wine.stock < 1:
            raise CartError(_("Sorry, %(wine)s is not available.") % {"wine": wine})
        if quantity < 1:
            raise CartError(_("The quantity must be at least 1."))
        new = quantity if replace else self.quantities.get(wine.pk, 0) + quantity
        limit = quantity_limit(wine)
        if new > limit:
            in_cart = self.quantities.get(wine.pk, 0)
            if in_cart and not replace:
                text = _(
                    "Only %(limit)s of %(wine)s can be ordered and your cart already holds "
                    "%(in_cart)s."
                )
            else:
                text = _("Only %(limit)s of %(wine)s can be ordered.")
            raise CartError(text % {"limit": limit, "wine": wine, "in_cart": in_cart})
        self._save({**self.quantities, wine.pk: new})
        return new

    def remove(self, wine_id: int, *, undoable: bool = False) -> bool:
        """Take the wine out of the cart; return whether it was there.

        Undoable keeps the cart as it was, for ``undo``, for a while.
        """
        if wine_id not in self.quantities:
            return False
        if undoable:
            self._keep_for_undo()
        self._save({k: v for k, v in self.quantities.items() if k != wine_id})
        return True

    def clear(self, *, undoable: bool = False) -> None:
        """Empty the cart; the delivery chosen stays for the customer's next order.

        Undoable keeps the cart as it was, for ``undo``; otherwise (an order was placed) nothing
        emptied before can be put back.
        """
        if undoable:
            self._keep_for_undo()
        else:
            self.session.pop(UNDO_KEY, None)
        if SESSION_KEY in self.session:
            del self.session[SESSION_KEY]
        self.remove_coupon()
        self.quantities = {}
        self._forget()

    def undo(self) -> int:
        """Put back the wines (and coupon) last removed, if recent; return how many wines.

        Wines put in the cart since keep their new quantity.
        """
        kept = self.session.pop(UNDO_KEY, None)
        if not isinstance(kept, dict):
            return 0
        at = kept.get("at")
        if type(at) not in (int, float) or not 0 <= time.time() - at <= UNDO_SECONDS:
            return 0
        limit = settings.CART_MAX_QUANTITY
        back = {k: min(v, limit) for k, v in _parse(kept.get("cart")).items()}
        back = {k: v for k, v in back.items() if k not in self.quantities}
        self._save({**self.quantities, **back})
        coupon = kept.get("coupon")
        if isinstance(coupon, str) and coupon and not self.coupon_code:
            self.apply_coupon(coupon)
        return len(back)

    def _keep_for_undo(self) -> None:
        self.session[UNDO_KEY] = {
            "cart": {str(k): v for k, v in self.quantities.items()},
            "coupon": self.coupon_code,
            "at": int(time.time()),
        }

    def _save(self, quantities: dict[int, int]) -> None:
        self.quantities = quantities
        self.session[SESSION_KEY] = {str(k): v for k, v in quantities.items()}
        self._forget()

    def _forget(self) -> None:
        """Drop what was worked out from the lines: the lines, and delivery priced on them."""
        self.__dict__.pop("_checked", None)
        self.__dict__.pop("_delivery", None)
