"""Dataset rows -> validated request lines, one custom_id per row.

Validation runs over the whole frame first and reports every problem at once; lines are then
rendered in chunks, so a million-row dataset never has all its lines in memory. Each line is
spliced from a skeleton serialised once per template: only the custom_id and the row's payload
(the user content, prompt or embedding input) are serialised per row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from zenbatch import custom_ids, images
from zenbatch.errors import InputValidationError, Problem
from zenbatch.providers.profile import Dialect
from zenbatch.templates import RequestTemplate, template_fields
from zenbatch.tokens import TokenCounter

_CID = "\x01zenbatch:custom_id\x01"
_PAYLOAD = "\x01zenbatch:payload\x01"
_FIELD_TYPES = (str, int, float, bool)


@dataclass
class RequestChunk:
    """Rendered lines for a run of consecutive rows.

    Attributes:
        start: the position of the first row.
        custom_ids: one per row.
        lines: one JSONL line per row, ending in a newline.
        prompt_tokens: prompt tokens per row, when counted.
        output_tokens: output tokens to expect per row (for the estimate).
        positions: each line's row, when some rows of the run are not sent (see ``zenbatch.ledger``);
            else the rows are ``start``, ``start + 1``, ...
    """

    start: int
    custom_ids: list[str]
    lines: list[bytes]
    prompt_tokens: list[int] | None = None
    output_tokens: list[int] | None = None
    positions: list[int] | None = None

    def position(self, i: int) -> int:
        return self.positions[i] if self.positions is not None else self.start + i


class RequestSet:
    """A validated dataset ready to render as request lines.

    Build it with :func:`build_requests`; it holds the frame and the custom_ids, and renders
    lines on demand, chunk by chunk.
    """

    def __init__(self, frame: pd.DataFrame, template: RequestTemplate, dialect: Dialect, ids: list[str], root: Path):
        self.frame = frame
        self.template = template
        self.dialect = dialect
        self.custom_ids = ids
        self.image_root = root
        self.url = dialect.line_url(template.endpoint)
        self.model = dialect.line_model(template.model)
        self._prefix, self._middle, self._suffix = _skeleton(template, self.url, self.model)
        self._fixed_tokens: int | None = None

    def __len__(self) -> int:
        return len(self.custom_ids)

    def iter_chunks(self, chunk_rows: int = 5_000, counter: TokenCounter | None = None) -> Iterator[RequestChunk]:
        """Render lines chunk by chunk; with a counter, count prompt tokens too."""
        for start in range(0, len(self.frame), chunk_rows):
            stop = min(start + chunk_rows, len(self.frame))
            payloads = self._payloads(start, stop)
            ids = self.custom_ids[start:stop]
            dumps = orjson.dumps
            prefix, middle, suffix = self._prefix, self._middle, self._suffix
            # custom_ids are safe ASCII by construction (see custom_ids), so they need no escaping.
            lines = [b"".join((prefix, cid.encode(), middle, dumps(p), suffix)) for cid, p in zip(ids, payloads)]
            tokens = self._count(payloads, counter) if counter is not None else None
            outputs = [self.template.output_tokens_per_request()] * len(ids) if counter is not None else None
            yield RequestChunk(start, ids, lines, tokens, outputs)

    def line(self, position: int) -> bytes:
        """The request line of one row, as the batch file holds it (previews send these)."""
        payload = self._payloads(position, position + 1)[0]
        cid = self.custom_ids[position].encode()
        return b"".join((self._prefix, cid, self._middle, orjson.dumps(payload), self._suffix))

    def fixed_prompt_tokens(self, counter: TokenCounter) -> int:
        """Prompt tokens every request carries whatever its row (system prompt, few-shot, schema)."""
        if self._fixed_tokens is None:
            empty = self.template.body(self.model, _empty_payload(self.template))
            self._fixed_tokens = counter.count_body(self.template.endpoint, empty)
        return self._fixed_tokens

    def _count(self, payloads: list[Any], counter: TokenCounter) -> list[int]:
        fixed = self.fixed_prompt_tokens(counter)
        if all(type(p) is str for p in payloads):
            count = counter.count
            return [fixed + count(p) for p in payloads]
        return [fixed + counter.count_content(p if isinstance(p, list) else [p]) for p in payloads]

    def _payloads(self, start: int, stop: int) -> list[Any]:
        template = self.template
        frame = self.frame.iloc[start:stop]
        if template.text_column:
            texts: list[Any] = frame[template.text_column].tolist()
            return texts
        texts = render_texts(frame, template.user_template or "")
        if template.endpoint == "/v1/completions" and template.system_prompt:
            texts = [f"{template.system_prompt}\n\n{t}" for t in texts]
        if not template.image_columns:
            return texts
        responses = template.endpoint == "/v1/responses"
        image_values = [frame[image.column].tolist() for image in template.image_columns]
        payloads = []
        for i, text in enumerate(texts):
            parts: list[dict[str, Any]] = [{"type": "input_text" if responses else "text", "text": text}]
            for image, values in zip(template.image_columns, image_values):
                url = images.to_url(values[i], self.image_root)
                if responses:
                    parts.append({"type": "input_image", "image_url": url, "detail": image.detail})
                else:
                    parts.append({"type": "image_url", "image_url": {"url": url, "detail": image.detail}})
            payloads.append(parts)
        return payloads


def build_requests(
    frame: pd.DataFrame,
    template: RequestTemplate,
    dialect: Dialect | None = None,
    *,
    source: str | None = None,
    image_root: str | Path | None = None,
) -> RequestSet:
    """Validate a dataset against a template and return the set of requests to render.

    Raises:
        InputValidationError: with every problem found (missing columns, empty or non-string
            values, bad images, duplicate ids), before anything is written.
    """
    dialect = dialect or Dialect()
    root = Path(image_root or template.image_root or (Path(source).parent if source else "."))
    problems = validate_frame(frame, template, root)
    id_values = frame[template.id_column] if template.id_column and template.id_column in frame.columns else None
    if isinstance(id_values, pd.Series):  # not a frame: a repeated id column is one of the problems
        ids, id_problems = custom_ids.from_column(id_values, str(template.id_column))
        problems.extend(id_problems)
    elif not problems:
        ids = custom_ids.from_content(frame, template.columns())
    else:
        ids = []
    if not len(frame):
        problems.append(Problem("the dataset has no rows; add rows (a header line alone is no request)", "empty_dataset"))
    if problems:
        if template.id_column and ids:  # name each bad row by its own id too, so users can find it
            problems = [replace(p, custom_id=ids[p.row]) if p.row is not None and p.custom_id is None and ids[p.row] else p for p in problems]
        problems.sort(key=lambda p: p.row if p.row is not None else -1)
        raise InputValidationError(problems, source)
    frame = frame.reset_index(drop=True)
    return RequestSet(frame, template, dialect, ids, root)


def validate_frame(frame: pd.DataFrame, template: RequestTemplate, image_root: Path) -> list[Problem]:
    """Every problem of the frame against the template, with row numbers."""
    wanted = template.columns() + ([template.id_column] if template.id_column else [])
    missing = [c for c in dict.fromkeys(wanted) if c not in frame.columns]
    if missing:
        return [_missing_column(c, frame.columns, template) for c in missing]
    repeated = [c for c in dict.fromkeys(wanted) if frame.columns.get_indexer_for([c]).size > 1]
    if repeated:
        return [Problem("the dataset has several columns of this name; rename or drop all but one", "duplicate_column", column=c) for c in repeated]
    problems: list[Problem] = []
    text_only = {template.text_column} if template.text_column else set()
    for column in template.columns():
        if any(image.column == column for image in template.image_columns):
            continue
        problems.extend(_check_column(frame[column], column, strings_only=column in text_only))
    for image in template.image_columns:
        for row, value in enumerate(frame[image.column].tolist()):
            reason = images.check_image(value, image_root)
            if reason:
                problems.append(Problem(reason, "bad_image", row=row, column=image.column))
    return problems


def _missing_column(column: str, columns: pd.Index, template: RequestTemplate) -> Problem:
    """The dataset lacks a column the template reads: say which setting asks for it, and what is there."""
    import difflib

    names = [str(c) for c in columns]
    if column == template.id_column and column not in template.columns():
        needed_by = "id_column"
    elif column == template.text_column:
        needed_by = "text_column"
    elif any(image.column == column for image in template.image_columns):
        needed_by = "image_columns"
    else:
        needed_by = f"user_template's placeholder {{{column}}}"
    close = difflib.get_close_matches(column, names, n=1, cutoff=0.6)
    available = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
    closest = f"; closest: {close[0]!r}" if close else ""
    return Problem(
        f"the dataset has no column {column!r}, which {needed_by} names (it has: {available}{closest}); "
        "rename the dataset's column or fix the template",
        "missing_column",
        column=column,
    )


def _check_column(series: pd.Series, column: str, strings_only: bool) -> list[Problem]:
    """Missing, empty and non-string values of one column."""
    if series.dtype == "str":
        # A string column holds only strings and missing values: check both without a Python loop.
        missing = series.isna().to_numpy()
        blank = series.str.strip().eq("").fillna(False).to_numpy(dtype=bool)
        if not (missing.any() or blank.any()):
            return []
    return _check_values(series.tolist(), column, strings_only)


def _check_values(values: list[Any], column: str, strings_only: bool) -> list[Problem]:
    problems = []
    for row, value in enumerate(values):
        kind = type(value)
        if kind is str:
            if not value.strip():
                problems.append(Problem("the value is empty; fill it or drop the row", "empty_value", row=row, column=column))
            continue
        if value is None or value is pd.NA or (kind is float and value != value):
            problems.append(Problem("the value is missing (NaN/None); fill it or drop the row", "missing_value", row=row, column=column))
        elif strings_only or not isinstance(value, _FIELD_TYPES):
            problems.append(
                Problem(
                    f"the value is a {kind.__name__}, not a string; convert the column to text",
                    "not_a_string",
                    row=row,
                    column=column,
                )
            )
    return problems


def render_texts(frame: pd.DataFrame, user_template: str) -> list[str]:
    """The user template filled from each row."""
    names = template_fields(user_template)
    if user_template == "{" + (names[0] if names else "") + "}" and len(names) == 1:
        return [v if type(v) is str else str(v) for v in frame[names[0]].tolist()]
    positional = _positional(user_template, names)
    columns = [frame[name].tolist() for name in dict.fromkeys(names)]
    return [positional.format(*values) for values in zip(*columns)]


def _positional(user_template: str, names: list[str]) -> str:
    import string

    index = {name: i for i, name in enumerate(dict.fromkeys(names))}
    out = []
    for literal, field, _, _ in string.Formatter().parse(user_template):
        out.append(literal.replace("{", "{{").replace("}", "}}"))
        if field is not None:
            out.append("{" + str(index[field]) + "}")
    return "".join(out)


def _empty_payload(template: RequestTemplate) -> Any:
    return "" if not template.image_columns else []


def _skeleton(template: RequestTemplate, url: str, model: str) -> tuple[bytes, bytes, bytes]:
    line = {"custom_id": _CID, "method": "POST", "url": url, "body": template.body(model, _PAYLOAD)}
    encoded = orjson.dumps(line)
    cid, payload = orjson.dumps(_CID), orjson.dumps(_PAYLOAD)
    prefix, rest = encoded.split(cid)
    middle, suffix = rest.split(payload)
    return prefix + b'"', b'"' + middle, suffix + b"\n"
