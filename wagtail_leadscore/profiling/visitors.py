"""Who is looking: the known contact of this browser, for forms and templates."""


def known_contact(request):
    """The contact this browser belongs to, or None (anonymous, or not tracked)."""
    context = getattr(request, "leadscore", None)
    return context.contact if context is not None else None


def mark_personalised(request):
    """This response depends on who asks: the tracking middleware marks it private and
    varying by cookie, so no shared cache serves it to someone else."""
    context = getattr(request, "leadscore", None)
    if context is not None:
        context.personalised = True
