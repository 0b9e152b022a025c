"""The shop in the admin, registered when Django's admin imports this package.

- catalog: categories, countries, regions and wines (the wine form, its photo and stock).
- delivery: destination countries (VAT rate, minimum age) and shipping zones with their rates.
- wine_import: the wines' Import page, a wine import's page with Confirm, the imports' list.
"""

from shop.admin import catalog, delivery, wine_import

__all__ = ["catalog", "delivery", "wine_import"]
