"""The browser libraries' files, served from ``frontend/node_modules`` one by one.

npm installs whole distributions (chart.js alone is 6 MB of builds, types and maps); the pages
load a few files. This finder exposes exactly the files listed in ``FRONTEND_VENDOR_FILES``
(paths under ``FRONTEND_NODE_MODULES``; a ``*`` pattern names a folder's files of one kind, such
as KaTeX's fonts), each as ``static/vendor/<package>/<path below the package's dist/, or the
file name>``, so ``collectstatic`` and WhiteNoise see nothing else and a stylesheet's relative
``url(fonts/…)`` still finds its fonts. Its system check stops start-up (``manage.py``
commands: migrate, demo, the worker, check) when one is missing, naming the file and the
command that installs it.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage

INSTALL_HINT = "Install the browser libraries: `make install`, or `cd frontend && npm ci`."


def static_name(source: str) -> str:
    """``chart.js/dist/chart.umd.min.js`` → ``vendor/chart.js/chart.umd.min.js``;
    ``katex/dist/fonts/KaTeX_Main-Regular.woff2`` → ``vendor/katex/fonts/KaTeX_Main-Regular.woff2``;
    ``@highlightjs/cdn-assets/es/highlight.min.js`` → ``vendor/@highlightjs/cdn-assets/highlight.min.js``."""
    parts = PurePosixPath(source).parts
    size = 2 if parts[0].startswith("@") else 1  # a scoped package: @scope/name
    package, rest = parts[:size], parts[size:]
    below = rest[rest.index("dist") + 1:] if "dist" in rest[:-1] else rest[-1:]
    return "/".join(("vendor", *package, *below))


def vendor_sources(root: Path, entries) -> tuple[dict[str, Path], list[str]]:
    """``{static name: file}`` for the listed files, and the entries that found nothing."""
    files, missing = {}, []
    for entry in entries:
        if "*" in entry:
            found = sorted(path for path in root.glob(entry) if path.is_file())
            files.update((static_name(path.relative_to(root).as_posix()), path) for path in found)
            if not found:
                missing.append(entry)
        else:
            files[static_name(entry)] = root / entry
    return files, missing


class VendorFileFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        self.root = Path(settings.FRONTEND_NODE_MODULES)
        self.files, self.unmatched = vendor_sources(self.root, settings.FRONTEND_VENDOR_FILES)
        super().__init__(*args, **kwargs)

    def check(self, **kwargs):
        return [
            Error(f"{source} is missing (served as static/{name})", hint=INSTALL_HINT, id="labelhub.E001")
            for name, source in self.files.items()
            if not source.is_file()
        ] + [
            Error(f"{self.root / pattern} matches no file", hint=INSTALL_HINT, id="labelhub.E001")
            for pattern in self.unmatched
        ]

    def find(self, path, find_all=False, **kwargs):
        source = self.files.get(path)
        found = str(source) if source is not None and source.is_file() else None
        if find_all:
            return [found] if found else []
        return found or []

    def list(self, ignore_patterns):
        for name, source in self.files.items():
            if source.is_file():
                storage = FileSystemStorage(location=source.parent)
                storage.prefix = str(PurePosixPath(name).parent)
                yield source.name, storage
