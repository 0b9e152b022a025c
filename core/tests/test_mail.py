from email.utils import parseaddr

import pytest
from django.core.exceptions import ValidationError
from django.core.mail.message import sanitize_address
from hypothesis import given
from hypothesis import strategies as st

from core.mail import mailbox, validate_single_line

LINE_BREAKS_AND_CONTROLS = [
    "\r",
    "\n",
    "\r\n",
    "\x00",
    "\t",
    "\x1b",
    "\x7f",
    "\x85",
    "\u2028",
    "\u2029",
]


@pytest.mark.parametrize("char", LINE_BREAKS_AND_CONTROLS)
def test_control_characters_and_line_breaks_are_refused(char):
    with pytest.raises(ValidationError) as refused:
        validate_single_line(f"Smith{char}Bcc: victim@example.com")
    assert refused.value.code == "control_characters"


@pytest.mark.parametrize("text", ["Zoë O'Neil-Smith, Jr.", "李 小龍", "12 rue des Vignes", ""])
def test_one_line_of_text_is_accepted(text):
    validate_single_line(text)


NAMES = st.text(st.characters(exclude_categories=["Cc", "Cs", "Zl", "Zp"]), max_size=40)


@given(name=NAMES)
def test_whatever_the_name_the_only_recipient_is_the_address(name):
    # What Django's SMTP backend hands to smtplib as the envelope recipient.
    recipient = sanitize_address(mailbox(name, "ana@example.com"), "utf-8")
    assert parseaddr(recipient)[1] == "ana@example.com"
