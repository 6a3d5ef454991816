"""Snippet choosers that check permissions. Wagtail's choosers list a model's rows to any
admin user; the plugin's list rules, webhooks and emails, so they are for users with a
permission on the model, and for page editors where pages choose them (topics in the
page's "Lead scoring" tab, segments in a segment block)."""

from functools import update_wrapper

from django.core.exceptions import PermissionDenied
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permission_policies.pages import PagePermissionPolicy
from wagtail.snippets.views.chooser import SnippetChooserViewSet

ANY_PERMISSION = ("add", "change", "delete", "view")


class PermittedChooserViewSet(SnippetChooserViewSet):
    def may_choose(self, user):
        return ModelPermissionPolicy(self.model).user_has_any_permission(user, ANY_PERMISSION)

    def construct_view(self, view_class, **kwargs):
        view = super().construct_view(view_class, **kwargs)

        def permitted_view(request, *args, **kwargs):
            if not self.may_choose(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return update_wrapper(permitted_view, view)


class PageEditorChooserViewSet(PermittedChooserViewSet):
    def may_choose(self, user):
        return super().may_choose(user) or PagePermissionPolicy().user_has_any_permission(
            user, ["add", "change", "publish"])
