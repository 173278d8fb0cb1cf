"""``manage.py import_documents``: the same import from the command line, all files or nothing."""

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_it_imports_every_file(campaign, tmp_path, capsys):
    (tmp_path / "a.txt").write_text("One.\n\nTwo.\n")
    (tmp_path / "b.jsonl").write_text('{"text": "Three.", "title": "b"}\n')
    call_command("import_documents", "helpful", str(tmp_path / "a.txt"), str(tmp_path / "b.jsonl"))
    assert "Imported 3 passages into helpful" in capsys.readouterr().out
    assert campaign.passages.count() == 3


def test_a_bad_file_writes_nothing_and_names_its_line(campaign, tmp_path):
    (tmp_path / "a.txt").write_text("One.\n")
    (tmp_path / "b.jsonl").write_text('{"text": "ok"}\n{"text": 3}\n')
    with pytest.raises(CommandError, match=r"b.jsonl: nothing was written: line 2, text"):
        call_command("import_documents", "helpful", str(tmp_path / "a.txt"), str(tmp_path / "b.jsonl"))
    assert campaign.passages.count() == 0
    with pytest.raises(CommandError, match="no campaign"):
        call_command("import_documents", "nowhere", str(tmp_path / "a.txt"))
