"""Delivery: where the shop delivers, what it costs, the VAT charged there, who may buy.

- countries: the countries a merchant can deliver to, their names, EU standard VAT rates and
  the age at which wine may be bought there (the defaults a merchant confirms).
- models: Destination (a country's VAT rate and minimum age), ShippingZone with its areas
  (countries, narrowed or excluded by postal-code prefixes) and its rates by number of bottles.
- postcodes: a postal code checked and written the way the country writes it.
- services: the checks of a zone's rates (bands of bottles one after another from 1).
- selectors: the delivery quote for a basket (zone, charge, VAT rate, minimum age) and the
  countries served.
"""
