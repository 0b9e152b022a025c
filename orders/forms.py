from django import forms

from orders.models import Order


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
