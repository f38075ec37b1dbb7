"""A label per result row: read from the JSON answer, a regex over the text, or the whole text.

Rows are never dropped. Each row gets the label (or None), whether it is valid, and when it
is not, why: the request failed or never came back, the answer is not JSON, the field is
absent, or the value is not one of the allowed labels.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from zenbatch.blobs import Blobs
from zenbatch.errors import ConfigError
from zenbatch.parts import ResultsView, frames_of, stored_view
from zenbatch.results import FAILED, MISSING, SUCCEEDED
from zenbatch.tables import require_columns

VALID_COLUMN = "label_valid"
PROBLEM_COLUMN = "label_problem"
_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n?(.*?)\n?```$", re.DOTALL)
# Plain-text answers often come quoted or with a full stop ("Positive."); neither is part of the label.
_TEXT_TRIM = " \t\r\n\"'`."


class LabelConfig(BaseModel):
    """Where a row's label comes from and which labels are allowed.

    Attributes:
        source: ``json_field`` (a field of the JSON answer), ``regex`` (a group of a regex over
            the answer text) or ``text`` (the whole answer, without quotes or a final full stop).
        field: the key in the JSON answer; a dotted path (``result.sentiment``) reaches nested keys.
        pattern: for ``regex``: a regex with one group, or a group named ``label``. It is searched
            (not matched) in the answer, ignoring case unless ``case_sensitive``.
        labels: the allowed labels; any other value is invalid. None allows any non-empty value.
        case_sensitive: when False, values are compared stripped and lower-cased and mapped back
            to the spelling in ``labels`` (or lower-cased when there are no labels).
        column: the name of the new column holding the label.
    """

    model_config = ConfigDict(extra="forbid")
    source: Literal["json_field", "regex", "text"] = "json_field"
    field: str | None = None
    pattern: str | None = None
    labels: list[str] | None = None
    case_sensitive: bool = False
    column: str = "label_predicted"

    @model_validator(mode="after")
    def _fits_source(self) -> LabelConfig:
        if self.source == "json_field" and not self.field:
            raise ConfigError("labeling: source json_field needs `field`: the key of the label in the answer, e.g. sentiment")
        if self.source == "regex":
            self.compiled()  # raises on a missing or malformed pattern
        if self.labels is not None:
            if not self.labels:
                raise ConfigError("labeling: `labels` is empty; list the allowed labels or leave the key out to allow any")
            keys = [self.normalise(label) for label in self.labels]
            if any(not key for key in keys):
                raise ConfigError("labeling: `labels` holds an empty label")
            if len(set(keys)) < len(keys):
                compared = "" if self.case_sensitive else "ignoring case, "
                raise ConfigError(f"labeling: `labels` {self.labels} repeats a label (compared {compared}stripped)")
        if self.column in (VALID_COLUMN, PROBLEM_COLUMN):
            raise ConfigError(f"labeling: `column` cannot be {self.column!r}: that column is written too")
        return self

    def compiled(self) -> re.Pattern[str]:
        """The regex of a ``regex`` source, checked to have one usable group."""
        if not self.pattern:
            raise ConfigError(r"labeling: source regex needs `pattern`, e.g. 'sentiment:\s*(\w+)'")
        try:
            compiled = re.compile(self.pattern, 0 if self.case_sensitive else re.IGNORECASE)
        except re.error as exc:
            raise ConfigError(f"labeling: `pattern` {self.pattern!r} is not a valid regex: {exc}") from None
        if "label" not in compiled.groupindex and compiled.groups != 1:
            raise ConfigError(
                f"labeling: `pattern` {self.pattern!r} has {compiled.groups} groups; use exactly one, or name the label's group (?P<label>...)"
            )
        return compiled

    def normalise(self, value: str) -> str:
        """A value as labels are compared: stripped, and lower-cased unless ``case_sensitive``."""
        value = value.strip()
        return value if self.case_sensitive else value.lower()


@dataclass
class LabeledResults:
    """The results table with labels, and counts over it.

    Attributes:
        frame: the input rows, in order, with ``config.column``, ``label_valid`` and ``label_problem``.
        distribution: label -> rows, over valid rows, most frequent first (ties by name).
        invalid: rows whose answer came back but gave no valid label.
        missing_or_failed: rows without an answer (failed or missing requests).
        rows: all rows; ``rows == sum(distribution.values()) + invalid + missing_or_failed``.
    """

    frame: pd.DataFrame
    distribution: dict[str, int]
    invalid: int
    missing_or_failed: int
    rows: int


def label_results(results: pd.DataFrame, config: LabelConfig) -> LabeledResults:
    """Add a label column, ``label_valid`` and ``label_problem`` to a results table.

    Raises:
        ConfigError: a results column is absent, or ``config.column`` would overwrite a column
            that is not an earlier label column.
    """
    require_columns(results, ["status", "content"], "labeling")
    if config.column in results.columns and VALID_COLUMN not in results.columns:
        raise ConfigError(
            f"labeling: column {config.column!r} already exists in the results (an input column?); "
            "set `column` to a new name so it is not overwritten"
        )
    extract = _extractor(config)
    allowed = {config.normalise(label): label for label in config.labels} if config.labels is not None else None
    rows = len(results)
    parsed_answers, finish, error_codes = (
        results[name].tolist() if name in results.columns else [None] * rows for name in ("parsed", "finish_reason", "error_code")
    )
    # Answers repeat a few labels over many rows: each distinct text and value is read once.
    by_text: dict[str, tuple[str | None, str | None]] = {}
    by_value: dict[str, tuple[str | None, str | None]] = {}

    def check(value: Any, problem: str | None) -> tuple[str | None, str | None]:
        if problem is not None or not isinstance(value, str):
            return _check(config, allowed, value, problem)
        if value not in by_value:
            by_value[value] = _check(config, allowed, value, None)
        return by_value[value]

    labels: list[str | None] = []
    label: str | None
    problem: str | None
    problems: list[str | None] = []
    for status, content, parsed, reason, code in zip(results["status"].tolist(), results["content"].tolist(), parsed_answers, finish, error_codes):
        if status != SUCCEEDED:
            label, problem = None, _no_answer(status, code)
        elif isinstance(parsed, dict) and config.source == "json_field":
            label, problem = check(*extract(parsed))
        elif not isinstance(content, str):
            label, problem = None, "the answer has no text"
        else:
            if content not in by_text:
                by_text[content] = check(*extract(content))
            label, problem = by_text[content]
        if problem is not None and reason == "length":
            problem += "; the answer was cut off at max_tokens: raise it"
        labels.append(label)
        problems.append(problem)
    frame = results.copy()
    frame[config.column] = pd.Series(labels, index=frame.index, dtype=object)
    frame[VALID_COLUMN] = [problem is None for problem in problems]
    frame[PROBLEM_COLUMN] = pd.Series(problems, index=frame.index, dtype=object)
    answered = (frame["status"] == SUCCEEDED).to_numpy()
    valid = frame[VALID_COLUMN].to_numpy()
    counts = pd.Series(labels, dtype=object)[valid].value_counts()
    distribution = {str(k): int(v) for k, v in sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))}
    return LabeledResults(
        frame=frame,
        distribution=distribution,
        invalid=int((answered & ~valid).sum()),
        missing_or_failed=int((~answered).sum()),
        rows=len(frame),
    )


@dataclass
class LabelCounts:
    """The counts of :class:`LabeledResults`, over all the parts of a view."""

    distribution: dict[str, int]
    invalid: int
    missing_or_failed: int
    rows: int


def label_view(results: ResultsView | pd.DataFrame, config: LabelConfig, folder: Path, blobs: Blobs | None = None) -> tuple[ResultsView, LabelCounts]:
    """:func:`label_results` a part at a time, each labeled part saved under ``folder`` (and ``blobs``)."""
    counts = LabelCounts({}, 0, 0, 0)

    def labeled_parts() -> Iterator[pd.DataFrame]:
        for frame in frames_of(results):
            labeled = label_results(frame, config)
            for label, n in labeled.distribution.items():
                counts.distribution[label] = counts.distribution.get(label, 0) + n
            counts.invalid += labeled.invalid
            counts.missing_or_failed += labeled.missing_or_failed
            counts.rows += labeled.rows
            yield labeled.frame

    view = stored_view(labeled_parts(), folder, blobs, estimate=getattr(results, "estimate", None))
    if not counts.rows:
        raise ConfigError("labeling: the results have no rows")
    counts.distribution = dict(sorted(counts.distribution.items(), key=lambda item: (-item[1], item[0])))
    return view, counts


def _no_answer(status: Any, code: Any) -> str:
    if status == MISSING:
        return "missing: the request never came back"
    if status == FAILED:
        return f"failed: {code or 'unknown error'}"
    return f"no answer (status {status!r})"


def _extractor(config: LabelConfig) -> Callable[[Any], tuple[Any, str | None]]:
    """A function from an answer (text or parsed JSON) to ``(raw value, problem)``."""
    if config.source == "regex":
        pattern = config.compiled()
        group: int | str = "label" if "label" in pattern.groupindex else 1

        def from_regex(text: str) -> tuple[Any, str | None]:
            match = pattern.search(text)
            if match is None or match.group(group) is None:
                return None, f"pattern {config.pattern!r} does not match the answer {_short(text)}"
            return match.group(group), None

        return from_regex
    if config.source == "text":
        return lambda text: (text.strip(_TEXT_TRIM), None)
    path = config.field or ""

    def from_json(answer: Any) -> tuple[Any, str | None]:
        if isinstance(answer, str):
            answer, problem = _parse_json(answer)
            if problem is not None:
                return None, problem
        return _lookup(answer, path)

    return from_json


def _parse_json(text: str) -> tuple[Any, str | None]:
    """The JSON value of an answer; a Markdown code fence around it, as plain models write, is removed."""
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1).strip()
    try:
        return orjson.loads(stripped), None
    except orjson.JSONDecodeError as exc:
        return None, f"answer is not JSON: {exc}; the answer was {_short(text)}"


def _lookup(answer: Any, path: str) -> tuple[Any, str | None]:
    if not isinstance(answer, dict):
        return None, f"answer is JSON but not an object: {_short(orjson.dumps(answer).decode())}"
    if path in answer:  # a key that itself holds a dot wins over a nested path
        return answer[path], None
    value: Any = answer
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None, f"no field {path!r} in the answer"
        value = value[key]
    return value, None


def _check(config: LabelConfig, allowed: dict[str, str] | None, value: Any, problem: str | None) -> tuple[str | None, str | None]:
    """The label a raw value stands for, or the problem with it."""
    if problem is not None:
        return None, problem
    if value is None:
        return None, "the label is null"
    if isinstance(value, bool):  # before int: bool is an int
        value = "true" if value else "false"
    elif isinstance(value, (int, float)):
        value = str(value)
    elif not isinstance(value, str):
        return None, f"the label is a {type(value).__name__}, not a text: {_short(orjson.dumps(value).decode())}"
    key = config.normalise(value)
    if not key:
        return None, "the label is empty"
    if allowed is None:
        return key, None
    if key not in allowed:
        return None, f"{value.strip()!r} is not one of {', '.join(config.labels or [])}"
    return allowed[key], None


def _short(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
