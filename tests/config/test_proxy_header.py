"""X-Forwarded-Proto is trusted only when LABELHUB_BEHIND_PROXY says a proxy sets it (with
DEBUG off as well as on): otherwise any client could claim https."""

import os
import subprocess
import sys

import pytest


def proxy_header(**env) -> str:
    code = "from labelhub.config import settings; print(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None))"
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "LABELHUB_BEHIND_PROXY"}}
    result = subprocess.run([sys.executable, "-c", code], env={**base, "SECRET_KEY": "x" * 50, **env},
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


@pytest.mark.parametrize("debug", ["0", "1"])
def test_it_ignores_the_header_without_a_proxy(debug):
    assert proxy_header(DEBUG=debug) == "None"


def test_it_trusts_the_header_behind_a_proxy():
    assert proxy_header(DEBUG="0", LABELHUB_BEHIND_PROXY="1") == "('HTTP_X_FORWARDED_PROTO', 'https')"
