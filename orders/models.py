from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from core.mail import validate_single_line


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
    address = models.CharField("address", max_length=250, validators=[validate_single_line])
    postal_code = models.CharField("postal code", max_length=20, validators=[validate_single_line])
    city = models.CharField("city", max_length=100, validators=[validate_single_line])
    currency = models.CharField("currency", max_length=3)
    subtotal = models.DecimalField("subtotal", max_digits=12, decimal_places=2)
    coupon_code = models.CharField("coupon", max_length=40, blank=True)
    discount = models.DecimalField("discount", max_digits=12, decimal_places=2, default=0)
    total = models.DecimalField("total", max_digits=12, decimal_places=2)
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

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = "order"
        verbose_name_plural = "orders"
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
        ]

    def __str__(self):
        return self.number

    @property
    def customer_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


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

    class Meta:
        ordering = ["id"]
        verbose_name = "order item"
        verbose_name_plural = "order items"
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="item_quantity_gte_1"),
            models.UniqueConstraint(fields=["order", "wine"], name="item_wine_once_per_order"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.wine_name}"


class OrderEvent(models.Model):
    class Kind(models.TextChoices):
        PLACED = "placed", "Placed"
        STATUS = "status", "Status changed"
        STOCK_RELEASED = "stock_released", "Stock released"
        NOTE = "note", "Note"
        EMAIL = "email", "Email sent"
        EMAIL_FAILED = "email_failed", "Email failed"
        PAYMENT = "payment", "Payment"

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

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="emails", verbose_name="order"
    )
    kind = models.CharField("kind", max_length=20, choices=Kind.choices)
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
            models.UniqueConstraint(fields=["order", "kind"], name="order_email_once_per_kind")
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
