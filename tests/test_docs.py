"""The documentation: the site builds with ``mkdocs build --strict``, and its snippets run.

Python blocks of the pages below run with Sybil, one namespace per page, in order; a block
written as a ``>>>`` session is a doctest, so the output the page shows is the output checked.
The tutorial reads MNIST from ``$JAXDIGITS_MNIST_DIR`` and is skipped, with the reason,
without it; the README's example reads MNIST through TFDS.
"""

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser

import jaxdigits
from jaxdigits.data import MNIST_DIR_ENV
from jaxdigits.errors import DataUnavailableError
from tests.conftest import mnist_dir

ROOT = Path(__file__).resolve().parent.parent
SYBIL = Sybil(parsers=[PythonCodeBlockParser(doctest_optionflags=doctest.ELLIPSIS), SkipParser()])


def run_page(path):
    examples = list(SYBIL.parse(path).examples())
    assert examples, f"{path} has no Python examples"
    for example in examples:
        example.evaluate()
    return len(examples)


@pytest.mark.slow
def test_site_builds_strict(tmp_path):
    """Broken links, missing pages, unknown API names and bad docstrings fail the build."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    api = (tmp_path / "site" / "api" / "network" / "index.html").read_text()
    assert 'id="jaxdigits.network.predict"' in api and "13,002" in api  # docstrings rendered


def test_api_reference_lists_every_public_name():
    """Each name of ``jaxdigits.__all__`` links to its generated entry (the build checks the link), and
    every subpackage and top-level module has its page."""
    page = (ROOT / "docs" / "api" / "index.md").read_text()
    listed = set(re.findall(r"\[`(\w+)`\]\[jaxdigits\.\w+\.(\w+)\]", page))
    names = {n for n in jaxdigits.__all__ if not isinstance(getattr(jaxdigits, n), type(jaxdigits))}
    assert {(name, name) for name in names} <= listed
    public = {p.stem for p in (ROOT / "jaxdigits").glob("[!_]*.py")} | {
        p.name for p in (ROOT / "jaxdigits").iterdir() if (p / "__init__.py").exists()
    }
    documented = set(
        re.findall(
            r"^::: jaxdigits\.(\w+)$", "".join(p.read_text() for p in (ROOT / "docs" / "api").glob("*.md")), re.M
        )
    )
    assert public <= documented, f"missing from the API reference: {sorted(public - documented)}"


def python_blocks(path):
    return re.findall(r"^```python\n(.*?)^```", path.read_text(), re.S | re.M)


@pytest.mark.parametrize(
    "page", ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md"))]
)
def test_every_snippet_compiles_and_its_names_exist(page):
    """Snippets not run below (they need a run folder or minutes) still parse, and use real names."""
    for block in python_blocks(ROOT / page):
        if block.startswith(">>>"):  # a doctest session: keep the code, drop the outputs
            block = "\n".join(line[4:] for line in block.splitlines() if line[:4] in (">>> ", "... "))
        compile(block, page, "exec")
        missing = {name for name in re.findall(r"\bjd\.(\w+)", block) if not hasattr(jaxdigits, name)}
        assert not missing, f"{page} uses jd.{', jd.'.join(sorted(missing))}, which jaxdigits does not have"


def test_data_page_snippet():
    if mnist_dir() is None:
        pytest.skip(f"the data page reads MNIST from ${MNIST_DIR_ENV} (the folder of the four IDX .gz files)")
    run_page(ROOT / "docs" / "data.md")


@pytest.mark.slow
def test_your_model_page_snippets():
    """Every adapter of "Your own model" (Flax NNX, Flax Linen, Equinox, Haiku, plain JAX), and the rest of the page."""
    for module in ("flax", "equinox", "haiku", "h5py"):
        pytest.importorskip(module, reason="the page's adapters need jaxdigits[models]")
    assert run_page(ROOT / "docs" / "your_model.md") >= 10


@pytest.mark.slow
def test_tutorial_snippets():
    if mnist_dir() is None:
        pytest.skip(f"the tutorial reads MNIST from ${MNIST_DIR_ENV} (the folder of the four IDX .gz files)")
    assert run_page(ROOT / "docs" / "tutorial.md") > 20


@pytest.mark.slow
def test_readme_example():
    """The README's library example; skipped, with the reason, when MNIST cannot be had."""
    try:
        assert run_page(ROOT / "README.md") >= 1
    except DataUnavailableError as error:
        pytest.skip(f"the README's example loads MNIST: {error}")
