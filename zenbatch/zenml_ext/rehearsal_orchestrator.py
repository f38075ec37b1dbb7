"""The rehearsal orchestrator: every step in its own OS process, the way a pod runs it.

A remote orchestrator (Kubernetes, Vertex AI, SageMaker) starts each step with the command of
ZenML's ``StepEntrypointConfiguration`` in a container that shares nothing with the submitting
machine but the ZenML server and the artifact store. This flavor (``zenbatch_rehearsal``) does the
same on this machine: each step is ``python -m zenml.entrypoints.entrypoint ...`` in an empty
working directory, with a fresh ``HOME``, ZenML config and ``ZENBATCH_HOME``, and only the
environment ZenML hands a pod (the server's URL and credentials, the stack and project). The
interpreter is the one that submitted the run, so the code is the installed zenbatch package,
as in an image built from the pipelines' Docker settings.

It refuses a stack a pod could not use: a local SQL store (pods talk to a server over REST) or a
local artifact store (pods share no disk). Schedules run in the calling process as on the local
scheduling orchestrator, so the loader pauses itself the same way.

Register it with ``zenbatch rehearse --stack-only`` (or the test set-up); it is never the default.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast
from uuid import uuid4

from pydantic import Field
from zenml.logger import get_logger

from zenbatch.errors import ConfigError
from zenbatch.zenml_ext.local_orchestrator import (
    LocalSchedulingOrchestrator,
    LocalSchedulingOrchestratorConfig,
    LocalSchedulingOrchestratorFlavor,
)

if TYPE_CHECKING:
    from zenml.models import PipelineRunResponse, PipelineSnapshotResponse
    from zenml.orchestrators import SubmissionResult
    from zenml.stack import Stack

logger = get_logger(__name__)
FLAVOR = "zenbatch_rehearsal"
RUN_ID_ENV = "ZENBATCH_REHEARSAL_RUN_ID"
LOG_TAIL_LINES = 40
WRAPPED_LINES = 5
ERROR_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b.*:")  # a traceback's last line
# What a pod has besides ZenML's own variables: a path, a locale, and a home of its own.
BASE_ENVIRONMENT = ("PATH", "LANG", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
# A pod's cloud identity (its service account's credentials and endpoints), taken from the
# submitting process: names, or prefixes ending in "*".
CLOUD_IDENTITY = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION",
                  "AWS_ENDPOINT_URL*", "GOOGLE_APPLICATION_CREDENTIALS", "STORAGE_EMULATOR_HOST", "AZURE_*")  # fmt: skip


class RehearsalOrchestratorConfig(LocalSchedulingOrchestratorConfig):
    """Settings of the rehearsal orchestrator.

    Attributes:
        python: the interpreter each step runs with (the "image"); default the submitting one.
        environment: extra variables every step gets (what a pod spec's ``env`` would set).
        identity: variables taken from the submitting process, as a pod gets its service
            account's credentials (names, or prefixes ending in ``*``).
        step_timeout: seconds one step process may run before it is killed.
        keep_workdirs: keep each step's empty working directory and home, to look at.
    """

    python: str | None = None
    environment: dict[str, str] = Field(default_factory=dict)
    identity: list[str] = Field(default_factory=lambda: list(CLOUD_IDENTITY))
    step_timeout: float = Field(default=1800, gt=0)
    keep_workdirs: bool = False

    @property
    def is_local(self) -> bool:
        return False  # it stands in for a remote orchestrator: ZenML treats it as one

    @property
    def handles_step_retries(self) -> bool:
        return True  # a failed step's process is started again, as a remote orchestrator starts a new pod


class RehearsalOrchestrator(LocalSchedulingOrchestrator):
    """Runs each step as its own process; schedules in the calling process."""

    @property
    def config(self) -> RehearsalOrchestratorConfig:
        return cast(RehearsalOrchestratorConfig, self._config)  # ZenML keeps the flavor's config as its base type

    @property
    def run_init_cleanup_at_step_level(self) -> bool:
        return True  # steps share no memory

    def get_orchestrator_run_id(self) -> str:
        return os.environ.get(RUN_ID_ENV) or super().get_orchestrator_run_id()

    def submit_pipeline(
        self,
        snapshot: PipelineSnapshotResponse,
        stack: Stack,
        base_environment: dict[str, str],
        step_environments: dict[str, dict[str, str]],
        placeholder_run: PipelineRunResponse | None = None,
    ) -> SubmissionResult | None:
        _check_remote_shaped(stack)
        return super().submit_pipeline(snapshot, stack, base_environment, step_environments, placeholder_run)

    def _run_once(
        self,
        snapshot: PipelineSnapshotResponse,
        stack: Stack,
        base_environment: dict[str, str],
        step_environments: dict[str, dict[str, str]],
        placeholder_run: PipelineRunResponse | None,
    ) -> None:
        """One run of the pipeline now: each step its own process, in order."""
        from zenml.entrypoints.step_entrypoint_configuration import StepEntrypointConfiguration

        run_id = str(uuid4())
        self._orchestrator_run_id = run_id
        python = self.config.python or sys.executable
        command = [python, *StepEntrypointConfiguration.get_entrypoint_command()[1:]]
        failed: list[str] = []
        skipped: list[str] = []
        errors: list[str] = []
        try:
            for name, step in snapshot.step_configurations.items():
                if upstream := [f for f in failed + skipped if f in step.spec.upstream_steps]:
                    logger.warning("Skipping step %s: upstream step(s) %s did not run to the end.", name, ", ".join(upstream))
                    skipped.append(name)
                    continue
                arguments = StepEntrypointConfiguration.get_entrypoint_arguments(step_name=name, snapshot_id=snapshot.id)
                error = self._run_with_retries(name, step.config.retry, [*command, *arguments], {**step_environments[name], RUN_ID_ENV: run_id})
                if error is not None:
                    failed.append(name)
                    errors.append(f"step {name}: {error}")
        finally:
            self._orchestrator_run_id = None
        if failed:
            _publish_failure(run_id, failed)
            raise RuntimeError(
                f"Pipeline run has failed due to failure in step(s): {', '.join(failed)}"
                + (f" (skipped: {', '.join(skipped)})" if skipped else "")
                + f"; {'; '.join(errors)}"
            )

    def _run_with_retries(self, name: str, retry: Any, command: list[str], environment: dict[str, str]) -> str | None:
        """Runs a step's process again after a failure, as a remote orchestrator starts a new pod.

        Returns:
            None when it succeeded, else what the last attempt died of.
        """
        attempts = 1 + (retry.max_retries if retry else 0)
        delay, backoff = (retry.delay, retry.backoff) if retry else (0, 1)
        for attempt in range(1, attempts + 1):
            error = self._run_step_process(name, command, environment)
            if error is None:
                return None
            if attempt < attempts:
                logger.warning("Step %s failed (attempt %d of %d); it runs again in a new process in %s s.", name, attempt, attempts, delay)
                time.sleep(delay)
                delay *= backoff
        return error

    def _run_step_process(self, name: str, command: list[str], zenml_environment: dict[str, str]) -> str | None:
        """One step in an empty folder with a home of its own; None when it succeeded, else why it did not."""
        folder = Path(tempfile.mkdtemp(prefix=f"zenbatch-pod-{name}-"))
        home, workdir = folder / "home", folder / "workdir"
        home.mkdir()
        workdir.mkdir()
        environment = {key: value for key, value in os.environ.items() if key in BASE_ENVIRONMENT or _matches(key, self.config.identity)}
        environment.update(self.config.environment)
        environment.update(zenml_environment)
        # Last, so nothing of the submitting machine's config or work folders reaches the step.
        environment.update({"HOME": str(home), "ZENML_CONFIG_PATH": str(home / ".config" / "zenml"),
                            "ZENBATCH_HOME": str(home / ".zenbatch")})  # fmt: skip
        environment.pop("ZENML_REPOSITORY_PATH", None)
        logger.info("Step %s: starting its own process in %s.", name, workdir)
        try:  # the step's output is its pod's log: kept apart from the caller's, shown when it fails
            done = subprocess.run(command, cwd=workdir, env=environment, timeout=self.config.step_timeout, check=False,
                                  capture_output=True, text=True, errors="replace")  # fmt: skip
        except subprocess.TimeoutExpired:
            logger.error("Step %s did not finish within %.0f s and was killed.", name, self.config.step_timeout)
            return f"did not finish within {self.config.step_timeout:.0f} s"
        finally:
            if not self.config.keep_workdirs:
                shutil.rmtree(folder, ignore_errors=True)
        if done.returncode == 0:
            return None
        log = (done.stdout + done.stderr).splitlines()
        logger.error("Step %s failed: its process exited with %d. The end of its log:\n%s", name, done.returncode,
                     "\n".join(log[-LOG_TAIL_LINES:]))  # fmt: skip
        if done.returncode < 0:
            return f"its process was killed by signal {-done.returncode}"
        return _last_error(log) or f"its process exited with {done.returncode}"


def _last_error(log: list[str]) -> str | None:
    """The last ``SomeError: message`` of a step's log, with the lines a narrow console wrapped it onto."""
    starts = [i for i, line in enumerate(log) if ERROR_LINE.match(line.strip())]
    if not starts:
        return None
    parts = [log[starts[-1]].strip()]
    for line in log[starts[-1] + 1 : starts[-1] + 1 + WRAPPED_LINES]:
        if not line.strip() or ERROR_LINE.match(line.strip()) or line.lstrip().startswith(("Traceback", "│", "╭", "╰")):
            break
        parts.append(line.strip())
    return " ".join(parts)


def _publish_failure(run_id: str, failed: list[str]) -> None:
    """Marks the run and its unfinished failed steps failed, as a remote orchestrator does for a pod that died.

    A step process killed outright (out of memory, evicted, SIGKILL) cannot report its own end.
    """
    from zenml.client import Client
    from zenml.enums import ExecutionStatus
    from zenml.orchestrators import publish_utils

    transient = {ExecutionStatus.INITIALIZING, ExecutionStatus.PROVISIONING, ExecutionStatus.RUNNING}
    for run in Client().list_pipeline_runs(orchestrator_run_id=run_id).items:
        for name, step_run in run.steps.items():
            if name in failed and step_run.status in transient:
                publish_utils.publish_failed_step_run(step_run.id)
        if Client().get_pipeline_run(run.id).status in transient:
            publish_utils.publish_failed_pipeline_run(run.id)


def _matches(name: str, patterns: list[str]) -> bool:
    return any(name.startswith(p[:-1]) if p.endswith("*") else name == p for p in patterns)


def _check_remote_shaped(stack: Any) -> None:
    from zenml.config.global_config import GlobalConfiguration
    from zenml.enums import StoreType

    if GlobalConfiguration().store_configuration.type != StoreType.REST:
        raise ConfigError(
            "the rehearsal orchestrator runs steps as remote pods do, and pods reach ZenML through a server: "
            "connect to one first (`zenbatch rehearse` starts a local one, or `zenml login --local`)"
        )
    if stack.artifact_store.config.is_local:
        raise ConfigError(
            f"the rehearsal stack's artifact store {stack.artifact_store.name!r} is on the local disk, which "
            "pods do not share: use an object store (an s3 artifact store, e.g. moto's server on 127.0.0.1)"
        )


class RehearsalOrchestratorFlavor(LocalSchedulingOrchestratorFlavor):
    """The ``zenbatch_rehearsal`` flavor: each step its own process, like a remote orchestrator's pods."""

    FLAVOR_NAME: ClassVar[str] = FLAVOR
    CONFIG: ClassVar[type[LocalSchedulingOrchestratorConfig]] = RehearsalOrchestratorConfig
    IMPLEMENTATION: ClassVar[type[LocalSchedulingOrchestrator]] = RehearsalOrchestrator
