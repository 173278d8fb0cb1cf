from drf_spectacular.utils import extend_schema
from rest_framework import serializers
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
