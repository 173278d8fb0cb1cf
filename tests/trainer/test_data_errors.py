import pytest

from trainer.data import DataError, load_demonstrations, load_preferences


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"prompt": "Q", "chosen": " a"}', "missing field 'rejected'"),
        ('{"prompt": "Q", "chosen": " a", "rejected": " a"}', "the same text"),
        ('{"prompt": "Q", "chosen": 3, "rejected": " a"}', "'chosen' must be a string"),
        ('{"prompt": "Q", "chosen": " a", "rejected": " b", "margin": "big"}', "'margin' must be a number"),
        ('{"prompt": "Q", "completions": ["a", "b"], "ranks": [1]}', "'ranks' must be 2 integers"),
        ('{"prompt": "Q", "completions": ["a", "b", "c"], "order": [0, 1]}', "does not rank completions [2]"),
        ('{"chosen": "\\n\\nHuman: a", "rejected": "\\n\\nHuman: b"}', "share no"),
        ('{"prompt": "Q", "chosen": " a", "rejected": " b"', "not valid JSON"),
        ('["prompt", "chosen"]', "expected a JSON object"),
    ],
)
def test_it_names_the_line_of_a_bad_preference_row(tmp_path, bad_line, message):
    good = '{"prompt": "Q", "chosen": " a", "rejected": " b"}'
    path = tmp_path / "prefs.jsonl"
    path.write_text(f"{good}\n\n{good}\n{bad_line}\n{good}\n")
    with pytest.raises(DataError) as err:
        load_preferences(path)
    assert str(err.value).startswith(f"{path}:4: ")
    assert message in str(err.value)


def test_it_names_the_line_of_a_bad_demonstration(tmp_path):
    path = tmp_path / "demos.jsonl"
    path.write_text('{"prompt": "Q", "response": "A"}\n{"messages": [{"role": "user", "content": "Q"}]}\n')
    with pytest.raises(DataError, match=r"demos.jsonl:2: 'messages' needs at least"):
        load_demonstrations(path)


def test_it_reports_a_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_preferences(tmp_path / "nope.jsonl")
