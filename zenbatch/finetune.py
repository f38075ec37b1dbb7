"""Chat fine-tuning data from a batch: the request's messages plus the answer, in OpenAI's format.

Each line is ``{"messages": [{"role": ..., "content": ...}, ..., {"role": "assistant", ...}]}``:
the request's prompt, then the assistant's turn (the raw answer, the label as JSON, or the bare
label). Only succeeded rows with a valid label are used, and with ``only_correct`` only those
whose label matches the truth. The train / validation split hashes ``(seed, custom_id)``, so the
same rows give the same files whatever their order.

Decisions a caller should know:
- A prompt with an image (or any non-text part) is left out, not cut down to its text: the
  answer depended on the image, and training on the text alone would teach a guess.
  Text-only part lists become one string, parts joined by a newline.
- ``developer`` messages become ``system`` (the fine-tuning format knows no developer role).
- Assistant turns already in the prompt (few-shot examples) get ``weight: 0``: they repeat in
  every example, and only the answer to the row should be learned.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson
import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from zenbatch.errors import ConfigError, DatasetError, InputValidationError, Problem
from zenbatch.jsonl import numbered_lines
from zenbatch.labeling import VALID_COLUMN
from zenbatch.results import SUCCEEDED
from zenbatch.tables import label_texts, require_columns
from zenbatch.tokens import TokenCounter

ROLES = ("system", "user", "assistant")
LINE_KEYS = ("messages", "tools", "functions", "parallel_tool_calls")
MESSAGE_KEYS = ("role", "content", "name", "weight")
MIN_EXAMPLES = 10  # OpenAI refuses a training file with fewer
_TEXT_PARTS = ("text", "input_text")


class FinetuneConfig(BaseModel):
    """Which rows become examples and what the assistant's turn holds.

    Attributes:
        validation_fraction: the share of examples held out for validation (0 <= x < 1).
        seed: changes which examples are held out.
        only_correct: keep only rows whose predicted label equals the truth (needs ``truth_column``).
        predicted_column: the label column written by labeling.
        truth_column: the ground-truth column.
        assistant: ``content`` (the model's raw answer), ``label_json`` (``{label_field: label}``)
            or ``label`` (the bare label).
        label_field: the key of the label in ``label_json``.
        include_system: keep the system message of each request.
    """

    model_config = ConfigDict(extra="forbid")
    validation_fraction: float = 0.1
    seed: int = 0
    only_correct: bool = False
    predicted_column: str = "label_predicted"
    truth_column: str | None = None
    assistant: Literal["content", "label_json", "label"] = "content"
    label_field: str | None = None
    include_system: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> FinetuneConfig:
        if not 0 <= self.validation_fraction < 1:
            raise ConfigError(f"fine-tuning: `validation_fraction` is {self.validation_fraction}; it must be at least 0 and below 1")
        if self.only_correct and not self.truth_column:
            raise ConfigError("fine-tuning: `only_correct` needs `truth_column`: the ground-truth column to compare with")
        if self.assistant == "label_json" and not self.label_field:
            raise ConfigError("fine-tuning: assistant label_json needs `label_field`: the key of the label, e.g. sentiment")
        return self


@dataclass
class FinetuneDataset:
    """Examples ready to write, and why the other rows were left out.

    Attributes:
        train: the training examples, in row order.
        validation: the held-out examples, in row order.
        skipped: reason -> rows left out for it, most frequent first.
        rows_used: ``len(train) + len(validation)``.
    """

    train: list[dict[str, Any]]
    validation: list[dict[str, Any]]
    skipped: dict[str, int] = field(default_factory=dict)
    rows_used: int = 0


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


def build_finetune(results: pd.DataFrame, requests: Iterable[dict[str, Any]], config: FinetuneConfig) -> FinetuneDataset:
    """Pair each usable result row with its request's messages and split train / validation.

    Args:
        results: a (labeled) results table; when it has ``label_valid``, only valid rows are used.
        requests: the batch input lines as dicts, joined on ``custom_id``; only the rows used are kept.

    Raises:
        ConfigError: a column the config names is absent.
        InputValidationError: a row to use has no request, or its request is not a chat request.
    """
    needs_label = config.only_correct or config.assistant != "content"
    require_columns(results, ["custom_id", "status", "content"], "fine-tuning")
    if needs_label:
        require_columns(results, [config.predicted_column], "fine-tuning")
    if config.only_correct:
        require_columns(results, [config.truth_column or ""], "fine-tuning")
    rows = len(results)
    valid = results[VALID_COLUMN].eq(True).tolist() if VALID_COLUMN in results.columns else [True] * rows
    predicted = label_texts(results[config.predicted_column]) if needs_label else [None] * rows
    truth = label_texts(results[config.truth_column]) if config.only_correct and config.truth_column else [None] * rows

    skipped: Counter[str] = Counter()
    answers: dict[str, str] = {}
    columns = (results[name].tolist() for name in ("custom_id", "status", "content"))
    for custom_id, status, content, is_valid, label, expected in zip(*columns, valid, predicted, truth):
        reason = _reason_to_skip(config, status, is_valid, label, expected)
        answer = None if reason else _assistant_turn(config, content, label)
        if answer is None:
            skipped[reason or "empty answer"] += 1
        else:
            answers.setdefault(str(custom_id), answer)

    prompts = _prompts(requests, list(answers))
    dataset = FinetuneDataset(train=[], validation=[])
    for custom_id, answer in answers.items():
        messages, reason = _prompt_messages(prompts[custom_id], config.include_system)
        if reason is not None:
            skipped[reason] += 1
            continue
        example = {"messages": [*messages, {"role": "assistant", "content": answer}]}
        held_out = _hash_share(config.seed, custom_id) < config.validation_fraction
        (dataset.validation if held_out else dataset.train).append(example)
    dataset.skipped = dict(sorted(skipped.items(), key=lambda item: (-item[1], item[0])))
    dataset.rows_used = len(dataset.train) + len(dataset.validation)
    if not dataset.rows_used:
        reasons = ", ".join(f"{count} {reason}" for reason, count in dataset.skipped.items()) or "no rows"
        hint = " or set only_correct: false" if config.only_correct else ""
        raise InputValidationError(
            [Problem(f"no row can become an example ({reasons}): check the answers and the labeling config{hint}", "no_examples")],
            source=f"the {rows} result rows",
        )
    return dataset


def _reason_to_skip(config: FinetuneConfig, status: Any, valid: bool, label: str | None, truth: str | None) -> str | None:
    if status != SUCCEEDED:
        return f"request {status}"
    if not valid:
        return "invalid label"
    if label is None and (config.only_correct or config.assistant != "content"):
        return "no label"
    if config.only_correct:
        if truth is None:
            return "no truth value"
        if label != truth:
            return "label differs from the truth"
    return None


def _assistant_turn(config: FinetuneConfig, content: Any, label: str | None) -> str | None:
    if config.assistant == "label":
        return label
    if config.assistant == "label_json":
        return orjson.dumps({config.label_field: label}).decode()
    return content if isinstance(content, str) and content.strip() else None


def _prompts(requests: Iterable[dict[str, Any]], wanted: list[str]) -> dict[str, list[Any]]:
    """The messages of each wanted custom_id's request; every absent or non-chat request is a problem."""
    wanted_set = set(wanted)
    prompts: dict[str, list[Any]] = {}
    problems: list[Problem] = []
    for record in requests:
        custom_id = record.get("custom_id") if isinstance(record, dict) else None
        if custom_id not in wanted_set or custom_id in prompts:
            continue
        body = record.get("body")
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list):
            why = "the request is not a chat request (no body.messages); fine-tuning data needs a /v1/chat/completions job"
            problems.append(Problem(why, "not_chat_request", custom_id=custom_id))
        prompts[custom_id] = messages if isinstance(messages, list) else []
    why = "no request has this custom_id; pass the input lines of the job that produced the results"
    problems.extend(Problem(why, "missing_request", custom_id=c) for c in wanted if c not in prompts)
    if problems:
        raise InputValidationError(problems, "the batch requests")
    return prompts


def _prompt_messages(messages: list[Any], include_system: bool) -> tuple[list[dict[str, Any]], str | None]:
    """The prompt in the fine-tuning format, or the reason it cannot be used."""
    out: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role") if isinstance(message, dict) else None
        role = "system" if role == "developer" else role
        if role not in ROLES:
            return [], f"role {role!r} in the prompt"
        if role == "system" and not include_system:
            continue
        content = message.get("content")
        if isinstance(content, list):
            if any(not isinstance(part, dict) or part.get("type") not in _TEXT_PARTS for part in content):
                return [], "image or other non-text input in the prompt"
            content = "\n".join(str(part.get("text", "")) for part in content)
        if not isinstance(content, str) or not content.strip():
            return [], "empty or tool-call message in the prompt"
        turn: dict[str, Any] = {"role": role, "content": content}
        if isinstance(message.get("name"), str):
            turn["name"] = message["name"]
        if role == "assistant":
            turn["weight"] = 0
        out.append(turn)
    return out, None


def _hash_share(seed: int, custom_id: str) -> float:
    """A number in [0, 1) fixed by ``(seed, custom_id)``, the same on every machine and run."""
    digest = hashlib.sha256(f"{seed}\x00{custom_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def write_finetune(dataset: FinetuneDataset, folder: Path) -> dict[str, Path]:
    """Write ``train.jsonl`` and, when there are held-out examples, ``validation.jsonl``.

    Returns:
        ``{"train": path}`` plus ``"validation"`` when that file was written. A
        ``validation.jsonl`` left in the folder by an earlier export is removed, so the folder
        never holds files of two exports.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"train": _write_jsonl(folder / "train.jsonl", dataset.train)}
    validation = folder / "validation.jsonl"
    if dataset.validation:
        paths["validation"] = _write_jsonl(validation, dataset.validation)
    else:
        validation.unlink(missing_ok=True)
    return paths


def _write_jsonl(path: Path, examples: list[dict[str, Any]]) -> Path:
    with path.open("wb") as handle:
        for example in examples:
            handle.write(orjson.dumps(example) + b"\n")
    return path


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


def export_finetune(results: pd.DataFrame, requests: Iterable[dict[str, Any]], config: FinetuneConfig,
                    ) -> tuple[FinetuneDataset, dict[str, FinetuneFileReport]]:  # fmt: skip
    """The fine-tuning dataset of a job's results, and its files' reports: checked as OpenAI's upload check
    would check ``train.jsonl`` and ``validation.jsonl``, so a bad file fails here, not at the provider.

    Raises:
        InputValidationError: no row can become an example, or an example would be refused.
    """
    dataset = build_finetune(results, requests, config)
    reports = {"train": check_examples(dataset.train, "train.jsonl", strict=True)}
    if dataset.validation:  # written only when there are held-out examples
        reports["validation"] = check_examples(dataset.validation, "validation.jsonl", strict=True)
    return dataset, reports


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
