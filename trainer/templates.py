"""Prompt templates: zero-shot, one-shot, few-shot and chain-of-thought.

A prompt is rendered one of two ways ("layouts"):

* chat — through the tokenizer's chat template, examples as earlier user/assistant turns,
  ending with the generation prompt (the default when the tokenizer has a template);
* plain — ``Question: …\\nAnswer:``, examples as earlier question/answer blocks.

In the plain layout the completion starts with the separating space (" Paris."), never the
prompt: with byte-level BPE a trailing space on the prompt tokenizes differently from the
same space inside prompt + completion, and DPO/SFT then warn that the prompt is not a
prefix. SFT, DPO, generation and evaluation all use these functions, so a policy is
trained on exactly the text it later sees.
"""

from __future__ import annotations

from typing import Any

TEMPLATES = ("raw", "zero-shot", "one-shot", "few-shot", "cot")
#: The templates that need no examples file (what sft and dpo offer).
PLAIN_TEMPLATES = ("zero-shot", "cot", "raw")
LAYOUTS = ("auto", "chat", "plain")
COT_CUE = "Let's think step by step."
SOURCES_HEADING = "Sources:"


def pick_layout(tokenizer: Any, layout: str) -> str:
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if layout == "auto":
        return "chat" if getattr(tokenizer, "chat_template", None) else "plain"
    if layout == "chat" and not getattr(tokenizer, "chat_template", None):
        raise ValueError("layout 'chat' needs a tokenizer with a chat template")
    return layout


def check_template(template: str, examples: list[dict] | None, shots: int) -> None:
    if template not in TEMPLATES:
        raise ValueError(f"template must be one of {TEMPLATES}, got {template!r}")
    if template in ("one-shot", "few-shot") and not examples:
        raise ValueError(f"template '{template}' needs examples (an examples file with prompt/response)")
    if template == "few-shot" and shots < 2:
        raise ValueError("few-shot needs shots >= 2")


def pick_examples(template: str, examples: list[dict] | None, shots: int) -> list[dict]:
    if template == "one-shot":
        return list(examples[:1])
    if template == "few-shot":
        return list(examples[:shots])
    return []


def render_prompt(
    tokenizer: Any,
    prompt: str | list[dict],
    template: str = "zero-shot",
    layout: str = "auto",
    examples: list[dict] | None = None,
    shots: int = 3,
    passages: list[dict] | None = None,
) -> str:
    """The text the model continues from. `prompt` may be a string or chat messages.
    ``passages`` (retrieved sources, best first) are numbered in a "Sources:" block at the start
    of the prompt's own text (chat: its last user turn; plain: ``Question: Sources: … question``),
    so examples stay as they are."""
    check_template(template, examples, shots)
    if passages:
        prompt = with_sources(prompt, passages)
    if template == "raw":
        if isinstance(prompt, list):
            return tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
        return prompt
    layout = pick_layout(tokenizer, layout)
    shots_used = pick_examples(template, examples, shots)
    if layout == "chat":
        messages: list[dict] = []
        for ex in shots_used:
            messages += [
                {"role": "user", "content": _as_text(ex["prompt"])},
                {"role": "assistant", "content": ex["response"]},
            ]
        if isinstance(prompt, list):
            messages += prompt
        else:
            messages.append({"role": "user", "content": prompt})
        if template == "cot":
            last = dict(messages[-1])
            last["content"] = f"{last['content']}\n{COT_CUE}"
            messages[-1] = last
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    blocks = [f"Question: {_as_text(ex['prompt'])}\nAnswer: {ex['response'].strip()}" for ex in shots_used]
    answer = f"Answer: {COT_CUE}" if template == "cot" else "Answer:"
    blocks.append(f"Question: {_as_text(prompt)}\n{answer}")
    return "\n\n".join(blocks)


def sources_block(passages: list[dict]) -> str:
    """``Sources:`` then ``[1] text`` per passage, best first."""
    lines = [f"[{i}] {' '.join(p['text'].split())}" for i, p in enumerate(passages, start=1)]
    return "\n".join([SOURCES_HEADING, *lines])


def with_sources(prompt: str | list[dict], passages: list[dict]) -> str | list[dict]:
    """The prompt with its sources before the question (chat: before the last user turn's text)."""
    block = sources_block(passages)
    if isinstance(prompt, str):
        return f"{block}\n\n{prompt}"
    messages = [dict(m) for m in prompt]
    for m in reversed(messages):
        if m.get("role") == "user":
            m["content"] = f"{block}\n\n{m['content']}"
            return messages
    return [{"role": "user", "content": block}, *messages]


def completion_text(response: str, tokenizer: Any, template: str = "zero-shot", layout: str = "auto") -> str:
    """How a response follows the rendered prompt: with its leading space in the plain layout."""
    if template == "raw":
        return response
    if pick_layout(tokenizer, layout) == "plain":
        return " " + response.lstrip()
    return response


def _as_text(prompt: str | list[dict]) -> str:
    if isinstance(prompt, str):
        return prompt
    return "\n".join(m["content"] for m in prompt if m["role"] != "system")
