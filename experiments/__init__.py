"""The experiment scripts: thin command-line programs over the library, one claim each.

Run one from a clone with jaxdigits installed (nothing else needs to be on the path)::

    python experiments/step_size.py --fast
    python -m experiments.step_size --fast     # also works, from the repository root

What they share (flags, data, output folders, error handling) is ``jaxdigits.cli``.
"""
