import re


def flash_messages(response) -> list[str]:
    """Return the messages the page shows, as text."""
    return [str(message) for message in response.context["messages"]]


def shared_part(response) -> str:
    """Return a page without what is each visitor's own (the language form's CSRF token and
    return address): what the catalog's whole-page cache shares between visitors."""
    page = response.content.decode()
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)
    return re.sub(r'name="next" value="[^"]*"', "", page)
