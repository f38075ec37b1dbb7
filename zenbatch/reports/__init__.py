"""HTML cards for the dashboard: a job, its results, an evaluation. Self-contained pages.

Each card is one HTML page with inline styles and no scripts or external resources, so it
renders the same in the ZenML dashboard, a browser opened offline, or a notebook. Every value
from the data is escaped.
"""

from zenbatch.reports.evaluation import render_evaluation_card
from zenbatch.reports.job import render_job_card
from zenbatch.reports.results import render_results_card

__all__ = ["render_evaluation_card", "render_job_card", "render_results_card"]
