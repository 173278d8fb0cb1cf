from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from labelhub.accounts import services


@login_required
def profile(request):
    token = services.token_get_or_create(user=request.user)
    return render(request, "accounts/profile.html", {"token": token})


@require_POST
@login_required
def token_rotate(request):
    services.token_rotate(user=request.user)
    return redirect("profile")
