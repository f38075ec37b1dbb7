"""Materializers of zenbatch's artifacts, with their dashboard visualizations.

One module per artifact type; import from the module, so a step loads only what it uses.
"""
