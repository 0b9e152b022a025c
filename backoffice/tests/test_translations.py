"""The French catalogue: compiled as its source says, and speaking where it is used."""

import gettext
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES"


def test_the_compiled_catalogue_says_what_its_source_says(tmp_path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("gettext's msgfmt is not installed")
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check", "-o", fresh, CATALOGUE / "django.po"], check=True)
    with open(fresh, "rb") as made, open(CATALOGUE / "django.mo", "rb") as kept:
        # Compared as catalogues, not bytes: msgfmt releases lay the file out differently.
        assert gettext.GNUTranslations(kept)._catalog == gettext.GNUTranslations(made)._catalog, (
            "locale/fr/LC_MESSAGES/django.mo is out of date: run `make messages`."
        )


def test_no_translation_is_left_fuzzy():
    assert "#, fuzzy" not in (CATALOGUE / "django.po").read_text(encoding="utf-8")
