"""Pages of the labeler loop. The labeling page itself is a frontend module over the API."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from labelhub.campaigns import selectors as campaign_selectors
from labelhub.labeling import selectors


@login_required
def home(request):
    return render(request, "labeling/home.html", {"rows": selectors.labeler_home(user=request.user)})


@login_required
def label(request):
    campaign = None
    if slug := request.GET.get("campaign"):
        campaign = campaign_selectors.campaign_get(user=request.user, slug=slug)
    return render(request, "labeling/label.html", {"campaign": campaign})
