"""``manage.py import_documents CAMPAIGN FILE…``: add documents to a campaign's collection."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from labelhub.campaigns import import_jobs, services
from labelhub.campaigns.imports import ImportRejected
from labelhub.campaigns.models import Campaign


class Command(BaseCommand):
    help = ("Import .txt, .md or .jsonl documents into a campaign's document collection (the passages "
            "retrieval-augmented policies search and pretrain runs train on). All files or nothing.")

    def add_arguments(self, parser):
        parser.add_argument("campaign", help="The campaign's slug.")
        parser.add_argument("files", nargs="+", help=".txt (passages at blank lines), .md (at headings) or .jsonl ({\"text\", \"title\"} a line).")

    def handle(self, *args, campaign, files, **options):
        target = Campaign.objects.filter(slug=campaign).first()
        if target is None:
            raise CommandError(f"no campaign with the slug {campaign!r}")
        created = skipped = 0
        try:
            with transaction.atomic():
                for name in files:
                    path = Path(name)
                    if not path.is_file():
                        raise CommandError(f"{name}: no such file")
                    import_jobs.size_check(path.stat().st_size)
                    result = services.passages_import(campaign=target, filename=path.name, data=path.read_bytes())
                    created, skipped = created + result.created, skipped + result.skipped
        except ImportRejected as rejected:
            raise CommandError(f"{name}: nothing was written: " + "; ".join(str(e) for e in rejected.errors[:20])) from None
        self.stdout.write(f"Imported {created} passages into {target.slug} ({skipped} already there or repeated, skipped).")
