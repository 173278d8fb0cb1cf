"""``manage.py restore FOLDER``: a backup made by ``manage.py backup`` (see ``ops.backup``)."""

from django.core.management.base import BaseCommand, CommandError

from labelhub.ops import backup


class Command(BaseCommand):
    help = "Restore a backup into an empty database and data directory, then check every table's row count."

    def add_arguments(self, parser):
        parser.add_argument("folder", help="A folder written by `manage.py backup`.")
        parser.add_argument("--force", action="store_true",
                            help="Restore over a database or data directory that is not empty (its tables are replaced).")

    def handle(self, *args, folder, force=False, **options):
        try:
            done = backup.restore(folder=folder, force=force)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Restored {done.tables} tables ({done.rows} rows, counts as in the backup) "
                          f"and {done.data_files} data files from {done.folder}")
