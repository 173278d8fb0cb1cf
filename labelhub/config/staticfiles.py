"""The browser libraries' files, served from ``frontend/node_modules`` one by one.

npm installs whole distributions (chart.js alone is 6 MB of builds, types and maps); the pages
load three files. This finder exposes exactly the files listed in ``FRONTEND_VENDOR_FILES``
(paths under ``FRONTEND_NODE_MODULES``), each as ``static/vendor/<package>/<file name>``, so
``collectstatic`` and WhiteNoise see nothing else; its system check stops start-up (``manage.py``
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
    """``chart.js/dist/chart.umd.min.js`` → ``vendor/chart.js/chart.umd.min.js``."""
    path = PurePosixPath(source)
    return f"vendor/{path.parts[0]}/{path.name}"


class VendorFileFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        self.root = Path(settings.FRONTEND_NODE_MODULES)
        self.files = {static_name(source): self.root / source for source in settings.FRONTEND_VENDOR_FILES}
        super().__init__(*args, **kwargs)

    def check(self, **kwargs):
        return [
            Error(f"{source} is missing (served as static/{name})", hint=INSTALL_HINT, id="labelhub.E001")
            for name, source in self.files.items()
            if not source.is_file()
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
