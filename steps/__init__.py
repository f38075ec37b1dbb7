"""zenbatch's steps: one per module, each a thin call into the ``zenbatch`` library.

Import a step from its module (``from steps.plan_batch import plan_batch``): a pipeline then
loads only the steps it uses.
"""
