from django.db import transaction
from rest_framework.authtoken.models import Token


def token_get_or_create(*, user) -> Token:
    token, _ = Token.objects.get_or_create(user=user)
    return token


@transaction.atomic
def token_rotate(*, user) -> Token:
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)
