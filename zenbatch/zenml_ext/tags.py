"""How the loader finds open jobs: by tags on ``batch_job`` versions, grouped by ``job_id`` metadata.

A version tagged ``zenbatch-open`` is the newest state of a job still running; when the
loader saves a newer state it moves the tag; a collected job's last version is tagged
``zenbatch-collected`` instead.
"""

ZENBATCH_TAG = "zenbatch"
OPEN_TAG = "zenbatch-open"
COLLECTED_TAG = "zenbatch-collected"
