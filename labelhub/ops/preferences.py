"""Hidden preference functions for simulated labelers: (prompt, answer) → score, higher is better.

They stand in for what humans want, so the loop can be checked on a CPU: a policy trained on
judgments made with one of these should win more often under that same function. Named as
``name`` or ``name:argument`` (e.g. ``length_band:8-20``), or given as ``package.module:function``
— any importable function of the prompt text and the answer text that returns a number — so a
preference written outside the project can be used without changing it.

Two of them leave no shortcut: neither shorter nor longer answers win on their own.

* ``length_band`` — answers of 8–20 words (or the band given) score 1, falling off outside it.
* ``addressed`` — half for the length band, half for speaking to the reader ("you", "your"):
  a feature about a fifth of the tiny base model's answers have, and longer answers have it
  more often, so "longer" is a trap as much as "shorter" is.
* ``on_topic`` — half for the length band, half for using a content word of the prompt.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable

Score = Callable[[str, str], float]

KIND_WORDS = {"kind", "clear", "helpful", "calm", "friendly", "gentle", "honest", "careful", "patient", "warm",
              "please", "thanks", "thank", "glad", "happy", "sure"}
READER_WORDS = {"you", "your", "yours", "yourself"}
STOP_WORDS = {
    "about", "after", "also", "because", "before", "could", "does", "from", "give", "have", "into", "just", "know",
    "like", "make", "many", "more", "most", "much", "should", "some", "tell", "than", "that", "their", "them",
    "then", "there", "these", "they", "this", "what", "when", "where", "which", "while", "with", "would", "your",
    "write", "explain", "describe", "good", "best", "simple", "short",
}
WORD = re.compile(r"[A-Za-z']+")
DEFAULT_BAND = "8-16"


def words(text: str) -> list[str]:
    return WORD.findall(text)


def band_score(n: int, band: str) -> float:
    """1 inside the band of word counts ``lo-hi``, falling off linearly outside it (0 at 0 words
    and at ``hi + lo`` words)."""
    try:
        lo, hi = (int(x) for x in band.split("-"))
    except ValueError:
        raise ValueError(f"a length band is two word counts like 8-16, not {band!r}") from None
    if not 0 < lo <= hi:
        raise ValueError(f"a length band needs 0 < low <= high, not {band!r}")
    if lo <= n <= hi:
        return 1.0
    distance = lo - n if n < lo else n - hi
    return max(0.0, 1.0 - distance / lo)


def length_band(prompt: str, text: str, band: str = "8-20") -> float:
    """1 inside the band of word counts, falling off linearly outside it."""
    return band_score(len(words(text)), band)


def addressed(prompt: str, text: str, band: str = DEFAULT_BAND) -> float:
    """Half for the length band, half for speaking to the reader ("you", "your")."""
    ws = [w.lower() for w in words(text)]
    return 0.5 * band_score(len(ws), band) + 0.5 * float(any(w in READER_WORDS for w in ws))


def key_words(prompt: str) -> set[str]:
    """The prompt's content words: four letters or more, not a stop word."""
    return {w for w in (w.lower() for w in words(prompt)) if len(w) >= 4 and w not in STOP_WORDS}


def on_topic(prompt: str, text: str, band: str = DEFAULT_BAND) -> float:
    """Half for the length band, half for using one of the prompt's content words."""
    ws = [w.lower() for w in words(text)]
    return 0.5 * band_score(len(ws), band) + 0.5 * float(bool(key_words(prompt) & set(ws)))


def kind_words(prompt: str, text: str, _: str = "") -> float:
    """The share of words from a small kind vocabulary (a shortcut: one kind word is enough)."""
    ws = [w.lower() for w in words(text)]
    return sum(w in KIND_WORDS for w in ws) / len(ws) if ws else 0.0


def markdown_effort(prompt: str, text: str, _: str = "") -> float:
    """For the hand-written demo answers: structure and substance over bare one-liners."""
    n = len(words(text))
    structure = sum(marker in text for marker in ("\n- ", "\n1.", "```", "**", "\n#"))
    return min(n, 200) / 200 + 0.3 * structure


PREFERENCES: dict[str, Callable[..., float]] = {
    "length_band": length_band, "addressed": addressed, "on_topic": on_topic,
    "kind_words": kind_words, "markdown_effort": markdown_effort,
}


def get(spec: str) -> Score:
    """``"addressed:8-16"`` or ``"package.module:function"`` → a function (prompt, answer) → float.

    Raises ValueError with what is wrong (unknown name, bad argument, nothing to import)."""
    name, _, argument = spec.partition(":")
    if "." in name:
        return _imported(name, argument, spec)
    if name not in PREFERENCES:
        raise ValueError(f"unknown preference {name!r}; choose from {sorted(PREFERENCES)} or give package.module:function")
    function = PREFERENCES[name]
    if argument:
        function(prompt="", text="", **_argument(function, argument))  # a bad argument fails here, not mid-run
        return lambda prompt, text: function(prompt, text, argument)
    return function


def _argument(function, argument: str) -> dict:
    import inspect

    third = list(inspect.signature(function).parameters)[2]
    return {third: argument}


def _imported(module_name: str, function_name: str, spec: str) -> Score:
    if not function_name:
        raise ValueError(f"preference {spec!r}: name the function after the module, as package.module:function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"preference {spec!r}: cannot import {module_name!r} ({exc})") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ValueError(f"preference {spec!r}: {module_name} has no function {function_name!r}")
    try:
        value = function("What is a good way to spend a rainy day?", "Read a book by the window.")
        float(value)
    except Exception as exc:  # noqa: BLE001 — a user's function: say what it did
        raise ValueError(f"preference {spec!r} must take (prompt, answer) and return a number: {exc!r}") from None
    return lambda prompt, text: float(function(prompt, text))
