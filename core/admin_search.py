"""Admin search that ignores accents and case, as the shop's catalog search does."""

from django.contrib.admin.utils import lookup_spawns_duplicates

from core.search import fold_search


class FoldedSearchMixin:
    """Search a ModelAdmin's search_fields accents and case aside: "lefevre" finds "Lefèvre".

    Every word typed must be in one of the fields, as in Django's own search. Django's prefixes
    (^ = @) are read as a plain "contains": a folded column has no index they could use.
    """

    def get_search_results(self, request, queryset, search_term):
        fields = [field.lstrip("^=@") for field in self.get_search_fields(request)]
        if not fields or not search_term.strip():
            return queryset, False
        duplicates = any(lookup_spawns_duplicates(self.opts, field) for field in fields)
        return fold_search(queryset, fields, search_term), duplicates
