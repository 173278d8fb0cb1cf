"""The browser libraries: exactly the files the page modules import are served, and a missing
one stops start-up with a system check error that names it and the command to run."""

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.core.management.base import SystemCheckError

VENDOR_IMPORT = re.compile(r"""from\s+["'](?:\.\./)+(vendor/[^"']+)["']|import\s+["'](?:\.\./)+(vendor/[^"']+)["']""")


def imported_vendor_files() -> set[str]:
    found = set()
    for module in (settings.FRONTEND_DIR / "js").rglob("*.js"):
        for match in VENDOR_IMPORT.finditer(module.read_text(encoding="utf-8")):
            found.add(match.group(1) or match.group(2))
    return found


def served_vendor_files() -> set[str]:
    return {
        f"{storage.prefix}/{path}"
        for finder in finders.get_finders()
        for path, storage in finder.list([])
        if (getattr(storage, "prefix", None) or "").startswith("vendor")
    }


@pytest.fixture
def fresh_finders():
    finders.get_finder.cache_clear()
    yield
    finders.get_finder.cache_clear()


def test_it_serves_exactly_the_vendor_files_the_pages_import():
    imported = imported_vendor_files()
    assert imported == {"vendor/chart.js/chart.umd.min.js", "vendor/dompurify/purify.es.mjs",
                        "vendor/sortablejs/sortable.esm.js"}
    assert served_vendor_files() == imported
    for name in imported:
        assert finders.find(name).startswith(str(settings.FRONTEND_NODE_MODULES))


def test_it_serves_nothing_else_from_node_modules():
    for name in ("vendor/chart.js/chart.umd.js", "vendor/chart.js/chart.js", "vendor/marked/marked.esm.js",
                 "vendor/dompurify/purify.js"):
        assert not finders.find(name)


def test_it_stops_start_up_naming_the_missing_file_and_the_command(settings, tmp_path, fresh_finders):
    settings.FRONTEND_NODE_MODULES = tmp_path / "node_modules"
    with pytest.raises(SystemCheckError) as caught:
        call_command("check")
    message = str(caught.value)
    assert f"{tmp_path}/node_modules/chart.js/dist/chart.umd.min.js is missing" in message
    assert f"{tmp_path}/node_modules/sortablejs/modular/sortable.esm.js is missing" in message
    assert "cd frontend && npm ci" in message
    assert not finders.find("vendor/chart.js/chart.umd.min.js")


def test_it_passes_the_check_when_the_files_are_installed(fresh_finders):
    call_command("check")
