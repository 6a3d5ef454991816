"""Email: messages edited in Wagtail, an outbox that sends each of them once, and the signed
links (click, open pixel, unsubscribe) that measure them."""
