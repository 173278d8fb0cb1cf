"""Who may do what in a campaign. Membership decides visibility (non-members get 404);
the role decides the action (members without the role get 403)."""

from rest_framework.permissions import BasePermission

from labelhub.campaigns.models import Role

READ_ACTIONS = {"list", "retrieve"}


class HasCampaignRole(BasePermission):
    """The view declares ``role_rules = {action: {roles}}``; ``"*"`` is the fallback.

    The view's ``get_campaign()`` raises 404 for non-members before roles are looked at.
    """

    message = "Your role in this campaign does not allow this."

    def has_permission(self, request, view):
        campaign = view.get_campaign()
        if campaign is None:  # campaign-less actions (listing, creating campaigns)
            return True
        allowed = view.role_rules.get(view.action, view.role_rules.get("*", set()))
        return bool(view.get_roles() & allowed)


ANY_MEMBER = {Role.LEAD, Role.LABELER, Role.REVIEWER, Role.ENGINEER}
