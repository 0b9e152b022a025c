import re
from pathlib import Path

from django.conf import settings

READERS = re.compile(
    r"""(?:env(?:\.\w+)?|os\.environ\.get|environ\.get|cache_config)\(\s*["']([A-Z][A-Z0-9_]+)["']"""
)


def test_every_variable_read_is_listed_in_env_example():
    base = Path(settings.BASE_DIR)
    sources = [*base.glob("backoffice/*.py"), *base.glob("bench/*.py")]
    read = {name for path in sources for name in READERS.findall(path.read_text())}
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (base / ".env.example").read_text(), re.M))
    assert read, "the pattern finds no variable: it is out of date"
    assert read - listed == set()
