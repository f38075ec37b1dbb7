"""The local stack that runs zenbatch's scheduled loader on this machine.

``ensure_local_stack`` registers, once, the ``zenbatch_local`` orchestrator flavor, an orchestrator
of that flavor and a stack holding it with the default artifact store, and makes that stack the
active one. Calling it again changes nothing.
"""

from __future__ import annotations

from zenbatch.zenml_ext.local_orchestrator import FLAVOR

FLAVOR_SOURCE = "zenbatch.zenml_ext.local_orchestrator.LocalSchedulingOrchestratorFlavor"
ORCHESTRATOR_NAME = "zenbatch-local"
STACK_NAME = "zenbatch-local"


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
