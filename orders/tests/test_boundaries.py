"""Orders are written by orders only: every other app reads them, and calls an orders service to
change them (docs/architecture.md).

The other apps' modules are read with `ast`, their tests and migrations left out (a test builds
the orders it needs), and so is bench/, which seeds its load the same way.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OTHER_APPS = ["core", "shop", "coupons", "payments", "reports", "backoffice"]
MODELS = {"Order", "OrderItem", "OrderEvent", "OrderEmail", "Refund", "RefundLine"}
# What a manager or a queryset writes with (a row lock comes before a write, and is orders' own).
WRITES = {
    "create",
    "update",
    "bulk_create",
    "bulk_update",
    "delete",
    "get_or_create",
    "update_or_create",
    "select_for_update",
}
# An order's related managers: order.events.create(...) writes too.
RELATED = {"items", "events", "emails", "refunds"}


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    return ".".join([node.id, *reversed(parts)])


def _names_an_order(node: ast.AST) -> bool:
    """Whether the expression is, by its name, an order: `order`, `paid_order`, `invoice.order`."""
    name = _dotted(node).rpartition(".")[2]
    return name == "order" or name.endswith("_order")


class _OrderWrites(ast.NodeVisitor):
    def __init__(self):
        self.models: dict[str, str] = {}  # local name -> orders model
        self.modules: set[str] = set()  # local names of orders.models
        self.found: list[tuple[int, str]] = []

    def model(self, node: ast.AST) -> str:
        dotted = _dotted(node)
        if dotted in self.models:
            return self.models[dotted]
        module, _, name = dotted.rpartition(".")
        return name if module in self.modules and name in MODELS else ""

    def visit_Import(self, node):
        for alias in node.names:
            if alias.name == "orders.models":
                self.modules.add(alias.asname or alias.name)
            if alias.name == "orders.events":
                self.found.append((node.lineno, "imports orders.events"))

    def visit_ImportFrom(self, node):
        for alias in node.names:
            local = alias.asname or alias.name
            if node.module == "orders.models" and alias.name in MODELS:
                self.models[local] = alias.name
            elif node.module == "orders" and alias.name == "models":
                self.modules.add(local)
            elif node.module == "orders.events" or (node.module, alias.name) == (
                "orders",
                "events",
            ):
                self.found.append((node.lineno, f"imports {alias.name} from {node.module}"))

    def visit_Call(self, node):
        func = node.func
        if model := self.model(func):
            self.found.append((node.lineno, f"builds an {model} row"))
        if isinstance(func, ast.Attribute):
            if func.attr in WRITES and (written := self.written_through(func.value)):
                self.found.append((node.lineno, f"{func.attr}() on {written}"))
            if func.attr in {"save", "delete"} and _names_an_order(func.value):
                self.found.append((node.lineno, f"{func.attr}() on {_dotted(func.value)}"))
        self.generic_visit(node)

    def written_through(self, receiver: ast.AST) -> str:
        """Return the manager a chain such as `Order.objects.filter(...)` starts from, if it is
        one of orders'."""
        while isinstance(receiver, ast.Call | ast.Attribute):
            if isinstance(receiver, ast.Call):
                receiver = receiver.func
                continue
            if receiver.attr == "objects" and (model := self.model(receiver.value)):
                return f"{model}.objects"
            if receiver.attr in RELATED and _names_an_order(receiver.value):
                return _dotted(receiver)
            receiver = receiver.value
        return ""


def order_writes(source: str) -> list[tuple[int, str]]:
    """Return (line, what) for each write to orders in the module's source."""
    finder = _OrderWrites()
    finder.visit(ast.parse(source))
    return sorted(finder.found)


def modules_outside_orders() -> list[Path]:
    return sorted(
        path
        for app in OTHER_APPS
        for path in (ROOT / app).rglob("*.py")
        if not {"tests", "migrations"} & set(path.relative_to(ROOT).parts)
    )


def writes_by_module() -> dict[str, list[str]]:
    found = {}
    for path in modules_outside_orders():
        if writes := order_writes(path.read_text(encoding="utf-8")):
            found[path.relative_to(ROOT).as_posix()] = [
                f"l.{line}: {what}" for line, what in writes
            ]
    return found


def test_no_module_outside_orders_writes_orders():
    assert writes_by_module() == {}


def test_the_check_reads_the_other_apps_modules_and_not_their_tests():
    paths = [path.relative_to(ROOT).as_posix() for path in modules_outside_orders()]
    assert {"payments/services.py", "reports/services.py", "coupons/services.py"} <= set(paths)
    assert not [path for path in paths if "/tests/" in path or "/migrations/" in path]


def test_the_check_sees_each_way_of_writing_an_order():
    source = """
import orders.models
from orders import models as order_models
from orders.events import order_event_record
from orders.models import Order, OrderEvent as Timeline, OrderItem

Order.objects.filter(pk=1).update(stripe_session_id="cs_1")
Timeline.objects.create(order_id=1, kind="note", message="Invoice 1.")
order = Order.objects.select_for_update().get(pk=1)
OrderItem.objects.bulk_create([OrderItem(order=order)])
order_models.OrderEmail.objects.get_or_create(order=order, kind="payment")
orders.models.Order.objects.all().delete()
order.discount = 0
order.save(update_fields=["discount"])
invoice.order.events.create(kind="note", message="Invoice 1.")
orders.models.Refund.objects.filter(pk=1).update(status="succeeded")
credit_note.order.refunds.create(amount=1)
"""
    assert order_writes(source) == [
        (4, "imports order_event_record from orders.events"),
        (7, "update() on Order.objects"),
        (8, "create() on OrderEvent.objects"),
        (9, "select_for_update() on Order.objects"),
        (10, "builds an OrderItem row"),
        (10, "bulk_create() on OrderItem.objects"),
        (11, "get_or_create() on OrderEmail.objects"),
        (12, "delete() on Order.objects"),
        (14, "save() on order"),
        (15, "create() on invoice.order.events"),
        (16, "update() on Refund.objects"),
        (17, "create() on credit_note.order.refunds"),
    ]


def test_reading_orders_and_writing_other_models_are_no_writes():
    source = """
from django.db.models import Exists, OuterRef
from orders.models import Order, OrderEvent
from reports.models import Invoice

pending = Order.objects.filter(status=Order.Status.PENDING).exclude(stripe_session_id="")
noted = Exists(OrderEvent.objects.filter(order=OuterRef("pk"), kind=OrderEvent.Kind.NOTE))
order = Order.objects.get(pk=1)
order.refresh_from_db(fields=["payment_flagged"])
items = list(order.items.all())
invoice = Invoice.objects.create(order=order, number="INV-1")
invoice.save(update_fields=["file"])
invoice.file.storage.delete("old.pdf")
"""
    assert order_writes(source) == []
