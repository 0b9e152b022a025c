from django import forms
from unfold.widgets import UnfoldAdminIntegerFieldWidget

from core.codes import ALPHABET
from coupons.models import Coupon, CouponBatch
from coupons.selectors import coupon_code_normalize
from coupons.services import BATCH_MAX_CODES, coupon_code_min_length


def _check_dates(form, cleaned: dict) -> None:
    valid_from, valid_to = cleaned.get("valid_from"), cleaned.get("valid_to")
    if valid_from and valid_to and valid_to <= valid_from:
        form.add_error("valid_to", "The end must come after the start.")


class CouponAdminForm(forms.ModelForm):
    class Meta:
        model = Coupon
        fields = ["code", "percent_off", "valid_from", "valid_to", "max_uses", "active"]

    def clean_code(self):
        code = coupon_code_normalize(self.cleaned_data["code"])
        if not code or any(c.isspace() for c in code):
            raise forms.ValidationError("A code is one word, without spaces.")
        clash = Coupon.objects.filter(code=code).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(f"The code {code} exists already.")
        return code

    def clean(self):
        cleaned = super().clean()
        _check_dates(self, cleaned)
        limit = cleaned.get("max_uses")
        if limit is not None and limit < self.instance.uses:
            self.add_error(
                "max_uses", f"The code has been used {self.instance.uses} times already."
            )
        return cleaned


class CouponBatchForm(forms.ModelForm):
    """Settings of a new batch; the codes themselves are drawn by coupons.services."""

    # Declared fields miss the admin's formfield_overrides: they are given unfold's widget here,
    # to look like the model's fields around them.
    count = forms.IntegerField(
        label="Number of codes",
        min_value=1,
        max_value=BATCH_MAX_CODES,
        widget=UnfoldAdminIntegerFieldWidget,
    )
    code_length = forms.IntegerField(
        label="Random characters per code",
        min_value=6,
        max_value=20,
        initial=10,
        widget=UnfoldAdminIntegerFieldWidget,
    )
    percent_off = forms.IntegerField(
        label="Discount (%)", min_value=1, max_value=100, widget=UnfoldAdminIntegerFieldWidget
    )
    max_uses = forms.IntegerField(
        label="Uses per code",
        min_value=1,
        required=False,
        initial=1,
        help_text="Blank: unlimited.",
        widget=UnfoldAdminIntegerFieldWidget,
    )

    class Meta:
        model = CouponBatch
        fields = [
            "name",
            "prefix",
            "count",
            "code_length",
            "percent_off",
            "valid_from",
            "valid_to",
            "max_uses",
        ]
        help_texts = {
            "prefix": "Optional, e.g. XMAS-. Letters, digits and dashes; codes are upper case.",
        }

    def clean_prefix(self):
        prefix = coupon_code_normalize(self.cleaned_data["prefix"])
        if any(not (c.isascii() and (c.isalnum() or c == "-")) for c in prefix):
            raise forms.ValidationError("Use letters, digits and dashes only.")
        return prefix

    def clean(self):
        cleaned = super().clean()
        _check_dates(self, cleaned)
        count, length = cleaned.get("count"), cleaned.get("code_length")
        if count and length:
            shortest = coupon_code_min_length(count=count, alphabet_size=len(ALPHABET))
            if length < shortest:
                self.add_error(
                    "code_length",
                    f"{count:,} codes of {length} characters could be guessed: "
                    f"use at least {shortest}.",
                )
            prefix = cleaned.get("prefix") or ""
            if len(prefix) + length > Coupon._meta.get_field("code").max_length:
                self.add_error("prefix", "Prefix and code together may have 40 characters.")
        return cleaned
