from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator


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
