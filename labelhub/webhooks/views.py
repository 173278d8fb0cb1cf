"""The webhooks pages (leads and ML engineers): register a URL and its events, see the secret
once, change or delete a webhook, read its delivery log. Each view: check the role, call a
selector or service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from labelhub.campaigns.selectors import campaign_get
from labelhub.core.webhooks import EVENTS
from labelhub.webhooks import selectors, services


def _managed_campaign(request, slug):
    """The campaign if the user is one of its leads or ML engineers (non-members: 404)."""
    campaign = campaign_get(user=request.user, slug=slug)
    if not campaign.roles_of(request.user) & selectors.MANAGERS:
        raise PermissionDenied("Only the campaign's leads and ML engineers manage its webhooks.")
    return campaign


def _posted(post) -> dict:
    return {"url": post.get("url", ""), "events": post.getlist("events"),
            "description": post.get("description", ""), "active": post.get("active") == "on"}


def _list_page(request, campaign, *, values=None, errors=None, created=None, status=200):
    return render(request, "webhooks/webhook_list.html", {
        "campaign": campaign, "webhooks": selectors.webhook_list(campaign=campaign), "events": EVENTS,
        "values": values or {"events": [], "active": True}, "errors": errors or {}, "created": created,
    }, status=status)


#: The session key that carries a new secret from the POST that made it to the one page that
#: shows it (post/redirect/get: reloading that page neither shows it again nor posts again).
SECRET_ONCE = "webhook_secret_once"


def _secret_once(request, webhook):
    request.session[SECRET_ONCE] = {"pk": webhook.pk, "secret": webhook.secret}


def _shown_secret(request, campaign):
    """The webhook and secret a POST just made, once (None after that, or for another campaign)."""
    once = request.session.pop(SECRET_ONCE, None)
    if not once:
        return None, None
    webhook = selectors.webhook_list(campaign=campaign).filter(pk=once["pk"]).first()
    return (webhook, once["secret"]) if webhook is not None and webhook.secret == once["secret"] else (None, None)


@login_required
def webhook_list(request, slug):
    campaign = _managed_campaign(request, slug)
    if request.method != "POST":
        created, _ = _shown_secret(request, campaign)
        return _list_page(request, campaign, created=created)
    values = _posted(request.POST)
    try:
        webhook = services.webhook_create(campaign=campaign, user=request.user, **values)
    except services.WebhookInvalid as exc:
        return _list_page(request, campaign, values=values, errors=exc.errors, status=400)
    _secret_once(request, webhook)
    return redirect("webhooks:list", slug=campaign.slug)


def _detail_page(request, campaign, webhook, *, values=None, errors=None, secret=None, status=200):
    values = values or {"url": webhook.url, "events": webhook.events, "description": webhook.description,
                        "active": webhook.active}
    return render(request, "webhooks/webhook_detail.html", {
        "campaign": campaign, "webhook": webhook, "events": EVENTS, "values": values, "errors": errors or {},
        "secret": secret, "deliveries": selectors.delivery_log(webhook=webhook),
    }, status=status)


@login_required
def webhook_detail(request, slug, pk):
    campaign = _managed_campaign(request, slug)
    webhook = selectors.webhook_get(campaign=campaign, pk=pk)
    if request.method != "POST":
        shown, secret = _shown_secret(request, campaign)
        return _detail_page(request, campaign, webhook, secret=secret if shown == webhook else None)
    values = _posted(request.POST)
    try:
        services.webhook_update(webhook=webhook, **values)
    except services.WebhookInvalid as exc:
        return _detail_page(request, campaign, webhook, values=values, errors=exc.errors, status=400)
    messages.success(request, "Webhook saved.")
    return redirect("webhooks:detail", slug=campaign.slug, pk=webhook.pk)


@require_POST
@login_required
def webhook_rotate_secret(request, slug, pk):
    campaign = _managed_campaign(request, slug)
    webhook = services.webhook_secret_rotate(webhook=selectors.webhook_get(campaign=campaign, pk=pk))
    _secret_once(request, webhook)
    return redirect("webhooks:detail", slug=campaign.slug, pk=webhook.pk)


@require_POST
@login_required
def webhook_delete(request, slug, pk):
    campaign = _managed_campaign(request, slug)
    webhook = selectors.webhook_get(campaign=campaign, pk=pk)
    services.webhook_delete(webhook=webhook)
    messages.success(request, f"Webhook to {webhook.url} deleted, with its delivery log.")
    return redirect("webhooks:list", slug=campaign.slug)
