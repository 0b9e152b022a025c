from decimal import Decimal

from django import forms
from unfold.widgets import (
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanWidget,
)

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


class CheckoutForm(forms.ModelForm):
    # The total the customer was shown; the order is refused if prices moved since.
    expected_total = forms.DecimalField(
        widget=forms.HiddenInput, max_digits=12, decimal_places=2, min_value=0
    )

    class Meta:
        model = Order
        fields = ["first_name", "last_name", "email", "address", "postal_code", "city"]
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "address": forms.TextInput(attrs={"autocomplete": "street-address"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
        }

    def clean(self):
        cleaned = super().clean()
        for name in self.Meta.fields:
            value = cleaned.get(name)
            if isinstance(value, str):
                cleaned[name] = value.strip()
                if not cleaned[name]:
                    self.add_error(name, "This field is required.")
        return cleaned


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
