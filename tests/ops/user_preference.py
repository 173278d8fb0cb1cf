"""Preferences written outside labelhub, used by path (package.module:function) in the tests."""


def mentions_tea(prompt: str, answer: str) -> float:
    return float("tea" in answer.lower())


def takes_one(answer: str) -> float:
    return 1.0
