"""`import jaxdigits` stays light: TensorFlow and matplotlib load only when needed."""

import subprocess
import sys


def test_import_does_not_load_tensorflow_or_matplotlib():
    heavy = "('tensorflow', 'matplotlib', 'sklearn')"
    code = f"import sys, jaxdigits; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
