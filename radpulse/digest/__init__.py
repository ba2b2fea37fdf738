"""The weekly email digest: what radiology talked about last week, sent to subscribers.

    content.py           what a week's digest says (counts, papers, posts, subspecialties)
    render.py            HTML (autoescaped) and plain text, from templates.py
    addresses.py         subscriber addresses: parsed, normalised, deceptive ones refused
    subscribers.py       add, list, remove, unsubscribe
    delivery.py          one email per subscriber over SMTP, never the same week twice
    unsubscribe_page.py  the unsubscribe link's page: GET asks, POST unsubscribes
"""

from radpulse.digest.addresses import AddressError, normalise_email
from radpulse.digest.content import Digest, build_digest, last_full_week, week_of
from radpulse.digest.delivery import DeliveryError, SendResult, compose, send_digests
from radpulse.digest.render import render
from radpulse.digest.subscribers import (
           add_subscriber,
           list_subscribers,
           remove_subscriber,
           unsubscribe,
)
from radpulse.digest.unsubscribe_page import unsubscribe_response

__all__ = ["AddressError", "DeliveryError", "Digest", "SendResult", "add_subscriber", "build_digest", "compose",
           "last_full_week", "list_subscribers", "normalise_email", "remove_subscriber", "render", "send_digests",
           "unsubscribe", "unsubscribe_response", "week_of"]
