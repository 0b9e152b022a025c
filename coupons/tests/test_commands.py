import pytest
from django.core.management import CommandError, call_command

from coupons.models import CouponBatch

pytestmark = pytest.mark.django_db


def test_the_command_generates_a_batch(capsys):
    call_command(
        "generate_coupons", "--name", "Fair", "--count", "250", "--percent", "12",
        "--prefix", "FAIR", "--length", "8", "--max-uses", "2",
    )  # fmt: skip
    batch = CouponBatch.objects.get()
    assert batch.coupons.count() == 250
    assert set(batch.coupons.values_list("max_uses", flat=True)) == {2}
    out = capsys.readouterr()
    assert "250 codes, 12 % off" in out.out and "250 / 250 codes" in out.err


def test_the_command_refuses_guessable_codes():
    with pytest.raises(CommandError, match="use at least 8"):
        call_command("generate_coupons", "--name", "X", "--count", "100000", "--percent", "5",
                     "--length", "6")  # fmt: skip
    assert CouponBatch.objects.count() == 0
