"""Tests of zenbatch's ZenML parts use the session's isolated store (``zenml_store``, tests/conftest.py)."""
