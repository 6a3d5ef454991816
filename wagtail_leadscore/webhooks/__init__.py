"""Outgoing webhooks: signed JSON POSTs to other systems (a CRM, a phone system), queued
and retried like email, never to a private address unless the settings allow it."""
