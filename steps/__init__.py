"""This project's own steps. zenbatch's reusable steps live in ``zenbatch.zenml_ext.steps``."""

from steps.drop_short_reviews import drop_short_reviews

__all__ = ["drop_short_reviews"]
