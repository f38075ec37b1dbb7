"""Chat fine-tuning files checked the way OpenAI's upload check does, before anything is uploaded.

Each line holds one example, ``{"messages": [...]}`` (optionally tools, functions,
parallel_tool_calls); each message a role (system, user or assistant), a non-empty string
content, optionally a name, and on assistant messages a weight of 0 or 1. The last message is
the assistant's, and at least one assistant message is trained. A training file needs at least
ten examples. Every problem is named with its line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from zenbatch.errors import DatasetError, InputValidationError, Problem
from zenbatch.jsonl import numbered_lines
from zenbatch.tokens import TokenCounter

ROLES = ("system", "user", "assistant")
LINE_KEYS = ("messages", "tools", "functions", "parallel_tool_calls")
MESSAGE_KEYS = ("role", "content", "name", "weight")
MIN_EXAMPLES = 10  # OpenAI refuses a training file with fewer


@dataclass
class FinetuneFileReport:
    """What checking a fine-tuning file found.

    Attributes:
        path: the file checked.
        examples: lines that are valid examples.
        tokens: tokens of the valid examples, counted as OpenAI counts chat prompts for ``model``
            (per epoch; the bill multiplies by the epochs).
        problems: every problem, each with its line number.
        warnings: things OpenAI accepts in some files but not others (fewer than 10 examples is
            refused in a training file, fine in a validation file).
    """

    path: Path
    examples: int
    tokens: int
    problems: list[Problem]
    warnings: list[str]


def validate_finetune_file(path: str | Path, *, strict: bool = False, model: str = "gpt-4o-mini") -> FinetuneFileReport:
    """Check a chat fine-tuning file the way OpenAI's upload check does.

    Args:
        strict: raise instead of returning a report with problems.
        model: whose tokenizer counts the tokens.

    Raises:
        DatasetError: the file does not exist.
        InputValidationError: with ``strict``, every problem at once.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    with path.open("rb") as handle:
        return _check_lines(numbered_lines(handle, blank=True), path, strict=strict, model=model)  # a blank line is a problem here


def check_examples(examples: list[dict[str, Any]], name: str, *, strict: bool = False, model: str = "gpt-4o-mini") -> FinetuneFileReport:
    """Check examples exactly as their file would be checked (``validate_finetune_file``), without writing it."""
    lines = ((number, orjson.dumps(example)) for number, example in enumerate(examples, start=1))
    return _check_lines(lines, Path(name), strict=strict, model=model)


def _check_lines(lines: Iterable[tuple[int, bytes]], path: Path, *, strict: bool, model: str) -> FinetuneFileReport:
    counter = TokenCounter(model)
    problems: list[Problem] = []
    examples = tokens = 0
    for number, raw in lines:
        found = len(problems)
        messages = _check_line(raw, number, problems)
        if messages is not None and len(problems) == found:
            examples += 1
            tokens += counter.count_messages(messages)
    if examples == 0 and not problems:
        problems.append(Problem("the file holds no examples", "empty_file"))
    warnings = [f"only {examples} examples; OpenAI needs at least {MIN_EXAMPLES} in a training file"] if examples < MIN_EXAMPLES else []
    if strict and problems:
        raise InputValidationError(problems, str(path))
    return FinetuneFileReport(path=path, examples=examples, tokens=tokens, problems=problems, warnings=warnings)


def _check_line(raw: bytes, number: int, problems: list[Problem]) -> list[dict[str, Any]] | None:
    """The messages of one line, adding a Problem for everything wrong with it."""

    def problem(message: str, code: str) -> None:
        problems.append(Problem(message, code, line=number))

    if not raw.strip():
        problem("blank line; every line must hold one example", "blank_line")
        return None
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        problem(f"not valid JSON ({exc})", "invalid_json_line")
        return None
    if not isinstance(record, dict):
        problem("a line must be a JSON object", "invalid_example")
        return None
    unknown = sorted(set(record) - set(LINE_KEYS))
    if unknown:
        problem(f"unknown key(s) {', '.join(unknown)}; a line holds messages (and optionally {', '.join(LINE_KEYS[1:])})", "unknown_key")
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        problem("messages is missing or not a non-empty list", "missing_messages")
        return None
    for position, message in enumerate(messages):
        _check_message(message, f"messages[{position}]", problem)
    turns = [m for m in messages if isinstance(m, dict)]
    assistant = [m for m in turns if m.get("role") == "assistant"]
    if not assistant:
        problem("no assistant message: the example has nothing to learn", "no_assistant_message")
    elif messages[-1] is not assistant[-1]:
        problem("the last message must be the assistant's", "last_not_assistant")
    elif all(m.get("weight", 1) == 0 for m in assistant):
        problem("every assistant message has weight 0: the example has nothing to learn", "no_trained_message")
    return turns


def _check_message(message: Any, where: str, problem: Any) -> None:
    if not isinstance(message, dict):
        problem(f"{where} is not an object", "invalid_message")
        return
    role = message.get("role")
    if role not in ROLES:
        problem(f"{where}: role {role!r} is not one of {', '.join(ROLES)}", "unknown_role")
    unknown = sorted(set(message) - set(MESSAGE_KEYS))
    if unknown:
        problem(f"{where}: unknown key(s) {', '.join(unknown)}; a message holds {', '.join(MESSAGE_KEYS)}", "unknown_key")
    content = message.get("content")
    if not isinstance(content, str):
        problem(f"{where}: content must be a string, not {type(content).__name__}", "invalid_content")
    elif not content.strip():
        problem(f"{where}: content is empty", "empty_content")
    if "name" in message and not isinstance(message["name"], str):
        problem(f"{where}: name must be a string", "invalid_message")
    if "weight" in message:
        weight = message["weight"]
        if role != "assistant":
            problem(f"{where}: weight is only allowed on assistant messages", "invalid_weight")
        elif type(weight) is not int or weight not in (0, 1):
            problem(f"{where}: weight must be 0 or 1, not {weight!r}", "invalid_weight")
