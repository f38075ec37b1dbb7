"""The tags zenbatch finds its artifacts by.

- ``zenbatch``: every artifact zenbatch saves.
- ``zenbatch-job-<job id>`` (``registry.job_tag``): a job's states, results and labels.
- ``zenbatch-open``: the newest state of a job still running; the loader moves it to each newer
  state it saves (``registry.mark_newest``). A collected job's last state is ``zenbatch-collected``.
- ``zenbatch-scope-<hash>`` (``zenml_ext.ledger``): the request ledger's segments of one provider.
"""

ZENBATCH_TAG = "zenbatch"
OPEN_TAG = "zenbatch-open"
COLLECTED_TAG = "zenbatch-collected"
