from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F
from django.db.models.functions import Round

from core.mail import validate_single_line
from orders.changes import ChangingQuerySet
from shop.delivery.countries import COUNTRY_CHOICES, country_name
from shop.delivery.models import DeliveryMethod


class RefundState(models.TextChoices):
    """How much of an order's money was given back, by its succeeded refunds."""

    NONE = "none", "Not refunded"
    PARTIAL = "partial", "Partially refunded"
    FULL = "full", "Refunded"


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending payment"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        CANCELED = "canceled", "Canceled"
        EXPIRED = "expired", "Expired"
        REFUNDED = "refunded", "Refunded"

    number = models.CharField("number", max_length=20, unique=True, editable=False)
    status = models.CharField(
        "status", max_length=16, choices=Status.choices, default=Status.PENDING
    )
    # The customer's details go into mail headers, invoices and exports: one line each.
    first_name = models.CharField("first name", max_length=100, validators=[validate_single_line])
    last_name = models.CharField("last name", max_length=100, validators=[validate_single_line])
    email = models.EmailField("email", validators=[validate_single_line])
    phone = models.CharField("phone", max_length=32, blank=True, validators=[validate_single_line])
    delivery_method = models.CharField(
        "delivery", max_length=16, choices=DeliveryMethod.choices, default=DeliveryMethod.DELIVERY
    )
    # Click & collect needs no address: the order is taxed as a sale in the shop's country.
    address = models.CharField(
        "address", max_length=250, blank=True, validators=[validate_single_line]
    )
    postal_code = models.CharField(
        "postal code", max_length=20, blank=True, validators=[validate_single_line]
    )
    city = models.CharField("city", max_length=100, blank=True, validators=[validate_single_line])
    country = models.CharField("country", max_length=2, blank=True, choices=COUNTRY_CHOICES)
    currency = models.CharField("currency", max_length=3)
    subtotal = models.DecimalField("subtotal", max_digits=12, decimal_places=2)
    coupon_code = models.CharField("coupon", max_length=40, blank=True)
    discount = models.DecimalField("discount", max_digits=12, decimal_places=2, default=0)
    # What delivery costs is its own line, never discounted by a coupon.
    delivery_zone = models.CharField("shipping zone", max_length=100, blank=True)
    delivery_charge = models.DecimalField(
        "delivery charge", max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    total = models.DecimalField("total", max_digits=12, decimal_places=2)
    # The destination's VAT rate and minimum age when the order was placed: later changes to
    # the destination table never reach an order already placed.
    vat_rate = models.DecimalField("VAT rate", max_digits=5, decimal_places=4)
    minimum_age = models.PositiveSmallIntegerField("minimum age", null=True, blank=True)
    age_confirmed_at = models.DateTimeField(
        "age confirmed at",
        null=True,
        blank=True,
        help_text="When the customer confirmed being of legal drinking age at checkout.",
    )
    language = models.CharField(
        "language",
        max_length=8,
        blank=True,
        help_text="The language the customer ordered in: the emails and documents they get "
        "later speak it (blank: the shop's).",
    )
    carrier = models.CharField("carrier", max_length=50, blank=True)
    tracking_number = models.CharField(
        "tracking number", max_length=100, blank=True, validators=[validate_single_line]
    )
    created = models.DateTimeField("placed", auto_now_add=True)
    updated = models.DateTimeField("updated", auto_now=True)
    paid_at = models.DateTimeField("paid at", null=True, blank=True)
    shipped_at = models.DateTimeField("shipped at", null=True, blank=True)
    canceled_at = models.DateTimeField("canceled at", null=True, blank=True)
    stripe_session_id = models.CharField("Stripe Checkout Session", max_length=255, blank=True)
    payment_intent = models.CharField("Stripe payment", max_length=255, blank=True)
    payment_flagged = models.BooleanField(
        "payment needs attention",
        default=False,
        help_text="Stripe reported a payment that does not match the order.",
    )
    payment_flag_reason = models.TextField("why the payment needs attention", blank=True)
    # A keyed hash of the client's address group (orders.limits): enough to count the unpaid
    # orders one client holds, without keeping its address.
    placed_from = models.CharField("placed from", max_length=32, blank=True, editable=False)
    # Kept by orders.refunds in the transaction that writes the refunds they sum up; the
    # constraints below are the last line of defence against refunding more than was paid.
    refunds_committed = models.DecimalField(
        "refunds committed",
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        editable=False,
        help_text="What the order's refunds that have not failed add up to.",
    )
    refunded_amount = models.DecimalField(
        "refunded",
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        editable=False,
        help_text="What the order's succeeded refunds add up to: the money given back.",
    )

    objects = ChangingQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = "order"
        verbose_name_plural = "orders"
        # Giving money back is kept apart from editing an order: a clerk may fix an address.
        permissions = [("refund_order", "Can refund orders and cancel paid ones")]
        indexes = [
            models.Index(fields=["status", "-created"], name="order_status_idx"),
            models.Index(fields=["-created"], name="order_created_idx"),
            # Sales figures and the dashboard select paid orders by the day they were paid.
            models.Index(fields=["paid_at"], name="order_paid_at_idx"),
            models.Index(fields=["email"], name="order_email_idx"),
            models.Index(fields=["stripe_session_id"], name="order_stripe_session_idx"),
            models.Index(fields=["payment_intent"], name="order_payment_intent_idx"),
            models.Index(fields=["placed_from", "status"], name="order_placed_from_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(total__gte=0), name="order_total_gte_0"),
            models.CheckConstraint(
                condition=models.Q(
                    delivery_charge__gte=0,
                    # Rounded to the cent: SQLite computes in binary floating point.
                    total=Round(F("subtotal") - F("discount") + F("delivery_charge"), 2),
                ),
                name="order_total_adds_up",
            ),
            models.CheckConstraint(
                condition=models.Q(refunds_committed__gte=0, refunds_committed__lte=F("total")),
                name="order_refunds_within_total",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    refunded_amount__gte=0, refunded_amount__lte=F("refunds_committed")
                ),
                name="order_refunded_within_committed",
            ),
        ]

    def __str__(self):
        return self.number

    def get_country_display(self) -> str:
        """Return the country's name in the active language: one lookup, where Django's own
        builds a dictionary of every country's name on each call."""
        return country_name(self.country)

    @property
    def collected(self) -> bool:
        """Return whether the customer collects the order at the shop (click & collect)."""
        return self.delivery_method == DeliveryMethod.COLLECT

    @property
    def customer_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def amount_paid(self) -> Decimal:
        """Return what the customer paid: the total once the order is paid, else nothing."""
        return self.total if self.paid_at is not None else Decimal("0.00")

    @property
    def net_paid(self) -> Decimal:
        """Return what the shop keeps: what was paid less the money given back."""
        return self.amount_paid - self.refunded_amount

    @property
    def refundable_amount(self) -> Decimal:
        """Return what may still be refunded: what was paid less the refunds not failed."""
        return max(self.amount_paid - self.refunds_committed, Decimal("0.00"))

    @property
    def refund_state(self) -> RefundState:
        """Return whether the money actually given back is none, part or all of the total."""
        if self.refunded_amount <= 0:
            return RefundState.NONE
        if self.refunded_amount < self.total:
            return RefundState.PARTIAL
        return RefundState.FULL


class OrderItem(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="items", verbose_name="order"
    )
    # The wine may leave the catalog later; the order keeps what was sold.
    wine = models.ForeignKey(
        "shop.Wine",
        on_delete=models.SET_NULL,
        null=True,
        related_name="order_items",
        verbose_name="wine",
    )
    sku = models.CharField("SKU", max_length=32)
    wine_name = models.CharField("wine", max_length=200)
    vintage = models.PositiveSmallIntegerField("vintage", null=True, blank=True)
    unit_price = models.DecimalField("unit price", max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField("quantity", validators=[MinValueValidator(1)])
    line_total = models.DecimalField("line total", max_digits=12, decimal_places=2)
    # Kept by orders.refunds with the refund lines they count, as Order's refund amounts are.
    refunded_quantity = models.PositiveIntegerField(
        "bottles refunded",
        default=0,
        editable=False,
        help_text="Bottles in the refunds of this line that have not failed.",
    )
    restocked_quantity = models.PositiveIntegerField(
        "bottles back on sale",
        default=0,
        editable=False,
        help_text="Bottles of this line put back in stock by succeeded refunds.",
    )

    objects = ChangingQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = "order item"
        verbose_name_plural = "order items"
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="item_quantity_gte_1"),
            models.UniqueConstraint(fields=["order", "wine"], name="item_wine_once_per_order"),
            models.CheckConstraint(
                condition=models.Q(refunded_quantity__lte=F("quantity")),
                name="item_refunded_within_quantity",
            ),
            models.CheckConstraint(
                condition=models.Q(restocked_quantity__lte=F("refunded_quantity")),
                name="item_restocked_within_refunded",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.wine_name}"

    @property
    def refundable_quantity(self) -> int:
        """Return the bottles of the line no refund (pending or succeeded) has taken yet."""
        return self.quantity - self.refunded_quantity


class OrderEvent(models.Model):
    class Kind(models.TextChoices):
        PLACED = "placed", "Placed"
        STATUS = "status", "Status changed"
        STOCK_RELEASED = "stock_released", "Stock released"
        NOTE = "note", "Note"
        EMAIL = "email", "Email sent"
        EMAIL_FAILED = "email_failed", "Email failed"
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="events", verbose_name="order"
    )
    kind = models.CharField("kind", max_length=20, choices=Kind.choices)
    message = models.TextField("message")
    from_status = models.CharField(
        "from status", max_length=16, choices=Order.Status.choices, blank=True
    )
    to_status = models.CharField(
        "to status", max_length=16, choices=Order.Status.choices, blank=True
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name="by",
    )
    created = models.DateTimeField("at", auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]
        verbose_name = "order event"
        verbose_name_plural = "order events"

    def __str__(self):
        return f"{self.get_kind_display()}: {self.message}"


class OrderEmail(models.Model):
    """An email the customer is owed: written with the change that owes it, sent exactly once."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Order confirmation"
        PAYMENT = "payment", "Payment received"
        REFUND = "refund", "Refund notice"
        SHIPPED = "shipped", "Shipping notice"

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="emails", verbose_name="order"
    )
    kind = models.CharField("kind", max_length=20, choices=Kind.choices)
    # An order may have several refunds: a refund notice is owed once per refund, and only it
    # names one.
    refund = models.ForeignKey(
        "Refund",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="emails",
        verbose_name="refund",
    )
    created = models.DateTimeField("created", auto_now_add=True)
    sent_at = models.DateTimeField("sent at", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("attempts", default=0)
    retry_at = models.DateTimeField("next attempt after", null=True, blank=True)
    failed_at = models.DateTimeField("failed at", null=True, blank=True)
    failure_reason = models.TextField("why it failed", blank=True)
    staff_alerted_at = models.DateTimeField("staff alerted at", null=True, blank=True)

    class Meta:
        ordering = ["created", "id"]
        verbose_name = "order email"
        verbose_name_plural = "order emails"
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind"],
                condition=~models.Q(kind="refund"),
                name="order_email_once_per_kind",
            ),
            models.UniqueConstraint(
                fields=["refund"],
                condition=models.Q(refund__isnull=False),
                name="order_email_once_per_refund",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="refund", refund__isnull=False)
                | (~models.Q(kind="refund") & models.Q(refund__isnull=True)),
                name="order_email_refund_names_its_refund",
            ),
        ]
        indexes = [
            models.Index(fields=["sent_at", "created"], name="order_email_unsent_idx"),
            # The sweep's walk: emails still owed, the least tried and oldest first.
            models.Index(
                fields=["attempts", "created"],
                condition=models.Q(sent_at__isnull=True, failed_at__isnull=True),
                name="order_email_due_idx",
            ),
            # Failed emails: flagged in the admin and alerted to staff.
            models.Index(
                fields=["failed_at"],
                condition=models.Q(failed_at__isnull=False),
                name="order_email_failed_idx",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.order}"


class Refund(models.Model):
    """Money given back on an order: written before Stripe is asked, settled once by its answer."""

    class Kind(models.TextChoices):
        STAFF = "staff", "Started in the admin"
        EXTERNAL = "external", "Made in Stripe's dashboard"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="refunds", verbose_name="order"
    )
    kind = models.CharField("kind", max_length=16, choices=Kind.choices, default=Kind.STAFF)
    status = models.CharField(
        "status", max_length=16, choices=Status.choices, default=Status.PENDING
    )
    amount = models.DecimalField("amount", max_digits=12, decimal_places=2)
    reason = models.TextField("reason", blank=True)
    stripe_refund_id = models.CharField("Stripe refund", max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="started by",
    )
    created = models.DateTimeField("created", auto_now_add=True)
    succeeded_at = models.DateTimeField("succeeded at", null=True, blank=True)
    failed_at = models.DateTimeField("failed at", null=True, blank=True)
    failure_reason = models.TextField("why it failed", blank=True)
    # A refund made in Stripe's dashboard comes without lines: staff say which bottles it was
    # for, and whether they went back on sale. A refund started in the admin has its lines.
    allocated = models.BooleanField(
        "allocated to lines",
        default=True,
        help_text="Staff said which bottles the refund was for.",
    )
    # The order is canceled when this refund succeeds (a paid order canceled from the admin).
    cancels_order = models.BooleanField(
        "cancels the order",
        default=False,
        help_text="The order is canceled when the refund succeeds.",
    )

    objects = ChangingQuerySet.as_manager()

    class Meta:
        ordering = ["created", "id"]
        verbose_name = "refund"
        verbose_name_plural = "refunds"
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_gt_0"),
            models.UniqueConstraint(
                fields=["stripe_refund_id"],
                condition=~models.Q(stripe_refund_id=""),
                name="refund_stripe_id_once",
            ),
            models.CheckConstraint(
                condition=models.Q(allocated=True) | models.Q(kind="external"),
                name="refund_staff_allocated",
            ),
        ]
        indexes = [
            # Refunds made in Stripe that staff have yet to allocate.
            models.Index(
                fields=["created"],
                condition=models.Q(allocated=False),
                name="refund_unallocated_idx",
            ),
        ]

    def __str__(self):
        return f"Refund of {self.amount} ({self.get_status_display().lower()})"


class RefundLine(models.Model):
    """Bottles of an order line a refund gives money back for, and whether they go back on sale."""

    refund = models.ForeignKey(
        Refund, on_delete=models.CASCADE, related_name="lines", verbose_name="refund"
    )
    item = models.ForeignKey(
        OrderItem, on_delete=models.PROTECT, related_name="refund_lines", verbose_name="order line"
    )
    quantity = models.PositiveIntegerField("bottles", validators=[MinValueValidator(1)])
    restock = models.BooleanField(
        "bottles back on sale",
        default=False,
        help_text="Returned and sellable: the bottles go back in stock when the refund succeeds.",
    )
    amount = models.DecimalField("amount", max_digits=12, decimal_places=2)

    objects = ChangingQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = "refund line"
        verbose_name_plural = "refund lines"
        constraints = [
            models.UniqueConstraint(fields=["refund", "item"], name="refund_line_item_once"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="refund_line_quantity_gte_1"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="refund_line_amount_gte_0"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.item.wine_name}"
