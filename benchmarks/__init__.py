"""Benchmarks: jaxdigits' training epoch against NumPy, PyTorch and a jitted step (``python -m benchmarks``)."""
