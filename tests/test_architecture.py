"""The architecture holds: the import-linter layers pass and really see `flows/` (a planted
upward import breaks them), no import circle between modules, no module over ~450 lines but
data. docs/architecture.md describes the same packages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _root() -> Path:
    """The repository root: the first folder above this file holding pyproject.toml (the tests
    may live one folder deeper than tests/)."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "pyproject.toml").is_file() and (folder / "ptce_pipeline").is_dir():
            return folder
    raise RuntimeError("pyproject.toml not found above " + str(Path(__file__)))


ROOT = _root()
PACKAGE = ROOT / "ptce_pipeline"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
MAX_LINES = 450
# Modules that are mostly data (a catalogue of French messages) may be longer.
DATA_MODULES = {"ptce_pipeline/catalogue/issue_catalogue.py"}


def lint_imports(cwd: Path, *args: str, pythonpath: Path | None = None):
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def modules() -> list[Path]:
    """Every module of the package, through the links ptce_pipeline/flows → flows/ and
    ptce_pipeline/schemas → schemas/ (as the wheel has them)."""
    found = []
    for folder, dirs, files in os.walk(PACKAGE, followlinks=True):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        found += [Path(folder) / f for f in files if f.endswith(".py")]
    return sorted(found)


def test_import_layers_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """A copy of the package with flows/ and schemas/ as real folders, and the contracts."""
    shutil.copytree(
        PACKAGE,
        tmp_path / "ptce_pipeline",
        symlinks=False,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    assert not (tmp_path / "ptce_pipeline" / "flows").is_symlink()
    return tmp_path


@pytest.mark.parametrize(
    ("module", "planted", "contract"),
    [
        # flows importing the CLI: upward (the checker must see flows/ through its link)
        ("flows/ingest.py", "import ptce_pipeline.cli", "Stages only import the stages below"),
        ("reading/sniff.py", "import ptce_pipeline.store.ledger", "Stages only import"),
    ],
)
def test_a_planted_upward_import_breaks_the_layers(tree_copy, module, planted, contract):
    with (tree_copy / "ptce_pipeline" / module).open("a", encoding="utf-8") as f:
        f.write(f"\n{planted}  # planted\n")
    config = tree_copy / "pyproject.toml"
    result = lint_imports(tree_copy, "--config", str(config), pythonpath=tree_copy)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert f"{contract}" in out and "BROKEN" in out, out
    importer = "ptce_pipeline." + module.removesuffix(".py").replace("/", ".")
    assert importer in out, out  # the copy was analysed, not the installed package


def test_the_copy_without_a_planted_import_passes(tree_copy):
    result = lint_imports(
        tree_copy, "--config", str(tree_copy / "pyproject.toml"), pythonpath=tree_copy
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def test_no_import_circle_between_modules():
    """For every import a → b, no chain of imports leads from b back to a (function-level
    imports included: a circle dodged at run time is still a circle). A package and its own
    modules are not a circle (the package's __init__ names its public face)."""
    import grimp

    graph = grimp.build_graph("ptce_pipeline", cache_dir=None)
    assert "ptce_pipeline.flows.ingest" in graph.modules  # the link to flows/ is followed
    circles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if _related(importer, imported):
                continue
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                circles.append(" → ".join((importer, *back)))
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_no_module_over_450_lines_but_data():
    long = {}
    for path in modules():
        name = "ptce_pipeline/" + path.relative_to(PACKAGE).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and name not in DATA_MODULES:
            long[name] = lines
    assert not long, f"modules over {MAX_LINES} lines (split them by job): {long}"


def test_every_package_is_described_in_the_architecture_doc():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    packages = sorted(
        path.relative_to(PACKAGE).parent.as_posix()
        for path in modules()
        if path.name == "__init__.py" and path.parent != PACKAGE
    )
    assert {"flows", "ingestion", "store"} <= set(packages)
    missing = [p for p in packages if f"`{p}/`" not in text]
    assert not missing, f"packages not described in docs/architecture.md: {missing}"
