import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import NoReverseMatch, get_resolver, resolve, reverse

from backoffice.roles import ROLES
from backoffice.tests.workers import broker_away

pytestmark = pytest.mark.django_db

ROLE = {role.name: role for role in ROLES}
FLOWER = "flower"  # the sidebar's link to Flower, which is not an admin page


def areas(role_name: str) -> set[str]:
    """Return the app labels (and the Flower link) a role's members may see."""
    role = ROLE[role_name]
    extra = {FLOWER} if "django_celery_beat" in role.apps else set()
    return {*role.apps, *role.view_apps} | extra


# --- setup_roles -----------------------------------------------------------------------------


def test_setup_roles_grants_every_permission_of_the_merchants_apps(roles):
    granted = set(Group.objects.get(name="Merchants").permissions.all())
    expected = set(Permission.objects.filter(content_type__app_label__in=ROLE["Merchants"].apps))
    assert granted == expected
    labels = {p.content_type.app_label for p in granted}
    assert {"shop", "orders"} <= labels
    assert {"change_wine", "change_order", "delete_order"} <= {p.codename for p in granted}
    assert "refund_order" in {p.codename for p in granted}  # refunds, paid orders canceled


def test_setup_roles_gives_operations_the_schedule_and_a_view_of_webhook_events(roles):
    granted = Group.objects.get(name="Operations").permissions.all()
    codenames = {(p.content_type.app_label, p.codename) for p in granted}
    beat = Permission.objects.filter(content_type__app_label="django_celery_beat")
    assert {(p.content_type.app_label, p.codename) for p in beat} <= codenames
    assert ("payments", "view_stripeevent") in codenames
    assert ("payments", "change_stripeevent") not in codenames
    assert ("core", "view_storedfile") in codenames
    assert not {label for label, _ in codenames} & {"shop", "orders", "auth"}


def test_setup_roles_is_idempotent_and_restores_what_was_changed(roles):
    merchants = Group.objects.get(name="Merchants")
    before = set(merchants.permissions.values_list("pk", flat=True))
    merchants.permissions.remove(Permission.objects.get(codename="change_wine"))
    merchants.permissions.add(Permission.objects.get(codename="change_user"))
    call_command("setup_roles", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("setup_roles", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Group.objects.filter(name__in=ROLE).count() == len(ROLES)
    assert set(merchants.permissions.values_list("pk", flat=True)) == before


# --- What each role sees ---------------------------------------------------------------------


def registered_models():
    return [model._meta for model in admin.site._registry]


@pytest.mark.parametrize("role_name", ["Merchants", "Operations"])
def test_each_role_reaches_exactly_the_admin_pages_of_its_areas(client, role_member, role_name):
    client.force_login(role_member(role_name))
    allowed = areas(role_name)
    reached = set()
    with broker_away():  # the workers card of the index asks the broker
        assert client.get(reverse("admin:index")).status_code == 200
        for opts in registered_models():
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            status = client.get(url).status_code
            assert status in (200, 403), (url, status)
            if status == 200:
                reached.add(opts.app_label)
            assert (status == 200) == (opts.app_label in allowed), (role_name, url, status)
    assert reached, f"{role_name} reaches no admin page"


def sidebar_areas(user) -> set[str]:
    request = RequestFactory().get("/admin/")
    request.user = user
    shown = set()
    for group in admin.site.get_sidebar_list(request):
        for item in group["items"]:
            if item["has_permission"]:
                link = str(item["link"])
                shown.add(
                    resolve(link).func.model_admin.opts.app_label if link[0] == "/" else FLOWER
                )
    return shown


@pytest.mark.parametrize("role_name", ["Merchants", "Operations"])
def test_each_role_sees_exactly_its_areas_in_the_sidebar(role_member, django_user_model, role_name):
    everything = sidebar_areas(django_user_model.objects.create_superuser("boss", password="pw"))
    shown = sidebar_areas(role_member(role_name))
    assert shown == everything & areas(role_name)
    assert shown


def test_only_operations_see_the_workers_card(client, role_member):
    with broker_away():
        for role_name, sees in (("Merchants", False), ("Operations", True)):
            client.force_login(role_member(role_name))
            response = client.get(reverse("admin:index"))
            assert ("worker_health" in response.context) is sees, role_name


def test_staff_without_a_role_see_nothing(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("clerk", password="pw", is_staff=True))
    for opts in registered_models():
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert client.get(url).status_code == 403, url


# --- Anonymous visitors ----------------------------------------------------------------------


def admin_urls() -> list[str]:
    """Return a URL for every named admin route, with placeholder arguments."""
    resolver = get_resolver().namespace_dict["admin"][1]
    urls = set()
    for name in resolver.reverse_dict:
        if not isinstance(name, str):
            continue
        for possibility, *_ in resolver.reverse_dict.getlist(name):
            for _, params in possibility:
                for value in ("1", "shop", "orders"):
                    try:
                        urls.add(reverse(f"admin:{name}", kwargs=dict.fromkeys(params, value)))
                        break
                    except NoReverseMatch:
                        continue
    return sorted(urls)


def test_anonymous_visitors_are_sent_to_the_login_page_from_every_admin_url(client):
    urls = admin_urls()
    login = reverse("admin:login")
    assert len(urls) > 3 * len(admin.site._registry)
    for url in urls:
        if url == login:
            continue
        response = client.get(url, follow=True)
        assert response.redirect_chain, (url, response.status_code)
        assert response.redirect_chain[0][1] == 302, url
        # Logging out sends to the index first, which sends on to the login page.
        assert response.redirect_chain[-1][0].startswith(f"{login}?next="), url
        assert response.status_code == 200
        assert response.request["PATH_INFO"] == login
