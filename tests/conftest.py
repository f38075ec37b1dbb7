"""Shared test set-up: no analytics, no network, no stray ZenML state."""

import os

os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")
os.environ.setdefault("ZENML_ENABLE_RICH_TRACEBACK", "false")
os.environ.setdefault("AUTO_OPEN_DASHBOARD", "false")
