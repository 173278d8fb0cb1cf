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
* ranking the atlas's eight answers by likelihood puts the right one near the top with the
  source, and at chance (mean rank 4.5) without it; the most likely answer is the right one
  more often with the source than without.

Measured over seeds 0–5, 400 steps, one thread (`answer_loss`: ~32 s of training on this
2-core machine, ~51 s when the output layer ran over every position):

| seed | mean gain (nats) | more likely with the source | mean rank of the right answer, with / without | right picks, with / without |
|---|---|---|---|---|
| 0 | 2.49 | 8 of 8 | 1.75 / 4.50 | 4 / 1 |
| 1 | 2.84 | 8 of 8 | 1.62 / 4.50 | 6 / 1 |
| 2 | 5.59 | 8 of 8 | 1.12 / 4.50 | 7 / 1 |
| 3 | 4.12 | 8 of 8 | 1.38 / 4.62 | 5 / 1 |
| 4 | 3.80 | 8 of 8 | 2.12 / 4.75 | 4 / 1 |
| 5 | 3.18 | 8 of 8 | 1.88 / 4.62 | 2 / 1 |

The asserted margins — a mean gain above 1.5 nats, at least 6 of 8 answers more likely, a mean
rank of 2.5 or better with the source and at least 2 places better than without, more right
picks with the source — hold on every seed; the test runs seed 0. An earlier form asserted at
least 2 more right picks: with 8 questions that count moves by a pick or two between seeds and
between arithmetics (the same seed 5 picked 3 against 1 when the output layer ran over every
position, 2 against 1 here; seed 4 at 500 steps 3 against 2), so it now asserts the rank, which
uses every answer's place. Fewer steps to save suite time do not hold: at 250 steps seeds 0 and
1 gained 1.85 and 2.06 nats but picked the right answer only 2 of 8 times with the source (1
without); at 300 steps 1 of 8 on both (seed 2: 4 against 2).
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
        loss = answer_loss(model, ids, mask, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    return model, tokenizer


def answer_loss(model, ids, mask, labels):
    """The causal-LM loss on the answer tokens, as ``model(..., labels=labels).loss`` gives it,
    with the output layer applied to those positions only: the answers are ~5 of ~100 tokens a
    row, and the 2048-word output layer over every position was ~40% of each step (0.13 s ->
    0.08 s a step, the same loss to six digits after 30 steps)."""
    import torch.nn.functional as F

    hidden = model.model(input_ids=ids, attention_mask=mask).last_hidden_state[:, :-1]
    targets = labels[:, 1:]
    kept = targets != -100
    return F.cross_entropy(model.lm_head(hidden[kept]).float(), targets[kept])


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
    gains, ranks_with, ranks_without = [], [], []
    for item in items:
        with_source = _prompt(tokenizer, item["question"], [item["passage"]])
        without = _prompt(tokenizer, item["question"], None)
        scores_with = {a: answer_logprob(model, tokenizer, with_source, a) for a in answers}
        scores_without = {a: answer_logprob(model, tokenizer, without, a) for a in answers}
        gains.append(scores_with[item["answer"]] - scores_without[item["answer"]])
        ranks_with.append(sorted(answers, key=scores_with.get, reverse=True).index(item["answer"]) + 1)
        ranks_without.append(sorted(answers, key=scores_without.get, reverse=True).index(item["answer"]) + 1)
    mean_gain = sum(gains) / len(gains)
    rank_with, rank_without = sum(ranks_with) / len(items), sum(ranks_without) / len(items)
    right_with, right_without = ranks_with.count(1), ranks_without.count(1)
    print(f"log-likelihood gain per answer {[round(g, 2) for g in gains]} (mean {mean_gain:.2f} nats); "
          f"the right answer's rank among {len(items)}: {ranks_with} with the source (mean {rank_with:.2f}), "
          f"{ranks_without} without (mean {rank_without:.2f})")
    # seeds 0-5: gains 2.49-5.59, 8 of 8 positive, mean ranks 1.12-2.12 with, 4.50-4.75 without
    assert mean_gain > 1.5
    assert sum(g > 0 for g in gains) >= 6
    assert rank_with <= 2.5 and rank_with <= rank_without - 2
    assert right_with > right_without
