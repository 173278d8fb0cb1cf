import pytest


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Each role fixture hashes a password; the production hasher takes ~0.5 s per user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
