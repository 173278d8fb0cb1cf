"""Retrieval answers questions about facts the model cannot know — measured honestly.

The document set (``fixtures/retrieval/atlas.md``) is invented: places, founders and engines
no text the tiny model was trained on mentions (names made of the syllables below). The tiny base model (1M parameters, trained
for seconds on fixture prose) does not copy from its context at all: with the right passage
in its prompt the answer is no more likely than without (we measured it). So the test first
makes it a *reader*: a few hundred steps of fine-tuning on synthetic reading-comprehension
items — random made-up names of the same syllables, the same four kinds of sentence,
rendered by the same ``render_prompt`` with a ``Sources:`` block as generation uses — none of
whose names is a name of the atlas (the reader learns to read, not the atlas's facts). Then, on the atlas's questions, with the passage retrieval picks
(``tests/campaigns/test_retrieval_search.py`` shows PostgreSQL full-text search returns it
first) as its source:

* the right answer is clearly more likely with the sources than without them, and
* picking the most likely of the atlas's eight answers finds the right one more often with
  the source than without it (without it the model can only guess).

Measured over seeds 0–3 (400 steps, one thread, ~50 s each on this 2-core machine): a mean
gain of 2.9, 4.1, 4.2 and 4.8 nats per answer, 7–8 of the 8 answers more likely with the
source, and the right answer picked 5, 4, 5 and 7 times of 8 with the source against 1, 1, 1
and 1 without (seed 2: 2 without at 300 steps). The asserted margins — a mean gain above 1.5
nats, at least 6 of 8 answers more likely, at least 2 more right picks — hold on every seed;
the test runs seed 0. Fewer steps to save suite time do not hold: at 250 steps seeds 0 and 1 gained
1.85 and 2.06 nats but picked the right answer only 2 of 8 times with the source (1 without); at
300 steps 1 of 8 on both (seed 2: 4 against 2).
"""

import json
import random

import pytest

from tests.trainer.synthetic import FIXTURES

pytestmark = pytest.mark.trainer

ATLAS = FIXTURES.parent / "retrieval"
SYLLABLES = ["ka", "lo", "mi", "ver", "tan", "bri", "sel", "dor", "gan", "fi", "zu", "rel", "pa", "tis", "ven", "lum"]
SENTENCES = [
    ("The capital of {x} is {y}.", "What is the capital of {x}?"),
    ("{x} was founded by {y}.", "Who founded {x}?"),
    ("The river {x} flows into {y}.", "Where does the river {x} flow?"),
    ("The inventor of the {x} engine is {y}.", "Who invented the {x} engine?"),
]
STEPS, BATCH = 400, 16


def atlas_items() -> list[dict]:
    """Question, answer and the passage holding it (the sentence naming the answer)."""
    sentences = [line.strip() for line in (ATLAS / "atlas.md").read_text("utf-8").splitlines()
                 if line.strip() and not line.startswith("#")]
    items = []
    for line in (ATLAS / "questions.jsonl").read_text("utf-8").splitlines():
        item = json.loads(line)
        item["passage"] = next(s for s in sentences if item["answer"] in s)
        items.append(item)
    return items


def synthetic_item(rnd: random.Random, banned: set[str]) -> tuple[str, str, list[str]]:
    def name():
        while (made := "".join(rnd.choice(SYLLABLES) for _ in range(rnd.randint(2, 3))).capitalize()) in banned:
            pass
        return made

    x, y = name(), name()
    sentence, question = rnd.choice(SENTENCES)
    passages = [rnd.choice(SENTENCES)[0].format(x=name(), y=name()) for _ in range(rnd.randint(0, 2))]
    passages.insert(rnd.randint(0, len(passages)), sentence.format(x=x, y=y))
    return question.format(x=x), y, passages


def atlas_names() -> set[str]:
    text = (ATLAS / "atlas.md").read_text("utf-8")
    return {word.strip(".") for word in text.split() if word[:1].isupper()}


@pytest.fixture(scope="module")
def reader(tiny_models):
    import torch

    from trainer.models import load_causal_lm, load_tokenizer, resolve_model

    torch.manual_seed(0)
    torch.set_num_threads(1)  # a small model on a shared machine: more threads only wait on each other
    rnd = random.Random(0)
    ref = resolve_model("tiny")
    tokenizer = load_tokenizer(ref)
    model = load_causal_lm(ref, "cpu", trainable=True)
    banned = atlas_names()
    assert {item["answer"] for item in atlas_items()} <= banned
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    model.train()
    for _ in range(STEPS):
        batch = [synthetic_item(rnd, banned) for _ in range(BATCH)]
        ids, mask, labels = _batch(tokenizer, [(_prompt(tokenizer, q, p), a) for q, a, p in batch])
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    return model, tokenizer


def _prompt(tokenizer, question: str, passages: list[str] | None) -> str:
    from trainer.templates import render_prompt

    sources = [{"id": i, "text": p} for i, p in enumerate(passages or [])]
    return render_prompt(tokenizer, question, "zero-shot", "plain", passages=sources or None)


def _batch(tokenizer, pairs):
    import torch

    from trainer.templates import completion_text

    ids, labels = [], []
    for prompt, answer in pairs:
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        a = tokenizer(completion_text(answer, tokenizer, "zero-shot", "plain"), add_special_tokens=False)["input_ids"]
        a = a + [tokenizer.eos_token_id]
        ids.append(p + a)
        labels.append([-100] * len(p) + a)
    width = max(map(len, ids))
    mask = [[1] * len(i) + [0] * (width - len(i)) for i in ids]
    ids = [i + [tokenizer.pad_token_id] * (width - len(i)) for i in ids]
    labels = [row + [-100] * (width - len(row)) for row in labels]
    return torch.tensor(ids), torch.tensor(mask), torch.tensor(labels)


def answer_logprob(model, tokenizer, prompt: str, answer: str) -> float:
    """log p(answer | prompt), summed over the answer's tokens."""
    import torch

    from trainer.templates import completion_text

    p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    a = tokenizer(completion_text(answer, tokenizer, "zero-shot", "plain"), add_special_tokens=False)["input_ids"]
    ids = torch.tensor([p + a])
    with torch.no_grad():
        logp = torch.log_softmax(model(ids).logits[0, :-1], dim=-1)
    targets = ids[0, 1:]
    return logp[torch.arange(len(targets)), targets][len(p) - 1:].sum().item()


def test_it_answers_facts_it_cannot_know_from_the_retrieved_passage(reader):
    """k = 1: the prompt holds the passage retrieval ranks first (the right one, as the
    PostgreSQL test shows). With the wrong passage beside it (k = 2) this small reader gains
    much less: it learned to copy, not yet to pick between passages."""
    model, tokenizer = reader
    items = atlas_items()
    answers = [item["answer"] for item in items]
    gains, right_with, right_without = [], 0, 0
    for item in items:
        with_source = _prompt(tokenizer, item["question"], [item["passage"]])
        without = _prompt(tokenizer, item["question"], None)
        scores_with = {a: answer_logprob(model, tokenizer, with_source, a) for a in answers}
        scores_without = {a: answer_logprob(model, tokenizer, without, a) for a in answers}
        gains.append(scores_with[item["answer"]] - scores_without[item["answer"]])
        right_with += max(scores_with, key=scores_with.get) == item["answer"]
        right_without += max(scores_without, key=scores_without.get) == item["answer"]
    mean_gain = sum(gains) / len(gains)
    print(f"log-likelihood gain per answer {[round(g, 2) for g in gains]} (mean {mean_gain:.2f} nats); "
          f"right answer picked among {len(items)}: {right_with} with the source, {right_without} without")
    assert mean_gain > 1.5
    assert sum(g > 0 for g in gains) >= 6
    assert right_with >= right_without + 2
