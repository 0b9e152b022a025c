from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from shop.delivery.countries import COUNTRY_CHOICES
from shop.delivery.models import DeliveryMethod


class CartQuantityForm(forms.Form):
    """A number of bottles: at most the cart's limit; the field offers at most max_quantity,
    what can be ordered (see shop.cart). The cart's own form takes 0, which removes the wine."""

    quantity = forms.IntegerField(
        label=_("Quantity"),
        initial=1,
        widget=forms.NumberInput(attrs={"class": "qty", "inputmode": "numeric"}),
    )

    def __init__(self, *args, max_quantity: int | None = None, min_quantity: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        limit = settings.CART_MAX_QUANTITY
        field = self.fields["quantity"]
        field.validators += [MinValueValidator(min_quantity), MaxValueValidator(limit)]
        field.widget.attrs.update(
            min=min_quantity, max=limit if max_quantity is None else min(max_quantity, limit)
        )


class CouponApplyForm(forms.Form):
    code = forms.CharField(label=_("Coupon code"), max_length=40, strip=True)


class CartDeliveryForm(forms.Form):
    """How the cart reaches the customer; whether the shop serves the country is the quote's."""

    method = forms.ChoiceField(
        label=_("Delivery"),
        choices=DeliveryMethod.choices,
        error_messages={"invalid_choice": _("Choose delivery or click & collect.")},
    )
    country = forms.ChoiceField(
        label=_("Country"),
        choices=COUNTRY_CHOICES,
        required=False,
        error_messages={"invalid_choice": _("Choose a country from the list.")},
    )

    def clean(self):
        data = super().clean()
        delivery = data.get("method") == DeliveryMethod.DELIVERY
        if delivery and not data.get("country") and "country" not in self.errors:
            raise ValidationError(_("Choose the country to deliver to."))
        if data.get("method") == DeliveryMethod.COLLECT:
            data["country"] = ""
        return data
