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

from zenbatch.errors import ConfigError, InputValidationError, Problem
from zenbatch.finetune_files import ROLES, FinetuneFileReport, check_examples
from zenbatch.labeling import VALID_COLUMN
from zenbatch.results import SUCCEEDED
from zenbatch.tables import label_texts, require_columns

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
