import pytest

pytestmark = pytest.mark.trainer

EXAMPLES = [{"prompt": "What is 2+2?", "response": "4."}, {"prompt": "Capital of Italy?", "response": "Rome."}]


@pytest.fixture(scope="module")
def tokenizer(tiny_models):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_models / "lm")


def test_it_renders_each_template_in_the_plain_layout(tokenizer):
    from trainer.templates import render_prompt

    def render(template):
        return render_prompt(tokenizer, "Why is the sky blue?", template, "plain", EXAMPLES, shots=2)

    assert render("zero-shot") == "Question: Why is the sky blue?\nAnswer:"
    assert render("one-shot") == "Question: What is 2+2?\nAnswer: 4.\n\nQuestion: Why is the sky blue?\nAnswer:"
    assert render("few-shot").count("Question:") == 3
    assert render("cot") == "Question: Why is the sky blue?\nAnswer: Let's think step by step."
    assert render("raw") == "Why is the sky blue?"


def test_it_renders_chain_of_thought_in_the_chat_layout(tokenizer):
    from trainer.templates import render_prompt

    text = render_prompt(tokenizer, "Why is the sky blue?", "cot")
    assert text == "<|user|>Why is the sky blue?\nLet's think step by step.<|endoftext|><|assistant|>"


def test_it_puts_the_separating_space_on_the_completion(tokenizer):
    from trainer.templates import completion_text, render_prompt

    prompt = render_prompt(tokenizer, "Why?", "zero-shot", "plain")
    completion = completion_text("Because.", tokenizer, "zero-shot", "plain")
    assert not prompt.endswith(" ") and completion == " Because."
    joint = tokenizer(prompt + completion)["input_ids"]
    assert joint[: len(tokenizer(prompt)["input_ids"])] == tokenizer(prompt)["input_ids"]


def test_it_refuses_few_shot_without_examples(tokenizer):
    from trainer.templates import render_prompt

    with pytest.raises(ValueError, match="needs examples"):
        render_prompt(tokenizer, "Why?", "few-shot")
