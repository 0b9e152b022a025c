import re

from django.conf import settings
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from core.csrf import csrf_token
from core.ratelimit import client_group, too_many_requests
from coupons.exceptions import CouponNotValid, TooManyAttempts
from coupons.services import coupon_try
from shop import selectors
from shop.cart import Cart
from shop.catalog_cache import cached_page, cart_page_get, cart_page_keep
from shop.delivery.models import DeliveryMethod
from shop.delivery.selectors import delivery_countries
from shop.exceptions import CartError, DeliveryRefused
from shop.forms import CartDeliveryForm, CartQuantityForm, CouponApplyForm
from shop.models import Wine
from shop.selectors import WineFilters


@require_GET
def ping(request):
    """Answer with nothing: the baseline the benchmarks measure pages against."""
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def favicon(request):
    """Send browsers that ask for /favicon.ico to the shop's icon."""
    return redirect(static("shop/favicon.svg"), permanent=True)


def _page_number(value: str) -> int:
    if not (value.isascii() and value.isdigit() and len(value) <= 6):
        raise Http404(_("That page does not exist."))
    return int(value)


# The catalog's filters as a page that can't show them names them.
FILTER_NAMES = {
    "category": gettext_lazy("category"),
    "country": gettext_lazy("country"),
    "region": gettext_lazy("region"),
}
# Placeholders in the catalog's shared whole-page cache for what each visitor gets their own.
VISITOR_SLOTS = {"csrf_token": "@@visitor-csrf-token@@", "language_next": "@@visitor-next@@"}
_SLOT_NAMES = {placeholder: name for name, placeholder in VISITOR_SLOTS.items()}
_SLOTS_PATTERN = re.compile("|".join(map(re.escape, _SLOT_NAMES)))


def _page_parts(page: str) -> list:
    """Split a page at its visitor slots, once per process: [bytes, slot name, bytes, ...]."""
    parts, start = [], 0
    for match in _SLOTS_PATTERN.finditer(page):
        parts += [page[start : match.start()].encode(), _SLOT_NAMES[match.group()]]
        start = match.end()
    return [*parts, page[start:].encode()]


@require_GET
def wine_list(request):
    filters = WineFilters.from_query(request.GET)
    page_number = _page_number(request.GET.get("page", "1"))
    key = f"{filters.as_key()}|{page_number}"

    def render_body() -> str:
        facets = selectors.catalog_facets(filters=filters)
        if facets.unknown:
            names = ", ".join(str(FILTER_NAMES.get(name, name)) for name in facets.unknown)
            raise Http404(_("Unknown %(filters)s.") % {"filters": names})
        shown = facets.filters  # a region of another country dropped
        wines = selectors.wine_list(filters=shown, keys=facets.keys)
        paginator = Paginator(wines, settings.WINES_PER_PAGE)
        paginator.count = facets.total  # counted with the facets already
        try:
            page = paginator.page(page_number)
        except InvalidPage:
            raise Http404(_("That page does not exist.")) from None
        # Links from the filters, not the query string: the page is cached under the filters,
        # for every query string that normalises to them.
        query = shown.as_query()
        return render_to_string(
            "shop/_wine_list_body.html",
            {
                "page": page,
                "facets": facets,
                "filters": shown,
                "sorts": selectors.SORTS,
                "sort": shown.sort or selectors.DEFAULT_SORT,
                "clear_query": urlencode({"sort": shown.sort} if shown.sort else {}),
                "previous_query": page.has_previous()
                and urlencode({**query, "page": page.previous_page_number()}),
                "next_query": page.has_next()
                and urlencode({**query, "page": page.next_page_number()}),
            },
        )

    def render_page(**slots) -> str:
        body = cached_page("wine_list", key, render_body)
        return render_to_string(
            "shop/wine_list.html", {"body": body, "filters": filters, **slots}, request=request
        )

    return _whole_page(request, "wine_list_page", key, render_page)


@require_GET
def wine_detail(request, slug):
    def render_page(**slots) -> str:
        wine = selectors.wine_get(slug=slug)
        if wine is None:
            raise Http404(_("No such wine."))
        form = CartQuantityForm(max_quantity=Cart.for_request(request).addable(wine))
        return render_to_string(
            "shop/wine_detail.html", {"wine": wine, "form": form, **slots}, request=request
        )

    return _whole_page(request, "wine_detail_page", slug, render_page)


def _whole_page(request, name: str, key: str, render_page) -> HttpResponse:
    """Answer with a catalog page, from the shared cache for a visitor with no cart or message.

    Those visitors all see the same page (an empty cart in the header, every bottle there is to
    add) but for the CSRF token and the language form's return address, each visitor's own:
    they are filled in the cached page, without the database. Other visitors get the page
    rendered for them.
    """
    if Cart.for_request(request).quantities or _has_messages(request):
        return HttpResponse(render_page())
    parts = cached_page(name, key, lambda: render_page(**VISITOR_SLOTS), prepare=_page_parts)
    return _filled(request, parts)


def _has_messages(request) -> bool:
    return bool(request.COOKIES.get(CookieStorage.cookie_name))


def _filled(request, parts: list) -> HttpResponse:
    """Answer with a page split by _page_parts, its slots filled for this visitor."""
    slots = {
        "csrf_token": csrf_token(request).encode(),  # letters and digits
        "language_next": escape(request.get_full_path()).encode(),
    }
    parts = parts.copy()
    parts[1::2] = [slots[name] for name in parts[1::2]]
    return HttpResponse(b"".join(parts))


def _form_error(form) -> str:
    return " ".join(e for errors in form.errors.values() for e in errors)


@require_POST
def cart_add(request, wine_id):
    wine = get_object_or_404(Wine, pk=wine_id)
    form = CartQuantityForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return redirect(wine.get_absolute_url() if wine.available else "shop:wine_list")
    try:
        Cart.for_request(request).add(wine, form.cleaned_data["quantity"])
    except CartError as error:
        messages.error(request, str(error))
        return redirect(wine.get_absolute_url() if wine.available else "shop:wine_list")
    messages.success(
        request,
        _("Added %(quantity)s × %(wine)s to your cart.")
        % {"quantity": form.cleaned_data["quantity"], "wine": wine},
    )
    return redirect("shop:cart_detail")


@require_POST
def cart_update(request, wine_id):
    wine = get_object_or_404(Wine, pk=wine_id)
    form = CartQuantityForm(request.POST, min_quantity=0)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return redirect("shop:cart_detail")
    cart = Cart.for_request(request)
    if form.cleaned_data["quantity"] == 0:
        if cart.remove(wine.pk, undoable=True):
            _removed(request, _("Removed %(wine)s from your cart.") % {"wine": wine})
        return redirect("shop:cart_detail")
    try:
        cart.add(wine, form.cleaned_data["quantity"], replace=True)
    except CartError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Updated %(wine)s.") % {"wine": wine})
    return redirect("shop:cart_detail")


def _removed(request, text: str) -> None:
    """Say what was taken out of the cart, with the button that puts it back."""
    messages.success(request, text, extra_tags="undo")


@require_POST
def cart_remove(request, wine_id):
    cart = Cart.for_request(request)
    if cart.remove(wine_id, undoable=True):
        wine = Wine.objects.filter(pk=wine_id).first()
        if wine:
            _removed(request, _("Removed %(wine)s from your cart.") % {"wine": wine})
        else:
            _removed(request, _("Removed the wine from your cart."))
    return redirect("shop:cart_detail")


@require_POST
def cart_clear(request):
    cart = Cart.for_request(request)
    if cart.quantities:
        cart.clear(undoable=True)
        _removed(request, _("Your cart was emptied."))
    return redirect("shop:cart_detail")


@require_POST
def cart_undo(request):
    put_back = Cart.for_request(request).undo()
    if put_back:
        text = ngettext(
            "Put back %(count)d wine in your cart.",
            "Put back %(count)d wines in your cart.",
            put_back,
        )
        messages.success(request, text % {"count": put_back})
    else:
        messages.info(request, _("There is nothing to put back in your cart any more."))
    return redirect("shop:cart_detail")


@require_GET
def cart_detail(request):
    """Answer with the cart page, from the shared cache when the same cart was shown since
    anything it shows last changed (shop.catalog_cache): every cart with the same wines,
    quantities, coupon and delivery is the same page but for each visitor's slots."""
    cart = Cart.for_request(request)
    shared = bool(cart.quantities) and not _has_messages(request)
    if shared:
        key = cart.page_key()
        version, parts = cart_page_get(key)
        if parts is not None:
            return _filled(request, parts)
    # The cart as the database has it now, read after the version.
    problems = cart.sync()
    for problem in problems:
        messages.warning(request, problem)
    if not shared or problems:
        return HttpResponse(_cart_page(request, cart))
    parts = _page_parts(_cart_page(request, cart, **VISITOR_SLOTS))
    cart_page_keep(key, version, parts, until=cart.coupon.valid_to if cart.coupon else None)
    return _filled(request, parts)


def _cart_page(request, cart: Cart, **slots) -> str:
    method, country = cart.delivery_choice
    return render_to_string(
        "shop/cart_detail.html",
        {
            "cart": cart,
            "delivery_countries": delivery_countries() if cart else [],
            "delivery_method": method or DeliveryMethod.DELIVERY,
            "delivery_country": country or settings.SHOP_COUNTRY,
            "shop_address": settings.SHOP_ADDRESS,
            **slots,
        },
        request=request,
    )


@require_POST
def cart_delivery(request):
    form = CartDeliveryForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return redirect("shop:cart_detail")
    try:
        quote = Cart.for_request(request).choose_delivery(
            method=form.cleaned_data["method"], country=form.cleaned_data["country"]
        )
    except DeliveryRefused as refusal:
        messages.error(request, str(refusal))
    else:
        if quote.method == DeliveryMethod.COLLECT:
            messages.success(request, _("You will collect your order at the shop."))
        else:
            messages.success(
                request,
                _("Your order will be delivered to %(country)s.") % {"country": quote.country_name},
            )
    return redirect("shop:cart_detail")


def _known_session_key(request) -> str:
    """Return the key of the visitor's session if the session store has it, else "".

    Reading the session loads it, which drops a key the store does not know: a script that
    invents cookies gets no counter of its own. No session is created here, so one without a
    cookie can't restart a counter either; both are counted by address and with everyone.
    """
    request.session.keys()
    return request.session.session_key or ""


@require_POST
def coupon_apply(request):
    form = CouponApplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please enter a coupon code of up to 40 characters."))
        return redirect("shop:cart_detail")
    try:
        coupon = coupon_try(
            code=form.cleaned_data["code"],
            session_key=_known_session_key(request),
            address=client_group(request),
        )
    except TooManyAttempts as refusal:
        return too_many_requests(request, refusal, back_url=reverse("shop:cart_detail"))
    except CouponNotValid as error:
        messages.error(request, str(error))
        return redirect("shop:cart_detail")
    Cart.for_request(request).apply_coupon(coupon.code)
    messages.success(
        request,
        _("Coupon %(code)s applied: %(percent)s %% off.")
        % {"code": coupon.code, "percent": coupon.percent_off},
    )
    return redirect("shop:cart_detail")


@require_POST
def coupon_remove(request):
    Cart.for_request(request).remove_coupon()
    messages.info(request, _("The coupon was removed."))
    return redirect("shop:cart_detail")
