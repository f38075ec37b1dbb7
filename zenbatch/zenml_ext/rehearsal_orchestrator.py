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
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
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
# What a pod has besides ZenML's own variables: a path, a locale, and a home of its own.
BASE_ENVIRONMENT = ("PATH", "LANG", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


class RehearsalOrchestratorConfig(LocalSchedulingOrchestratorConfig):
    """Settings of the rehearsal orchestrator.

    Attributes:
        python: the interpreter each step runs with (the "image"); default the submitting one.
        environment: extra variables every step gets (a pod's env: e.g. the object store's
            endpoint and credentials).
        step_timeout: seconds one step process may run before it is killed.
        keep_workdirs: keep each step's empty working directory and home, to look at.
    """

    python: str | None = None
    environment: dict[str, str] = Field(default_factory=dict)
    step_timeout: float = Field(default=1800, gt=0)
    keep_workdirs: bool = False

    @property
    def is_local(self) -> bool:
        return False  # it stands in for a remote orchestrator: ZenML treats it as one


class RehearsalOrchestrator(LocalSchedulingOrchestrator):
    """Runs each step as its own process; schedules in the calling process."""

    @property
    def config(self) -> RehearsalOrchestratorConfig:
        return self._config  # type: ignore[return-value]

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
        if snapshot.schedule is None:
            self._run_steps(snapshot, step_environments)
            return None
        self._run_schedule(snapshot, lambda: self._run_steps(snapshot, step_environments))
        return None

    def _run_steps(self, snapshot: PipelineSnapshotResponse, step_environments: dict[str, dict[str, str]]) -> None:
        from zenml.entrypoints.step_entrypoint_configuration import StepEntrypointConfiguration

        run_id = str(uuid4())
        self._orchestrator_run_id = run_id
        python = self.config.python or sys.executable
        command = [python, *StepEntrypointConfiguration.get_entrypoint_command()[1:]]
        failed: list[str] = []
        try:
            for name, step in snapshot.step_configurations.items():
                if upstream := [f for f in failed if f in step.spec.upstream_steps]:
                    logger.warning("Skipping step %s: upstream step(s) %s failed.", name, ", ".join(upstream))
                    failed.append(name)
                    continue
                arguments = StepEntrypointConfiguration.get_entrypoint_arguments(step_name=name, snapshot_id=snapshot.id)
                if not self._run_step_process(name, [*command, *arguments], {**step_environments[name], RUN_ID_ENV: run_id}):
                    failed.append(name)
        finally:
            self._orchestrator_run_id = None
        if failed:
            raise RuntimeError(f"Pipeline run has failed due to failure in step(s): {', '.join(failed)}")

    def _run_step_process(self, name: str, command: list[str], zenml_environment: dict[str, str]) -> bool:
        """One step in an empty folder with a home of its own; True when it succeeded."""
        folder = Path(tempfile.mkdtemp(prefix=f"zenbatch-pod-{name}-"))
        home, workdir = folder / "home", folder / "workdir"
        home.mkdir()
        workdir.mkdir()
        environment = {key: os.environ[key] for key in BASE_ENVIRONMENT if key in os.environ}
        environment.update(
            HOME=str(home), ZENML_CONFIG_PATH=str(home / ".config" / "zenml"), ZENBATCH_HOME=str(home / ".zenbatch"),
            ZENML_ANALYTICS_OPT_IN="false", **self.config.environment, **zenml_environment,
        )  # fmt: skip
        environment.pop("ZENML_REPOSITORY_PATH", None)
        logger.info("Step %s: starting its own process in %s.", name, workdir)
        try:
            done = subprocess.run(command, cwd=workdir, env=environment, timeout=self.config.step_timeout, check=False)
        except subprocess.TimeoutExpired:
            logger.error("Step %s did not finish within %.0f s and was killed.", name, self.config.step_timeout)
            return False
        finally:
            if not self.config.keep_workdirs:
                shutil.rmtree(folder, ignore_errors=True)
        if done.returncode != 0:
            logger.error("Step %s failed: its process exited with %d.", name, done.returncode)
        return done.returncode == 0


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
