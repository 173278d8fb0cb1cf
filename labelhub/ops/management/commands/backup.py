"""``manage.py backup FOLDER``: the database and the data directory (see ``ops.backup``)."""

from django.core.management.base import BaseCommand, CommandError

from labelhub.ops import backup


class Command(BaseCommand):
    help = "Back up the database (pg_dump) and the data directory into a new folder, with a manifest of row counts."

    def add_arguments(self, parser):
        parser.add_argument("folder", help="A new (or empty) folder to write database.dump, data.tar.gz and manifest.json into.")

    def handle(self, *args, folder, **options):
        try:
            done = backup.backup(folder=folder)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Backed up {done.tables} tables ({done.rows} rows) and {done.data_files} data files into {done.folder}")
