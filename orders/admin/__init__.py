"""Orders in the admin.

- order: the order list and page (items, timeline, export, canceling unpaid orders).
- shipping: Mark as shipped… (carrier, tracking number) and Ready for collection… pages.
- refunds: the order page's refunds and the pages that request, cancel-and-refund and allocate.
"""

from orders.admin.order import OrderAdmin

__all__ = ["OrderAdmin"]
