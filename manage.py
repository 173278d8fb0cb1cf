#!/usr/bin/env python
"""Django's command-line utility. Starts the embedded PostgreSQL when DATABASE_URL is unset."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.config.settings")
    if os.environ.get("RUN_MAIN") == "true":  # runserver's reloaded child: stop when its parent does
        import signal

        from labelhub.core.processes import die_with_parent

        die_with_parent(signal.SIGTERM)
    from labelhub.config import embedded_db

    if _needs_database(sys.argv):
        embedded_db.ensure_running_unless_configured()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


def _needs_database(argv) -> bool:
    command = argv[1] if len(argv) > 1 else "help"
    return command not in {"help", "--help", "-h", "version", "--version", "check", "collectstatic", "makemigrations", "shell_plus"} or "--database" in argv


if __name__ == "__main__":
    main()
