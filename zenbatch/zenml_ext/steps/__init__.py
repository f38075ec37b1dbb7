"""zenbatch's steps, one per module, each a thin call into the library.

Compose them into a pipeline of your own::

    from zenbatch.zenml_ext.steps import load_dataset, plan_batch, submit_batch
"""

from zenbatch.zenml_ext.steps.advance_jobs import advance_jobs
from zenbatch.zenml_ext.steps.evaluate_labels import evaluate_labels
from zenbatch.zenml_ext.steps.export_finetune import export_finetune
from zenbatch.zenml_ext.steps.find_open_jobs import find_open_jobs
from zenbatch.zenml_ext.steps.label_results import label_results
from zenbatch.zenml_ext.steps.load_dataset import load_dataset
from zenbatch.zenml_ext.steps.pause_when_done import pause_when_done
from zenbatch.zenml_ext.steps.plan_batch import plan_batch
from zenbatch.zenml_ext.steps.submit_batch import submit_batch

__all__ = [
    "advance_jobs", "evaluate_labels", "export_finetune", "find_open_jobs", "label_results", "load_dataset",
    "pause_when_done", "plan_batch", "submit_batch",
]  # fmt: skip
