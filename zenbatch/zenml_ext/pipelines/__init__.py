"""zenbatch's pipelines: each module only wires steps; behaviour lives in ``zenbatch/configs/pipelines/``.

Run them with the ``zenbatch`` CLI, through ``zenbatch.zenml_ext.runs``, or as any ZenML
pipeline: ``submit_pipeline.with_options(config_path=...)()``.
"""

from zenbatch.zenml_ext.pipelines.evaluation import evaluation_pipeline
from zenbatch.zenml_ext.pipelines.finetune import finetune_pipeline
from zenbatch.zenml_ext.pipelines.labeling import labeling_pipeline
from zenbatch.zenml_ext.pipelines.loader import loader_pipeline
from zenbatch.zenml_ext.pipelines.submit import submit_pipeline

__all__ = ["evaluation_pipeline", "finetune_pipeline", "labeling_pipeline", "loader_pipeline", "submit_pipeline"]
