"""The hidden preferences: what each rewards, the no-shortcut ones, and user functions by import path."""

import pytest

from labelhub.ops import preferences

RAINY = "What is a good way to spend a rainy afternoon?"


def words(n: int, word: str = "tea") -> str:
    return " ".join([word] * n)


def test_it_scores_the_length_band_with_a_fall_off_on_both_sides():
    band = preferences.get("length_band:8-16")
    assert band(RAINY, words(8)) == band(RAINY, words(16)) == 1.0
    assert band(RAINY, words(4)) == 0.5 and band(RAINY, words(20)) == 0.5
    assert band(RAINY, "") == 0.0 and band(RAINY, words(24)) == 0.0


def test_it_leaves_no_length_shortcut_in_addressed():
    addressed = preferences.get("addressed")  # band 8-16 by default
    in_band_to_you = "You could read a book by the window with tea."
    assert addressed(RAINY, in_band_to_you) == 1.0
    assert addressed(RAINY, "Read a book by the window with hot tea now.") == 0.5  # in band, not to the reader
    shorter, longer = "You read.", "You could read a book by the window, then bake bread, then call a friend and talk for hours."
    assert addressed(RAINY, shorter) < addressed(RAINY, in_band_to_you)
    assert addressed(RAINY, longer) < addressed(RAINY, in_band_to_you)


def test_it_rewards_a_content_word_of_the_prompt_in_on_topic():
    on_topic = preferences.get("on_topic:4-12")
    assert preferences.key_words(RAINY) == {"spend", "rainy", "afternoon"}
    assert on_topic(RAINY, "A rainy day is good for reading.") == 1.0
    assert on_topic(RAINY, "A cold day is good for reading.") == 0.5


def test_it_imports_a_users_function_by_path():
    score = preferences.get("tests.ops.user_preference:mentions_tea")
    assert score(RAINY, "Make tea.") == 1.0 and score(RAINY, "Read.") == 0.0


@pytest.mark.parametrize(("spec", "message"), [
    ("vibes", "unknown preference 'vibes'"),
    ("length_band:8", "two word counts"),
    ("length_band:9-3", "0 < low <= high"),
    ("tests.ops.nowhere:f", "cannot import 'tests.ops.nowhere'"),
    ("tests.ops.user_preference:absent", "has no function 'absent'"),
    ("tests.ops.user_preference", "name the function"),
    ("tests.ops.user_preference:takes_one", "must take (prompt, answer)"),
])
def test_it_refuses_a_bad_spec_with_what_is_wrong(spec, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        preferences.get(spec)
