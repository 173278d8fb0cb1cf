"""The browser libraries: exactly the files the pages load are served (modules the page scripts
import, stylesheets the templates link, the fonts those stylesheets use), and a missing one stops
start-up with a system check error that names it and the command to run."""

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from labelhub.config.staticfiles import static_name

# import … from "../vendor/…", import "../vendor/…" and import("../../vendor/…")
VENDOR_IMPORT = re.compile(r"""(?:from\s+|import\s*\(?\s*)["'](?:\.\./)+(vendor/[^"']+)["']""")
TEMPLATE_LINK = re.compile(r"""\{%\s*static\s+["'](vendor/[^"']+)["']\s*%\}""")
CSS_FONT = re.compile(r"""url\(["']?(fonts/[^"')]+\.woff2)["']?\)""")


def imported_vendor_files() -> set[str]:
    found = set()
    for module in (settings.FRONTEND_DIR / "js").rglob("*.js"):
        found.update(VENDOR_IMPORT.findall(module.read_text(encoding="utf-8")))
    return found


def linked_vendor_files() -> set[str]:
    found = set()
    for template in (settings.BASE_DIR / "labelhub").rglob("templates/**/*.html"):
        found.update(TEMPLATE_LINK.findall(template.read_text(encoding="utf-8")))
    return found


def fonts_of(stylesheets: set[str]) -> set[str]:
    """The woff2 fonts the linked stylesheets use (every browser that runs the pages' modules reads woff2)."""
    fonts = set()
    for name in stylesheets:
        folder = name.rsplit("/", 1)[0]
        css = open(finders.find(name), encoding="utf-8").read()
        fonts.update(f"{folder}/{font}" for font in CSS_FONT.findall(css))
    return fonts


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


def test_it_serves_exactly_the_vendor_files_the_pages_load():
    imported, linked = imported_vendor_files(), linked_vendor_files()
    assert imported == {"vendor/chart.js/chart.umd.min.js", "vendor/dompurify/purify.es.mjs",
                        "vendor/sortablejs/sortable.esm.js", "vendor/katex/katex.mjs",
                        "vendor/@highlightjs/cdn-assets/highlight.min.js"}
    assert linked == {"vendor/katex/katex.min.css", "vendor/@highlightjs/cdn-assets/github.min.css"}
    fonts = fonts_of(linked)
    assert "vendor/katex/fonts/KaTeX_Main-Regular.woff2" in fonts and len(fonts) == 20
    assert served_vendor_files() == imported | linked | fonts
    for name in imported | linked | fonts:
        assert finders.find(name).startswith(str(settings.FRONTEND_NODE_MODULES))


def test_it_names_files_below_dist_and_scoped_packages_in_full():
    assert static_name("chart.js/dist/chart.umd.min.js") == "vendor/chart.js/chart.umd.min.js"
    assert static_name("sortablejs/modular/sortable.esm.js") == "vendor/sortablejs/sortable.esm.js"
    assert static_name("katex/dist/fonts/KaTeX_Main-Regular.woff2") == "vendor/katex/fonts/KaTeX_Main-Regular.woff2"
    assert static_name("@highlightjs/cdn-assets/es/highlight.min.js") == "vendor/@highlightjs/cdn-assets/highlight.min.js"


def test_it_serves_nothing_else_from_node_modules():
    for name in ("vendor/chart.js/chart.umd.js", "vendor/chart.js/chart.js", "vendor/marked/marked.esm.js",
                 "vendor/dompurify/purify.js", "vendor/katex/katex.js", "vendor/katex/fonts/KaTeX_Main-Regular.ttf",
                 "vendor/katex/contrib/auto-render.mjs", "vendor/@highlightjs/cdn-assets/es/core.js"):
        assert not finders.find(name)


def test_it_stops_start_up_naming_the_missing_file_and_the_command(settings, tmp_path, fresh_finders):
    settings.FRONTEND_NODE_MODULES = tmp_path / "node_modules"
    with pytest.raises(SystemCheckError) as caught:
        call_command("check")
    message = str(caught.value)
    assert f"{tmp_path}/node_modules/chart.js/dist/chart.umd.min.js is missing" in message
    assert f"{tmp_path}/node_modules/sortablejs/modular/sortable.esm.js is missing" in message
    assert f"{tmp_path}/node_modules/katex/dist/fonts/*.woff2 matches no file" in message
    assert "cd frontend && npm ci" in message
    assert not finders.find("vendor/chart.js/chart.umd.min.js")


def test_it_passes_the_check_when_the_files_are_installed(fresh_finders):
    call_command("check")
