"""The shop in the admin, registered when Django's admin imports this package.

- catalog: categories, countries, regions and wines (the wine form, its photo and stock).
- wine_import: the wines' Import page, a wine import's page with Confirm, the imports' list.
"""

from shop.admin import catalog, wine_import

__all__ = ["catalog", "wine_import"]
