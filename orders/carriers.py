"""The carriers the shop ships with, their tracking pages, and what a tracking number may be."""

import re
from typing import NamedTuple
from urllib.parse import quote

from django.utils import translation

from orders.exceptions import InvalidShipment


class Carrier(NamedTuple):
    code: str
    name: str
    # The carrier's tracking page, with {number} where the tracking number goes.
    tracking_url: str
    # The same page in other languages, by language code, for carriers whose page is in English
    # unless told otherwise: a customer follows their parcel in the language they ordered in.
    localized: dict[str, str] = {}


CARRIERS = (
    Carrier(
        "colissimo",
        "La Poste Colissimo",
        "https://www.laposte.fr/outils/suivre-vos-envois?code={number}",
    ),
    Carrier(
        "chronopost",
        "Chronopost",
        "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={number}",
    ),
    Carrier(
        "dhl",
        "DHL Express",
        "https://www.dhl.com/global-en/home/tracking/tracking-express.html"
        "?submit=1&tracking-id={number}",
        {
            "fr": "https://www.dhl.com/fr-fr/home/tracking/tracking-express.html"
            "?submit=1&tracking-id={number}",
        },
    ),
    Carrier(
        "ups",
        "UPS",
        "https://www.ups.com/track?tracknum={number}",
        {"fr": "https://www.ups.com/track?loc=fr_FR&tracknum={number}"},
    ),
    Carrier(
        "dpd",
        "DPD",
        "https://tracking.dpd.de/status/en_US/parcel/{number}",
        {"fr": "https://tracking.dpd.de/status/fr_FR/parcel/{number}"},
    ),
    Carrier("gls", "GLS", "https://gls-group.com/track/{number}"),
    Carrier(
        "royal_mail",
        "Royal Mail",
        "https://www.royalmail.com/track-your-item#/tracking-results/{number}",
    ),
    Carrier("fedex", "FedEx", "https://www.fedex.com/fedextrack/?trknbr={number}"),
)
OTHER = "other"
CARRIER_CHOICES = [(c.code, c.name) for c in CARRIERS] + [(OTHER, "Other")]
CARRIER_MAX_LENGTH = 50
TRACKING_MAX_LENGTH = 40
# ASCII letters and digits, with the spaces and hyphens carriers print them with.
TRACKING_PATTERN = re.compile(r"[A-Za-z0-9]+(?:[ -]+[A-Za-z0-9]+)*")


def carrier_by_name(name: str) -> Carrier | None:
    """Return the known carrier of that name, in any case, or None."""
    wanted = " ".join(name.split()).casefold()
    return next((c for c in CARRIERS if c.name.casefold() == wanted), None)


def carrier_name_clean(name: str) -> str:
    """Return the carrier's name as stored: on one line, a known carrier spelled as we do."""
    name = " ".join(name.split())
    if len(name) > CARRIER_MAX_LENGTH:
        raise InvalidShipment(f"The carrier's name is at most {CARRIER_MAX_LENGTH} characters.")
    known = carrier_by_name(name)
    return known.name if known else name


def tracking_number_clean(number: str) -> str:
    """Return the tracking number as stored, or raise InvalidShipment if it is not one."""
    number = number.strip()
    if not number:
        return ""
    if len(number) > TRACKING_MAX_LENGTH:
        raise InvalidShipment(
            f"A tracking number is at most {TRACKING_MAX_LENGTH} characters long."
        )
    if not TRACKING_PATTERN.fullmatch(number):
        raise InvalidShipment("A tracking number has only letters, digits, spaces and hyphens.")
    return number


def tracking_url(carrier: str, number: str) -> str:
    """Return the link to the parcel on its carrier's site, in the active language where the
    carrier has a page in it, or "" when there is none to give."""
    known = carrier_by_name(carrier)
    if known is None or not number:
        return ""
    pattern = known.localized.get(translation.get_language() or "", known.tracking_url)
    return pattern.replace("{number}", quote(number, safe=""))
