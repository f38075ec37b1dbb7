"""The stacks zenbatch registers: the local scheduling stack, and the rehearsal stack.

``ensure_local_stack`` registers, once, the ``zenbatch_local`` orchestrator flavor, an orchestrator
of that flavor and a stack holding it with the default artifact store, and makes that stack the
active one. ``ensure_rehearsal_stack`` does the same for the remote-shaped rehearsal: the
``zenbatch_rehearsal`` orchestrator (each step its own process) and an S3 artifact store.
Calling either again changes nothing but the artifact store's settings.
"""

from __future__ import annotations

from typing import Any

from zenbatch.zenml_ext.local_orchestrator import FLAVOR
from zenbatch.zenml_ext.rehearsal_orchestrator import FLAVOR as REHEARSAL_FLAVOR

FLAVOR_SOURCE = "zenbatch.zenml_ext.local_orchestrator.LocalSchedulingOrchestratorFlavor"
REHEARSAL_FLAVOR_SOURCE = "zenbatch.zenml_ext.rehearsal_orchestrator.RehearsalOrchestratorFlavor"
ORCHESTRATOR_NAME = "zenbatch-local"
STACK_NAME = "zenbatch-local"
REHEARSAL_NAME = "zenbatch-rehearsal"


def ensure_local_stack(activate: bool = True) -> str:
    """Registers what is missing of the local scheduling stack and activates it.

    Args:
        activate: make it the active stack (in this repository's ZenML config, else globally).

    Returns:
        The stack's name.
    """
    from zenml.client import Client
    from zenml.enums import StackComponentType

    client = Client()
    orchestrator = StackComponentType.ORCHESTRATOR
    if not client.list_flavors(name=FLAVOR, type=orchestrator).items:
        client.create_flavor(source=FLAVOR_SOURCE, component_type=orchestrator)
    if not client.list_stack_components(name=ORCHESTRATOR_NAME, type=orchestrator).items:
        client.create_stack_component(name=ORCHESTRATOR_NAME, flavor=FLAVOR, component_type=orchestrator, configuration={})
    if not client.list_stacks(name=STACK_NAME).items:
        artifact_store = client.get_stack("default").components[StackComponentType.ARTIFACT_STORE][0]
        client.create_stack(
            name=STACK_NAME,
            components={orchestrator: ORCHESTRATOR_NAME, StackComponentType.ARTIFACT_STORE: str(artifact_store.id)},
        )
    if activate and client.active_stack_model.name != STACK_NAME:
        client.activate_stack(STACK_NAME)
    return STACK_NAME


def ensure_rehearsal_stack(artifact_path: str, endpoint_url: str | None = None, activate: bool = True) -> str:
    """Registers the rehearsal stack: each step its own process, artifacts in an S3 bucket.

    Args:
        artifact_path: ``s3://bucket/prefix`` for the artifacts.
        endpoint_url: an S3-compatible endpoint (moto's server, MinIO); None for AWS itself.
            Credentials come the way boto3 finds them (``AWS_ACCESS_KEY_ID``..., a profile).
        activate: make it the active stack.

    Returns:
        The stack's name.
    """
    from zenml.client import Client
    from zenml.enums import StackComponentType

    client = Client()
    orchestrator, store = StackComponentType.ORCHESTRATOR, StackComponentType.ARTIFACT_STORE
    if not client.list_flavors(name=REHEARSAL_FLAVOR, type=orchestrator).items:
        client.create_flavor(source=REHEARSAL_FLAVOR_SOURCE, component_type=orchestrator)
    if not client.list_stack_components(name=REHEARSAL_NAME, type=orchestrator).items:
        client.create_stack_component(name=REHEARSAL_NAME, flavor=REHEARSAL_FLAVOR, component_type=orchestrator, configuration={})
    configuration: dict[str, Any] = {"path": artifact_path}
    if endpoint_url:
        configuration["client_kwargs"] = {"endpoint_url": endpoint_url}
    if client.list_stack_components(name=REHEARSAL_NAME, type=store).items:
        client.update_stack_component(REHEARSAL_NAME, component_type=store, configuration=configuration)
    else:
        client.create_stack_component(name=REHEARSAL_NAME, flavor="s3", component_type=store, configuration=configuration)
    if not client.list_stacks(name=REHEARSAL_NAME).items:
        client.create_stack(name=REHEARSAL_NAME, components={orchestrator: REHEARSAL_NAME, store: REHEARSAL_NAME})
    if activate and client.active_stack_model.name != REHEARSAL_NAME:
        client.activate_stack(REHEARSAL_NAME)
    return REHEARSAL_NAME
