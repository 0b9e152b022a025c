from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator

from shop.delivery.countries import COUNTRY_CHOICES
from shop.delivery.models import DeliveryMethod


class CartQuantityForm(forms.Form):
    quantity = forms.IntegerField(
        label="Quantity",
        min_value=1,
        initial=1,
        widget=forms.NumberInput(attrs={"class": "qty", "inputmode": "numeric", "min": 1}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = settings.CART_MAX_QUANTITY
        self.fields["quantity"].validators.append(MaxValueValidator(limit))
        self.fields["quantity"].widget.attrs["max"] = limit


class CouponApplyForm(forms.Form):
    code = forms.CharField(label="Coupon code", max_length=40, strip=True)


class CartDeliveryForm(forms.Form):
    """How the cart reaches the customer; whether the shop serves the country is the quote's."""

    method = forms.ChoiceField(
        label="Delivery",
        choices=DeliveryMethod.choices,
        error_messages={"invalid_choice": "Choose delivery or click & collect."},
    )
    country = forms.ChoiceField(
        label="Country",
        choices=COUNTRY_CHOICES,
        required=False,
        error_messages={"invalid_choice": "Choose a country from the list."},
    )

    def clean(self):
        data = super().clean()
        delivery = data.get("method") == DeliveryMethod.DELIVERY
        if delivery and not data.get("country") and "country" not in self.errors:
            raise ValidationError("Choose the country to deliver to.")
        if data.get("method") == DeliveryMethod.COLLECT:
            data["country"] = ""
        return data
