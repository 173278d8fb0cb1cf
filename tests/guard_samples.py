"""summary.json "guards" as the trainer writes them (trainer.guards.report on hand-made answers),
for the platform tests: a policy that talks like its base, and one whose answers collapsed."""

from trainer.guards import report

PROMPTS = [f"Question {i}: how do plants drink water?" for i in range(8)]
BASE = [f"Plants drink water through their roots and the water climbs up to the leaves number {i}." for i in range(8)]
VOCABULARY = [f"The roots of plants drink water and the leaves use light {i}." for i in range(16)]


def fine_guards() -> dict:
    policy = [f"Plants drink water through roots and the leaves use it with light number {i}." for i in range(8)]
    return report(prompts=PROMPTS, policy_texts=policy, base_texts=BASE, vocabulary_texts=VOCABULARY,
                  kls=[2.5] * 8, kl_target=4.0)


def flagged_guards() -> dict:
    """Answers collapsed to one word, far from the base: the length and KL checks fail."""
    return report(prompts=PROMPTS, policy_texts=[" Please."] * 8, base_texts=BASE, vocabulary_texts=VOCABULARY,
                  kls=[14.0] * 8, kl_target=4.0)
