"""Text metrics without extra dependencies: ROUGE-1/2/L (F1) and distinct n-grams.

ROUGE here lower-cases and splits on non-alphanumerics (no stemming), so figures are close
to, not identical with, the `rouge-score` package's.
"""

from __future__ import annotations

import re
from collections import Counter

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _f1(overlap: int, n_pred: int, n_ref: int) -> float:
    if overlap == 0 or n_pred == 0 or n_ref == 0:
        return 0.0
    precision, recall = overlap / n_pred, overlap / n_ref
    return 2 * precision * recall / (precision + recall)


def rouge_n(prediction: str, reference: str, n: int) -> float:
    pred, ref = words(prediction), words(reference)
    pred_grams = Counter(tuple(pred[i : i + n]) for i in range(len(pred) - n + 1))
    ref_grams = Counter(tuple(ref[i : i + n]) for i in range(len(ref) - n + 1))
    overlap = sum((pred_grams & ref_grams).values())
    return _f1(overlap, sum(pred_grams.values()), sum(ref_grams.values()))


def rouge_l(prediction: str, reference: str) -> float:
    pred, ref = words(prediction), words(reference)
    if not pred or not ref:
        return 0.0
    prev = [0] * (len(ref) + 1)
    for p in pred:  # longest common subsequence, one row at a time
        cur = [0]
        for j, r in enumerate(ref, start=1):
            cur.append(prev[j - 1] + 1 if p == r else max(prev[j], cur[j - 1]))
        prev = cur
    return _f1(prev[-1], len(pred), len(ref))


def rouge(predictions: list[str], references: list[str]) -> dict[str, float]:
    n = len(predictions)
    pairs = list(zip(predictions, references, strict=True))
    return {
        "rouge1": sum(rouge_n(p, r, 1) for p, r in pairs) / n,
        "rouge2": sum(rouge_n(p, r, 2) for p, r in pairs) / n,
        "rougeL": sum(rouge_l(p, r) for p, r in pairs) / n,
    }


def distinct_n(texts: list[str], n: int) -> float:
    """Share of distinct n-grams among all n-grams of the texts (a diversity guard)."""
    grams = [tuple(w[i : i + n]) for w in map(words, texts) for i in range(len(w) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0
