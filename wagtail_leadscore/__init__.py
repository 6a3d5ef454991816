"""wagtail-leadscore: lead scoring and marketing automation for Wagtail sites.

The public Python API: ``identify``, ``record_event`` and ``make_identity_token``; the
models are ``wagtail_leadscore.models.Visitor``, ``Contact`` and ``Event``.
"""

__version__ = "0.1.0"
__all__ = ["identify", "make_identity_token", "record_event"]


def __getattr__(name):
    # Lazy, so that importing the package (e.g. from settings) does not import models.
    if name in ("identify", "make_identity_token"):
        from . import identity

        return getattr(identity, name)
    if name == "record_event":
        from .events import record_event

        return record_event
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
