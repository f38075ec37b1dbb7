"""zenbatch inside ZenML: the local scheduling orchestrator, schedule pausers, the job registry
over artifacts, and the entry points that run the pipelines. The only part of ``zenbatch``
that imports ZenML.
"""
