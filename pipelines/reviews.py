"""Reviews: the sample job's submit pipeline with a cleaning step of this project's own in front.

zenbatch's steps compose with any step that takes and returns a DataFrame: the plan, the
batches and the ``batch_job`` artifact are the same as the shipped submit pipeline's, so
``zenbatch collect`` (or the scheduled loader) collects the job like any other.
"""

from zenml import pipeline

from steps.drop_short_reviews import drop_short_reviews
from zenbatch.config import JobConfig
from zenbatch.zenml_ext.steps import load_dataset, plan_batch, submit_batch


@pipeline
def reviews_pipeline(job: JobConfig, min_characters: int = 10, max_attempts: int = 3) -> None:
    reviews = drop_short_reviews(load_dataset(job=job), min_characters=min_characters)
    submit_batch(plan_batch(reviews, job=job, max_attempts=max_attempts))
