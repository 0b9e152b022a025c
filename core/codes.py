"""Random codes that people read aloud and type: order numbers, coupon codes."""

import secrets

# No 0/O and no 1/I: a code read over the phone or from a flyer is typed without doubt.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def random_code(length: int, alphabet: str = ALPHABET) -> str:
    """Return length characters of alphabet, every code equally likely, from the OS's CSPRNG.

    One draw below len(alphabet) ** length, written in that base: a tenth of the system calls
    of drawing each character on its own, which counts when a batch makes 100,000 codes.
    """
    base = len(alphabet)
    number = secrets.randbelow(base**length)
    chars = []
    for _ in range(length):
        number, index = divmod(number, base)
        chars.append(alphabet[index])
    return "".join(chars)
