"""wagtail-leadscore: lead scoring and marketing automation for Wagtail sites.

The public Python API: ``identify``, ``record_event``, ``make_identity_token``,
``scores_for`` (a contact's scores), ``change_stage``, ``qualify`` and ``visitor_stage``
(lifecycle); the
models are in ``wagtail_leadscore.models``.
"""

__version__ = "0.1.0"
__all__ = ["change_stage", "identify", "make_identity_token", "qualify", "record_event",
           "scores_for", "visitor_stage"]

_LOCATIONS = {
    "identify": "identity",
    "make_identity_token": "identity",
    "record_event": "events",
    "scores_for": "scoring.engine",
    "change_stage": "lifecycle.transitions",
    "qualify": "lifecycle.transitions",
    "visitor_stage": "lifecycle.transitions",
}


def __getattr__(name):
    # Lazy, so that importing the package (e.g. from settings) does not import models.
    if name in _LOCATIONS:
        from importlib import import_module

        return getattr(import_module(f".{_LOCATIONS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
