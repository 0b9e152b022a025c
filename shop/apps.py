from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Catalog"

    def ready(self):
        from shop import signals

        signals.connect()
