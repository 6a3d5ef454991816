"""``Not you?``: a shared browser forgets who it was, and starts as a new anonymous visitor."""

from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST


@require_POST
def not_you(request):
    """CSRF-protected POST. Nothing is deleted: the person's history stays theirs; this
    browser only gets a visitor of its own. Redirects to ``next`` on this site, or home."""
    context = getattr(request, "leadscore", None)
    if context is not None and context.allowed and context.cookie_visitor_id is not None:
        context.use_visitor(context.new_visitor())
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = "/"
    return HttpResponseRedirect(target)
