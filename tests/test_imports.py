"""The package's shape: light imports, no import circles, a wheel of the library alone, scripts
that need nothing but an installed jaxdigits."""

import ast
import os
import pathlib
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "jaxdigits"


def test_import_does_not_load_tensorflow_or_matplotlib():
    heavy = "('tensorflow', 'matplotlib', 'sklearn')"
    code = f"import sys, jaxdigits; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules():
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path, modules):
    """The jaxdigits modules ``path`` imports, anywhere in it (top level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("jaxdigits"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in modules else node.module)
    return found


def _cycle(graph):
    """One cycle of ``graph`` ({node: set of nodes}) as a list, or None."""
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt, stack + [nxt])):
                return found
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node, [node])):
            return found
    return None


def test_no_import_circles_among_modules_or_subpackages():
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    # The top-level package re-exports everything: nothing inside may import through it.
    inside = {name: deps for name, deps in graph.items() if name != "jaxdigits"}
    assert not any("jaxdigits" in deps for deps in inside.values()), {
        n: "jaxdigits" for n, d in inside.items() if "jaxdigits" in d
    }
    assert _cycle(inside) is None, f"import circle: {' -> '.join(_cycle(inside))}"

    def topic(name):  # jaxdigits.network._model -> jaxdigits.network; jaxdigits.io -> jaxdigits.io
        return ".".join(name.split(".")[:2])

    topics = {}
    for name, deps in inside.items():
        topics.setdefault(topic(name), set()).update(topic(d) for d in deps if topic(d) != topic(name))
    assert _cycle(topics) is None, f"circle between subpackages: {' -> '.join(_cycle(topics))}"
    assert sum(1 for p in PACKAGE.iterdir() if (p / "__init__.py").exists()) >= 3


def test_implementation_files_are_private_behind_each_subpackage():
    for package in (p for p in PACKAGE.iterdir() if (p / "__init__.py").exists()):
        public = [p.name for p in package.glob("*.py") if not p.name.startswith("_")]
        assert public == [], f"{package.name}: {public} should be private (_name.py), re-exported by __init__"


def test_every_module_has_its_test_file():
    """tests/ mirrors the package: tests/<subpackage>/test_<module>.py, tests/test_<module>.py at the top."""
    missing = []
    for name in _modules():
        parts = name.split(".")[1:]
        if not parts or parts[-1] in ("__init__",):
            continue
        if len(parts) == 1 and (PACKAGE / parts[0] / "__init__.py").exists():
            continue  # a subpackage: its modules have the tests
        *folders, module = parts
        test = ROOT.joinpath("tests", *folders, f"test_{module.lstrip('_')}.py")
        if not test.exists():
            missing.append(str(test.relative_to(ROOT)))
    assert not missing, missing


@pytest.mark.slow  # builds a wheel
def test_the_wheel_holds_only_jaxdigits(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("jaxdigits-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"jaxdigits"}, tops
    assert "jaxdigits/explorer/page/explorer.js" in names  # the page's resources come with it


def test_a_script_runs_with_only_the_installed_package(tmp_path):
    """``python experiments/<name>.py`` needs jaxdigits and nothing else: not the repository on sys.path."""
    script = ROOT / "experiments" / "train_digits.py"
    code = (
        "import os, runpy, sys\n"
        "import jaxdigits\n"  # found however it is installed (an editable install finds it through the root)
        f"root = {str(ROOT)!r}\n"
        "sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != root]\n"
        "sys.path_importer_cache.clear()\n"
        "assert 'experiments' not in sys.modules\n"
        f"sys.argv = [{str(script)!r}, '--help']\n"
        f"sys.path.insert(0, {str(script.parent)!r})\n"  # what python puts first for a script: its own folder
        f"runpy.run_path({str(script)!r}, run_name='__main__')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300, env=os.environ
    )
    assert done.returncode == 0, done.stderr
    assert "--preset" in done.stdout
    importable = subprocess.run(
        [
            sys.executable,
            "-c",
            code.replace("sys.argv = ", "import importlib.util as u; print(u.find_spec('experiments')); sys.argv = "),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert importable.stdout.startswith("None"), importable.stdout
