"""Run this project's reviews pipeline: ``python run.py [JOB] [PROVIDER]``.

JOB is a job config file or a shipped job's name (default: the sample, ``reviews``); PROVIDER
is openai, azure, local or a provider file (default: the job's own). Then ``zenbatch collect``
or ``zenbatch collect --schedule`` collects the job.
"""

import sys
from pathlib import Path

from pipelines.reviews import reviews_pipeline
from zenbatch.zenml_ext.run_configs import submit_job

if __name__ == "__main__":
    job = submit_job(*[*sys.argv[1:3], None, None][:2])
    config = Path(__file__).parent / "configs" / "reviews.yaml"
    reviews_pipeline.with_options(config_path=str(config))(job=job)
