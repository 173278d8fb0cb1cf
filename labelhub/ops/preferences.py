"""Hidden preference functions for simulated labelers: text → score (higher is better).

They stand in for what humans want, so the loop can be checked on a CPU: a policy trained on
judgments made with one of these should win more often under that same function. Named as
``name`` or ``name:argument`` (e.g. ``length_band:8-20``).
"""

from __future__ import annotations

import re

KIND_WORDS = {"kind", "clear", "helpful", "calm", "friendly", "gentle", "honest", "careful", "patient", "warm",
              "please", "thanks", "thank", "glad", "happy", "sure"}
WORD = re.compile(r"[A-Za-z']+")


def words(text: str) -> list[str]:
    return WORD.findall(text)


def length_band(text: str, band: str = "8-20") -> float:
    """1 inside the band of word counts, falling off linearly outside it: no length shortcut."""
    lo, hi = (int(x) for x in band.split("-"))
    n = len(words(text))
    if lo <= n <= hi:
        return 1.0
    distance = lo - n if n < lo else n - hi
    return max(0.0, 1.0 - distance / max(lo, 1))


def kind_words(text: str, _: str = "") -> float:
    """The share of words from a small kind vocabulary."""
    ws = [w.lower() for w in words(text)]
    return sum(w in KIND_WORDS for w in ws) / len(ws) if ws else 0.0


def markdown_effort(text: str, _: str = "") -> float:
    """For the hand-written demo answers: structure and substance over bare one-liners."""
    n = len(words(text))
    structure = sum(marker in text for marker in ("\n- ", "\n1.", "```", "**", "\n#"))
    return min(n, 200) / 200 + 0.3 * structure


PREFERENCES = {"length_band": length_band, "kind_words": kind_words, "markdown_effort": markdown_effort}


def get(spec: str):
    """``"length_band:8-20"`` → a one-argument scoring function."""
    name, _, argument = spec.partition(":")
    if name not in PREFERENCES:
        raise ValueError(f"unknown preference {name!r}; choose from {sorted(PREFERENCES)}")
    function = PREFERENCES[name]
    return (lambda text: function(text, argument)) if argument else function
