from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import api_view
from rest_framework.response import Response

from labelhub.accounts import services


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.CharField()


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request):
    """Who you are signed in as."""
    return Response(MeSerializer(request.user).data)


@extend_schema(request=None, responses=TokenSerializer)
@api_view(["POST"])
def rotate_token(request):
    """Replace your API token with a new one (the old one stops working at once)."""
    token = services.token_rotate(user=request.user)
    return Response({"token": token.key})


class TokenView(ObtainAuthToken):
    """Your API token for a username and password. Failed attempts count towards the sign-in
    lock-out (per account and per address, docs/api.md): then 429."""

    def get_serializer_context(self):
        # Django's request, not DRF's wrapper: django-axes marks a locked-out request on it,
        # and its middleware (which only sees Django's request) then answers 429.
        return {**super().get_serializer_context(), "request": self.request._request}
