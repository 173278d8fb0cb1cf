import gzip
import json
import os
from pathlib import Path

import pytest

from labelhub.campaigns.imports import ImportRejected
from labelhub.feedback.imports import pairs_import, split_dialogue
from labelhub.labeling.models import Judgment

pytestmark = pytest.mark.django_db
HH_NAME = "hh-rlhf-harmless-base-test.jsonl.gz"
# the shared datasets sit beside the checkout (../shared/datasets); a clone elsewhere (CI)
# finds them through LABELHUB_DATASETS_DIR or at the workplace's fixed place
HH = next(
    (path for path in (
        Path(os.environ.get("LABELHUB_DATASETS_DIR", "/nonexistent")) / HH_NAME,
        Path(__file__).resolve().parents[3] / "shared" / "datasets" / HH_NAME,
        Path("/work/shared/datasets") / HH_NAME,
    ) if path.exists()),
    Path(__file__).resolve().parents[3] / "shared" / "datasets" / HH_NAME,
)


def test_it_splits_a_dialogue_into_the_shared_prompt_and_two_answers():
    chosen = "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Help?\n\nAssistant: Sure."
    rejected = "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Help?\n\nAssistant: No."
    assert split_dialogue(chosen, rejected) == ("\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Help?\n\nAssistant:", " Sure.", " No.")


def test_it_imports_hh_rlhf_pairs_as_imported_judgments(campaign):
    if not HH.exists():
        pytest.skip(f"{HH} is not on this machine (see ../shared/datasets/README.md)")
    lines = gzip.open(HH, "rt", encoding="utf-8").read().splitlines()[:40]
    result = pairs_import(campaign=campaign, data="\n".join(lines).encode())
    assert result == {"judgments_created": 40, "judgments_skipped": 0}
    judgment = Judgment.objects.first()
    assert judgment.source == Judgment.Source.IMPORTED and judgment.labeler is None
    first = json.loads(lines[0])
    assert first["chosen"].endswith(judgment.preferred.text)
    again = pairs_import(campaign=campaign, data="\n".join(lines).encode())
    assert again == {"judgments_created": 0, "judgments_skipped": 40}


def test_it_rejects_a_bad_file_and_writes_nothing(campaign):
    bad = b'{"chosen": "\\n\\nHuman: a\\n\\nAssistant: b", "rejected": "\\n\\nHuman: a\\n\\nAssistant: c"}\n{"chosen": 5}\nnot json\n'
    with pytest.raises(ImportRejected) as info:
        pairs_import(campaign=campaign, data=bad)
    assert [(e.line, e.field) for e in info.value.errors] == [(2, "chosen"), (3, "json")]
    assert Judgment.objects.count() == 0
