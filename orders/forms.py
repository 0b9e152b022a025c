import re
from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.widgets import (
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanWidget,
)

from core.mail import validate_single_line
from core.money import money_format, quantize
from core.totals import AmountLine, sale_totals
from orders.carriers import (
    CARRIER_CHOICES,
    CARRIER_MAX_LENGTH,
    OTHER,
    TRACKING_MAX_LENGTH,
    tracking_number_clean,
)
from orders.exceptions import InvalidShipment
from orders.models import Order
from orders.refunds import RefundLineRequest
from shop.delivery.models import DeliveryMethod
from shop.delivery.postcodes import postal_code_clean
from shop.delivery.selectors import (
    DeliveryQuote,
    delivery_countries,
    delivery_label,
    delivery_quote,
)
from shop.exceptions import DeliveryRefused

PHONE = re.compile(r"\+?[\d\s.()-]+")


def phone_check(value: str) -> str:
    """Return the phone number as typed if a carrier can call it, else raise ValidationError."""
    digits = sum(c.isdigit() for c in value)
    if not PHONE.fullmatch(value) or not 6 <= digits <= 20:
        raise forms.ValidationError(
            _(
                "Enter a phone number the carrier can call: 6 to 20 digits, with an optional +, "
                "spaces, dots, hyphens or parentheses."
            )
        )
    return value


class ConfirmationInput(forms.CheckboxInput):
    """A box that counts as ticked only for the value a browser sends ("on") or an explicit
    "true" or "1": a script posting "0", "no" or anything else has not confirmed."""

    TICKED = frozenset(["on", "true", "1"])

    def value_from_datadict(self, data, files, name):
        return str(data.get(name, "")).strip().lower() in self.TICKED


def age_label(quote: DeliveryQuote | None) -> str:
    if quote is None:
        return _("I confirm I am of the legal age to buy wine in the country the order goes to.")
    return _(
        "I confirm I am at least %(age)s years old, the legal age to buy wine in %(country)s."
    ) % {"age": quote.minimum_age, "country": quote.country_name}


class CheckoutForm(forms.ModelForm):
    """The customer's details and how the order reaches them, checked as the shop delivers.

    Built for a cart: its delivery choice is the initial one, and the delivery is quoted again
    with the postal code, so a total that moved (an island's charge) is shown before placing.
    """

    # The total the customer was shown; the order is refused if prices moved since.
    expected_total = forms.DecimalField(
        widget=forms.HiddenInput, max_digits=12, decimal_places=2, min_value=0
    )
    delivery_method = forms.ChoiceField(
        label=gettext_lazy("Delivery"),
        choices=DeliveryMethod.choices,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": gettext_lazy("Choose delivery or click & collect.")},
    )
    # Read only for a delivery (click & collect has no destination): checked in clean().
    country = forms.CharField(
        label=gettext_lazy("Country"),
        required=False,
        strip=False,
        widget=forms.Select(attrs={"autocomplete": "country"}),
    )
    age_confirmed = forms.BooleanField(
        widget=ConfirmationInput,
        error_messages={"required": gettext_lazy("Please confirm you are old enough to buy wine.")},
    )

    # Kept as typed and written on the order; the delivery fields are checked in clean().
    text_fields = ["first_name", "last_name", "email", "phone", "address", "postal_code", "city"]

    class Meta:
        model = Order
        fields = ["first_name", "last_name", "email", "phone", "address", "postal_code", "city"]
        labels = {
            "first_name": gettext_lazy("First name"),
            "last_name": gettext_lazy("Last name"),
            "email": gettext_lazy("Email"),
            "phone": gettext_lazy("Phone"),
            "address": gettext_lazy("Address"),
            "postal_code": gettext_lazy("Postal code"),
            "city": gettext_lazy("City"),
        }
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "address": forms.TextInput(attrs={"autocomplete": "street-address"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
        }

    field_order = ["delivery_method", "country", *Meta.fields, "age_confirmed"]

    def __init__(self, *args, cart, **kwargs):
        method, country = cart.delivery_choice
        served = delivery_countries()
        if not country and any(code == settings.SHOP_COUNTRY for code, _name in served):
            country = settings.SHOP_COUNTRY
        initial = {"delivery_method": method, "country": country, "expected_total": cart.total}
        super().__init__(*args, initial=initial | kwargs.pop("initial", {}), **kwargs)
        self.cart = cart
        self.quote = None  # the delivery quoted with the postal code, once clean
        self.served = dict(served)
        self.fields["country"].widget.choices = [("", _("Choose a country")), *served]
        self.fields["age_confirmed"].label = age_label(cart.delivery)
        self.fields["phone"].help_text = _("For the carrier; optional for click & collect.")

    @property
    def total(self) -> Decimal:
        """Return what the customer pays: with the delivery quoted here once it was."""
        return self.cart.wine_total + self.quote.charge if self.quote else self.cart.total

    @property
    def totals(self) -> list[AmountLine]:
        """Return what the order will add up to, line by line: the cart's, with the delivery
        quoted here once it was."""
        if self.quote is None:
            return self.cart.totals
        quote = self.quote
        return sale_totals(
            subtotal=self.cart.subtotal,
            discount=self.cart.discount,
            coupon_code=self.cart.coupon.code if self.cart.coupon else "",
            delivery_label=delivery_label(
                method=quote.method, country=quote.country, zone=quote.zone
            ),
            delivery_charge=quote.charge,
            total=self.total,
            vat_rate=quote.vat_rate,
        )

    def clean(self):
        cleaned = super().clean()
        for name in self.text_fields:
            if isinstance(cleaned.get(name), str):
                cleaned[name] = cleaned[name].strip()
        for name in ["first_name", "last_name", "email"]:
            if name in cleaned and not cleaned[name]:
                self.add_error(name, _("This field is required."))
        method = cleaned.get("delivery_method")
        if method == DeliveryMethod.COLLECT:
            # Nothing to deliver: an address posted anyway is not kept.
            cleaned.update(address="", postal_code="", city="", country="")
            self._phone_check(cleaned, required=False)
        elif method == DeliveryMethod.DELIVERY:
            self._address_check(cleaned)
        if method and not self.errors:
            self._quote(cleaned)
        return cleaned

    def _phone_check(self, cleaned, *, required: bool) -> None:
        phone = cleaned.get("phone")
        if phone is None:
            return
        if not phone:
            if required:
                self.add_error("phone", _("The carrier needs a phone number to reach you."))
            return
        try:
            phone_check(phone)
        except forms.ValidationError as error:
            self.add_error("phone", error)

    def _address_check(self, cleaned) -> None:
        country = cleaned.get("country")
        if "country" in cleaned and not country:
            self.add_error("country", _("Choose the country to deliver to."))
        elif country and country not in self.served:
            self.add_error("country", _("We don't deliver there: choose a country in the list."))
            country = None
        for name in ["address", "city"]:
            if name in cleaned and not cleaned[name]:
                self.add_error(name, _("This field is required for a delivery."))
        self._phone_check(cleaned, required=True)
        if country and cleaned.get("postal_code") is not None:
            try:
                cleaned["postal_code"] = postal_code_clean(country, cleaned["postal_code"])
            except DeliveryRefused as refusal:
                self.add_error("postal_code", str(refusal))

    def _quote(self, cleaned) -> None:
        """Quote the delivery to the postal code; when its charge moves the total from what the
        page showed, say so and show the new total instead of placing the order."""
        try:
            self.quote = delivery_quote(
                method=cleaned["delivery_method"],
                country=cleaned.get("country", ""),
                postal_code=cleaned.get("postal_code", ""),
                bottles=self.cart.count,
                subtotal=self.cart.wine_total,
            )
        except DeliveryRefused as refusal:
            field = "postal_code" if cleaned["delivery_method"] == DeliveryMethod.DELIVERY else None
            self.add_error(field, str(refusal))
            return
        shown = cleaned.get("expected_total")
        if shown is None or quantize(shown) == self.total:
            return
        if self.quote.method == DeliveryMethod.COLLECT:
            how = _("click & collect, free")
        else:
            where = f"{self.quote.country_name} {cleaned.get('postal_code', '')}".strip()
            how = (
                _("delivery to %(where)s, %(charge)s")
                % {"where": where, "charge": money_format(self.quote.charge)}
                if self.quote.charge
                else _("delivery to %(where)s, free") % {"where": where}
            )
        # The page shows the new total; the customer places the order at it next time.
        self.data = self.data.copy()
        self.data["expected_total"] = str(self.total)
        self.add_error(
            None,
            _(
                "Your total is now %(total)s: the wine %(wine)s, %(how)s. Check it and place "
                "your order again."
            )
            % {
                "total": money_format(self.total),
                "wine": money_format(self.cart.wine_total),
                "how": how,
            },
        )


def _reason_field() -> forms.CharField:
    return forms.CharField(
        label="Reason",
        max_length=2000,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 2}),
        help_text="Kept on the refund and in the order's timeline.",
    )


class RefundLinesForm(forms.Form):
    """Bottles of an order's lines, each up to what is left of it to refund, and whether they go
    back on sale (an allocation of a refund made in Stripe's dashboard).

    It has fields for the lines of the order it is built for only: what is posted for another
    order's lines is never read.
    """

    restock_initial = False

    def __init__(self, *args, items, left: dict[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.items = [item for item in items if left.get(item.pk, 0) > 0]
        self.left = left
        for item in self.items:
            self.fields[f"quantity_{item.pk}"] = forms.IntegerField(
                label=f"Bottles of {item.wine_name}",
                min_value=0,
                max_value=left[item.pk],
                initial=0,
                required=False,
                widget=UnfoldAdminIntegerFieldWidget,
            )
            self.fields[f"restock_{item.pk}"] = forms.BooleanField(
                label="Back on sale",
                required=False,
                initial=self.restock_initial,
                widget=UnfoldBooleanWidget,
            )

    def rows(self) -> list[tuple]:
        """Return each line with its bottles left, quantity field and restock field."""
        return [
            (item, self.left[item.pk], self[f"quantity_{item.pk}"], self[f"restock_{item.pk}"])
            for item in self.items
        ]

    def lines(self) -> list[RefundLineRequest]:
        """Return the lines with bottles to refund, as the services take them."""
        return [
            RefundLineRequest(
                item_id=item.pk,
                quantity=self.cleaned_data[f"quantity_{item.pk}"],
                restock=self.cleaned_data[f"restock_{item.pk}"],
            )
            for item in self.items
            if self.cleaned_data.get(f"quantity_{item.pk}")
        ]


class RefundForm(RefundLinesForm):
    """A refund started in the admin: bottles of the order's lines, or an amount, or both."""

    amount = forms.DecimalField(
        label="Amount",
        required=False,
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        widget=UnfoldAdminDecimalFieldWidget,
        help_text="Leave empty to give back what the bottles were paid. An amount alone is a "
        "goodwill gesture; with bottles, it is given back instead of what they were paid.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"] = _reason_field()

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.lines() and cleaned.get("amount") is None:
            raise forms.ValidationError("Choose the bottles to refund, or an amount.")
        return cleaned


class CancelRefundForm(forms.Form):
    """A paid order canceled: every bottle left is refunded, each line back on sale or not."""

    def __init__(self, *args, items, left: dict[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.items = [item for item in items if left.get(item.pk, 0) > 0]
        self.left = left
        for item in self.items:
            self.fields[f"restock_{item.pk}"] = forms.BooleanField(
                label="Back on sale", required=False, initial=True, widget=UnfoldBooleanWidget
            )
        self.fields["reason"] = _reason_field()

    def rows(self) -> list[tuple]:
        """Return each line with its bottles left and its restock field."""
        return [(item, self.left[item.pk], self[f"restock_{item.pk}"]) for item in self.items]

    def restock(self) -> dict[int, bool]:
        """Return whether each line's bottles go back on sale, by the line's id."""
        return {item.pk: self.cleaned_data[f"restock_{item.pk}"] for item in self.items}


class ShipmentForm(forms.Form):
    """How a paid order leaves: its carrier, known or named, and its tracking number.

    A click & collect order has neither: its form has no field, it is only confirmed.
    """

    carrier = forms.ChoiceField(
        label="Carrier",
        choices=[("", "—"), *CARRIER_CHOICES],
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    other_carrier = forms.CharField(
        label="Other carrier",
        max_length=CARRIER_MAX_LENGTH,
        required=False,
        widget=UnfoldAdminTextInputWidget,
        help_text="The carrier's name, when it is not in the list.",
    )
    tracking_number = forms.CharField(
        label="Tracking number",
        required=False,
        widget=UnfoldAdminTextInputWidget,
        help_text=f"Optional. Letters, digits, spaces and hyphens, up to {TRACKING_MAX_LENGTH}.",
    )

    def __init__(self, *args, collect: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if collect:
            self.fields.clear()

    def clean_tracking_number(self) -> str:
        try:
            return tracking_number_clean(self.cleaned_data["tracking_number"])
        except InvalidShipment as error:
            raise forms.ValidationError(str(error)) from error

    def clean(self):
        cleaned = super().clean()
        if not self.fields:
            return cleaned
        carrier = cleaned.get("carrier")
        if carrier == OTHER and not cleaned.get("other_carrier", "").strip():
            self.add_error("other_carrier", "Name the carrier.")
        elif cleaned.get("tracking_number") and not carrier:
            self.add_error("carrier", "Choose the carrier of the tracking number.")
        return cleaned

    def carrier_name(self) -> str:
        """Return the carrier's name as the order keeps it, or "" when none was given."""
        code = self.cleaned_data.get("carrier", "")
        if code == OTHER:
            return self.cleaned_data["other_carrier"]
        return dict(CARRIER_CHOICES).get(code, "")


class OrderLinkRequestForm(forms.Form):
    """Ask for a fresh link to an order: it goes to the order's email address only."""

    email = forms.EmailField(label=gettext_lazy("Your email address"), max_length=254)
    number = forms.CharField(
        label=gettext_lazy("Order number"),
        max_length=20,
        help_text=gettext_lazy("As in your emails, e.g. WS-7K3F-9QH2."),
        validators=[validate_single_line],
    )
