def flash_messages(response) -> list[str]:
    """Return the messages the page shows, as text."""
    return [str(message) for message in response.context["messages"]]
