"""This project's own pipelines, built from zenbatch's steps the way any ZenML project's would be."""

from pipelines.reviews import reviews_pipeline

__all__ = ["reviews_pipeline"]
