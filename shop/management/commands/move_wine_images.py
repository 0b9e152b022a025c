from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.management.base import BaseCommand

from shop.exceptions import WineImageInvalid
from shop.models import Wine
from shop.services import wine_image_prepare, wine_image_set


class Command(BaseCommand):
    help = (
        "Move wine photos uploaded before photos were kept in the database from the media folder "
        "(MEDIA_ROOT) into it, with their catalog sizes. Wines already moved are left alone, so "
        "running it again does nothing; the files on disk are only read."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--from", dest="folder", default=str(settings.MEDIA_ROOT), help="the old media folder"
        )

    def handle(self, *args, folder, **options):
        source = FileSystemStorage(location=folder)
        moved = problems = 0
        # A photo not moved yet: a name on the wine, and none of the sizes made from it.
        for wine in Wine.objects.exclude(image="").filter(thumbnail="").order_by("pk").iterator():
            name = wine.image.name
            try:
                with source.open(name) as file:
                    photo = wine_image_prepare(upload=file)
            except FileNotFoundError:
                problems += 1
                self.stderr.write(f"{wine.sku}: {name} is not in {folder}; left as it is.")
                continue
            except WineImageInvalid as error:
                problems += 1
                self.stderr.write(f"{wine.sku}: {name}: {error} Left as it is.")
                continue
            wine_image_set(wine=wine, photo=photo)
            moved += 1
        self.stdout.write(f"{moved} photos moved, {problems} left as they were.")
