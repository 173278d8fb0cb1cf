"""Synthetic data for the trainer tests: a hidden, learnable preference."""

import json
import random
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tiny"

# The hidden preference: answers in a kind register beat the same answers in a rude one.
GOOD = ["kind", "clear", "helpful", "calm", "friendly", "gentle", "honest", "careful", "patient", "warm"]
BAD = ["rude", "angry", "lazy", "wrong", "cruel", "harsh", "sloppy", "nasty", "bitter", "cold"]
TAILS = ["It is a good answer.", "I hope this helps.", "That is all.", "Thanks for asking."]


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def questions() -> list[str]:
    return [json.loads(line)["prompt"] for line in (FIXTURES / "qa.jsonl").read_text().splitlines() if line]


def learnable_pairs(n: int, seed: int) -> list[dict]:
    """Platform-style export rows: TRL columns plus provenance columns the loader must ignore."""
    rng = random.Random(seed)
    qs = questions()
    rows = []
    for i in range(n):
        tail = rng.choice(TAILS)
        rows.append(
            {
                "prompt": rng.choice(qs),
                "chosen": f" The answer is {' and '.join(rng.sample(GOOD, 2))}. {tail}",
                "rejected": f" The answer is {' and '.join(rng.sample(BAD, 2))}. {tail}",
                "task_id": i,
                "labelers": ["sim-1", "sim-2"],
                "policies": ["tiny", "tiny"],
                "guideline_version": 3,
            }
        )
    return rows
