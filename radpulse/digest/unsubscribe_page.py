"""The page behind every digest's unsubscribe link: GET asks, POST unsubscribes.

Mail scanners and link previews fetch the links in an email, so a GET never changes anything: it
shows the address and a button that POSTs back to the same URL. A POST unsubscribes, whether it
comes from that button or from a mail client's RFC 8058 one-click request (body
`List-Unsubscribe=One-Click`, announced by the `List-Unsubscribe-Post` header). An unknown token
answers 404 with the same wording for GET and POST.
"""

from __future__ import annotations

from html import escape

from radpulse.db.engine import Database
from radpulse.digest.subscribers import subscriber_for_token, unsubscribe

HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
_INVALID = "This unsubscribe link is not valid: the subscription may have been removed already."
_PAGE = ("<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
         "<title>radpulse: unsubscribe</title><body style='font-family: sans-serif; max-width: 560px; "
         "margin: 40px auto'>{body}</body></html>")


def unsubscribe_response(db: Database, token: str, method: str) -> tuple[int, str]:
    """(HTTP status, HTML page) for a GET or POST of `/unsubscribe/<token>`."""
    found = subscriber_for_token(db, token)
    if found is None:
        return 404, _PAGE.format(body=f"<p>{_INVALID}</p>")
    address, active = found
    if method.upper() == "POST":
        unsubscribe(db, token)
        return 200, _PAGE.format(body=f"<p>{escape(address)} will not receive the radpulse weekly digest any more.</p>")
    if not active:
        return 200, _PAGE.format(body=f"<p>{escape(address)} is already unsubscribed from the radpulse weekly digest.</p>")
    form = ("<form method=post action=''><input type=hidden name=List-Unsubscribe value=One-Click>"
            "<button type=submit>Unsubscribe</button></form>")
    return 200, _PAGE.format(body=f"<p>Stop sending the radpulse weekly digest to {escape(address)}?</p>{form}")
