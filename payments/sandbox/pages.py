"""The sandbox's stand-in for Stripe's hosted Checkout page."""

from html import escape

from payments.sandbox.objects import CARDS, DEFAULT_CARD
from payments.sandbox.wire import money

CLOSED = {
    "complete": "This order is paid. Thank you!",
    "expired": "This checkout session has expired. Go back to the shop to place the order again.",
}

STYLE = """
:root { --wine: #7b1e3a; --ink: #1f1a1c; --muted: #6b6467; --line: #e8e2e4; }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; background: #f6f3f4; color: var(--ink);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { width: calc(100% - 32px); max-width: 440px; margin: 48px auto; padding: 28px 28px 20px;
  background: #fff; border-radius: 12px;
  box-shadow: 0 1px 3px rgba(0,0,0,.08), 0 8px 24px rgba(0,0,0,.06); }
header { display: flex; align-items: baseline; justify-content: space-between; gap: 12px;
  border-bottom: 3px solid var(--wine); padding-bottom: 12px; margin-bottom: 16px; }
h1 { margin: 0; font-size: 1.35rem; color: var(--wine); }
.badge { font-size: .75rem; font-weight: 600; text-transform: uppercase; letter-spacing: .05em;
  color: var(--wine); background: #f7e9ee; border-radius: 999px; padding: 2px 10px; }
.order { margin: 0 0 12px; color: var(--muted); }
.order strong { color: var(--ink); }
table { width: 100%; border-collapse: collapse; }
td { padding: 8px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
td.amount { text-align: right; white-space: nowrap; padding-left: 16px; }
td .qty { display: block; color: var(--muted); font-size: .875rem; }
tfoot td { font-weight: 700; font-size: 1.15rem; border-bottom: 0; }
.email { color: var(--muted); margin: 8px 0 20px; font-size: .925rem; }
.error { color: #b42318; background: #fef3f2; border: 1px solid #fecdca; border-radius: 8px;
  padding: 10px 12px; margin: 0 0 16px; font-weight: 600; }
.status { background: #f7e9ee; border-radius: 8px; padding: 12px; margin: 0 0 16px; }
form { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
label.card { grid-column: 1 / -1; display: grid; gap: 4px; color: var(--muted);
  font-size: .875rem; }
select { font: inherit; padding: 8px; border: 1px solid var(--line); border-radius: 8px;
  color: var(--ink); background: #fff; }
button { font: inherit; font-weight: 600; border-radius: 8px; padding: 11px 14px;
  cursor: pointer; border: 1px solid var(--wine); }
button.pay { grid-column: 1 / -1; background: var(--wine); color: #fff; font-size: 1.05rem; }
button.pay:hover { background: #64172f; }
button.decline { background: #fff; color: var(--wine); }
button.cancel { background: #fff; color: var(--muted); border-color: var(--line); }
a { color: var(--wine); }
.note { color: var(--muted); font-size: .8rem; text-align: center; margin: 18px 0 0; }
"""


def checkout_page(session: dict, line_items: list, *, error: str = "") -> str:
    currency = session["currency"]
    number = session["metadata"].get("order_number")
    rows = "".join(
        f"<tr><td>{escape(item['name'])}<span class=qty>Qty {item['quantity']} × "
        f"{money(item['unit_amount'], currency)}</span></td>"
        f"<td class=amount>{money(item['unit_amount'] * item['quantity'], currency)}</td></tr>"
        for item in line_items
    )
    parts = [
        f"<p class=order>Order <strong>{escape(number)}</strong></p>" if number else "",
        f"<table><tbody>{rows}</tbody><tfoot>{_discount_row(session)}<tr><td>Total</td>"
        f"<td class=amount>{money(session['amount_total'], currency)}</td></tr></tfoot></table>",
        (
            f"<p class=email>Receipt to {escape(session['customer_email'])}</p>"
            if session["customer_email"]
            else "<p class=email></p>"
        ),
    ]
    if session["status"] == "open":
        if error:
            parts.append(f'<p class=error role="alert">{escape(error)}</p>')
        cancel = (
            '<button class=cancel name=action value="cancel">Cancel</button>'
            if session["cancel_url"]
            else ""
        )
        parts.append(
            f'<form method=post action="/pay/{escape(session["id"])}">{_card_choice()}'
            '<button class=pay name=action value="pay">Pay</button>'
            f'<button class=decline name=action value="decline">Decline</button>{cancel}</form>'
        )
    else:
        parts.append(f'<p class=status role="status">{escape(CLOSED[session["status"]])}</p>')
        back = _back_url(session)
        if back:
            parts.append(f'<p><a href="{escape(back)}">Back to the shop</a></p>')
    return _document("Pay Wine-Shop", "".join(parts))


def _card_choice() -> str:
    """Stripe's test cards, which decide what the payment's refunds do later."""
    options = "".join(
        f'<option value="{card.number}"{" selected" if card.number == DEFAULT_CARD else ""}>'
        f"{escape(card.label)}</option>"
        for card in CARDS.values()
    )
    return f"<label class=card>Test card <select name=card>{options}</select></label>"


def _discount_row(session: dict) -> str:
    off = session["total_details"]["amount_discount"]
    if not off:
        return ""
    return f"<tr><td>Discount</td><td class=amount>−{money(off, session['currency'])}</td></tr>"


def not_found_page(session_id: str) -> str:
    return _document(
        "Checkout not found", f"<p class=status>No such checkout session: {escape(session_id)}</p>"
    )


def _back_url(session: dict) -> str | None:
    if session["status"] == "complete" and session["success_url"]:
        return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
    return session["cancel_url"]


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>"
        "<header><h1>Wine-Shop</h1><span class=badge>Stripe sandbox</span></header>"
        f"{body}<p class=note>Test mode: no card is charged.</p></main></body></html>"
    )
