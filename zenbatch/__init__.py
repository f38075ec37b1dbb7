"""zenbatch: LLM batch inference through provider batch APIs, without babysitting."""

__version__ = "0.1.0"
