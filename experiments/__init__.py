"""The experiment scripts: thin command-line programs over the library, one claim each.

Run one as a script or as a module from the repository root (both work after
``pip install -e .``, which makes ``experiments`` importable beside ``jaxdigits``)::

    python experiments/step_size.py --fast
    python -m experiments.step_size --fast

What they share (flags, data, output folders, error handling) is ``experiments._common``.
"""
