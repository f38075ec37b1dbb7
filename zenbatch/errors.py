"""The one exception tree of zenbatch.

Every error says what is wrong, where (file, line, row, custom_id) and what to do::

    ZenbatchError
    ├── ConfigError            a setting is missing or invalid (names the key and where to put it)
    ├── DatasetError           a dataset file cannot be read (names the file and the cause)
    ├── InputValidationError   rows or request lines are invalid; carries every Problem at once
    ├── LimitError             a request or a batch cannot fit the provider's limits
    ├── BudgetExceededError    the estimated cost is above the configured budget
    ├── TokenizerError         no offline tokenizer for a model
    ├── ResultsError           a provider's result file cannot be parsed or is gone (names file and line)
    ├── ProviderError          a provider call failed (status, code, what to do)
    │   └── TransientProviderError   429, 5xx or a connection error: safe to retry
    ├── JobStateError          a BatchJob is not in a state that allows the operation
    ├── SchedulePauseError     a schedule was not paused (names the orchestrator, what failed, what to do)
    ├── ScheduleRunError       a locally run schedule stopped (its runs kept failing, or it runs elsewhere)
    ├── PipelineRunError       a pipeline run failed (names the run, the step and the step's own error)
    └── LoaderError            a loader run could not advance some jobs (names each and why; the rest were saved)

Secrets never appear in any message: providers redact them before raising.
"""

from __future__ import annotations

from dataclasses import dataclass


class ZenbatchError(Exception):
    """Base class of every error zenbatch raises on purpose.

    ``exit_code`` is what the CLI exits with: 2 for bad input or settings, 1 for work that failed.
    """

    exit_code = 2


class ConfigError(ZenbatchError):
    """A configuration value is missing or invalid."""


class DatasetError(ZenbatchError):
    """A dataset file cannot be read."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, and where it is.

    Attributes:
        message: what is wrong and what to do.
        row: the 0-based row position in the dataset, when the problem is in a row.
        line: the 1-based line number in a JSONL file, when the problem is in a file.
        column: the dataset column involved, if any.
        custom_id: the request's custom_id, when known.
        code: a short machine-readable code (``missing_column``, ``duplicate_custom_id``...).
    """

    message: str
    code: str = "invalid"
    row: int | None = None
    line: int | None = None
    column: str | None = None
    custom_id: str | None = None

    def where(self) -> str:
        parts = []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.custom_id is not None:
            parts.append(f"custom_id {self.custom_id!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message


class InputValidationError(ZenbatchError):
    """The input has problems; all of them are listed, nothing was written or uploaded."""

    def __init__(self, problems: list[Problem], source: str | None = None, shown: int = 20):
        self.problems = list(problems)
        self.source = source
        head = f"{len(self.problems)} problem(s) in {source or 'the input'}; nothing was written"
        lines = [f"  - {p}" for p in self.problems[:shown]]
        if len(self.problems) > shown:
            lines.append(f"  ... and {len(self.problems) - shown} more")
        super().__init__("\n".join([head, *lines]))


class LimitError(ZenbatchError):
    """A request or a batch cannot fit the provider's limits."""


class BudgetExceededError(ZenbatchError):
    """The estimated cost is above the configured budget; nothing was submitted."""

    exit_code = 1


class TokenizerError(ZenbatchError):
    """No offline tokenizer is known for a model."""


class ResultsError(ZenbatchError):
    """A provider's output or error file cannot be parsed, or is gone: the work failed, the input was fine."""

    exit_code = 1


class ProviderError(ZenbatchError):
    """A call to a batch provider failed.

    Attributes:
        status_code: the HTTP status, when there was a response.
        code: the provider's error code (``token_limit_exceeded``...), when given.
    """

    exit_code = 1

    def __init__(self, message: str, *, status_code: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.code = code


class TransientProviderError(ProviderError):
    """A provider call failed for a reason that may pass (429, 5xx, connection)."""


class JobStateError(ZenbatchError):
    """A BatchJob is not in a state that allows the operation."""

    exit_code = 1


class SchedulePauseError(ZenbatchError):
    """A schedule could not be paused on its orchestrator, or ZenML's flag could not be turned off.

    Attributes:
        schedule_name: the ZenML schedule's name.
        orchestrator: the orchestrator flavor (``vertex``, ``sagemaker``...).
        orchestrator_paused: whether the orchestrator's schedule was paused before the failure.
    """

    exit_code = 1

    def __init__(self, message: str, *, schedule_name: str, orchestrator: str, orchestrator_paused: bool = False):
        super().__init__(message)
        self.schedule_name = schedule_name
        self.orchestrator = orchestrator
        self.orchestrator_paused = orchestrator_paused


class ScheduleRunError(ZenbatchError):
    """A schedule run by the local scheduling orchestrator stopped before it was paused."""

    exit_code = 1


class PipelineRunError(ZenbatchError):
    """A pipeline run failed; the message names the run, the step and the step's own error.

    ``exit_code`` is the step error's when it is one of zenbatch's (bad input: 2, work refused or
    failed: 1), else 1.
    """

    exit_code = 1

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


class LoaderError(ZenbatchError):
    """A loader run could not advance one or more jobs; every other job was advanced and saved."""

    exit_code = 1
