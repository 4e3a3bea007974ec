"""The house rules that keep the layers apart (DESIGN.md, docs/ARCHITECTURE.md): Qt-free logic
never imports Qt, model_training and the app never import each other (the trainer may use the
contract), the contract is light, and no app module loads TensorFlow at import time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "qimage2ndarray", "shiboken6")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def python_files(*parts: str) -> list[Path]:
    base = ROOT.joinpath(*parts)
    return sorted(base.rglob("*.py")) if base.is_dir() else [base]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# The rules, by place rather than by a list to keep up to date: a new module is covered the day
# it is written. Only petseg_gui/ui/ (and the GUI launcher __main__.py) may touch Qt.
GUI_ONLY = ("petseg_gui/ui/", "petseg_gui/__main__.py")
APP_FILES = python_files("petseg_gui")
QT_FREE = [
    p
    for p in APP_FILES + python_files("model_training")
    if not str(p.relative_to(ROOT)).startswith(GUI_ONLY)
]
CONTRACT = python_files("petseg_gui", "contract")
HEAVY_FOR_THE_CONTRACT = ("tensorflow", "keras", "tensorflow_datasets", "ai_edge_litert")


@pytest.mark.parametrize("path", QT_FREE, ids=lambda p: str(p.relative_to(ROOT)))
def test_qt_free_modules_do_not_import_qt(path: Path) -> None:
    bad = {m for m in imported_modules(path) if m.split(".")[0] in QT_MODULES}
    assert not bad, f"{path.relative_to(ROOT)} imports Qt: {sorted(bad)}"


@pytest.mark.parametrize("path", python_files("petseg_gui"), ids=lambda p: str(p.relative_to(ROOT)))
def test_app_never_imports_training_package(path: Path) -> None:
    bad = {m for m in imported_modules(path) if m.split(".")[0] == "model_training"}
    assert not bad, f"{path.relative_to(ROOT)} imports model_training; run it as a process"


@pytest.mark.parametrize(
    "path", python_files("model_training"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_training_never_imports_app(path: Path) -> None:
    bad = {
        m
        for m in imported_modules(path)
        if m.split(".")[0] == "petseg_gui" and not m.startswith("petseg_gui.contract")
    }
    assert not bad, f"{path.relative_to(ROOT)} imports petseg_gui beyond petseg_gui.contract"


def test_the_rules_cover_the_tree() -> None:
    # Guards the rules above against a move that would silently check nothing.
    names = {module_name(p) for p in QT_FREE}
    assert {"petseg_gui.cli", "petseg_gui.inference.segmenter", "model_training.train"} <= names
    assert {"petseg_gui.contract.card", "petseg_gui.training_data_check"} <= names
    assert not any(name.startswith("petseg_gui.ui") for name in names)


@pytest.mark.parametrize("path", CONTRACT, ids=lambda p: str(p.relative_to(ROOT)))
def test_contract_imports_neither_tensorflow_nor_the_rest_of_the_app(path: Path) -> None:
    """Both sides import the contract, so it must stay light and self-contained (anywhere in
    the file, lazy imports included)."""
    names = imported_modules(path)
    heavy = {m for m in names if m.split(".")[0] in HEAVY_FOR_THE_CONTRACT}
    app = {
        m for m in names if m.startswith("petseg_gui") and not m.startswith("petseg_gui.contract")
    }
    trainer = {m for m in names if m.split(".")[0] == "model_training"}
    assert not (heavy | app | trainer), f"{path.relative_to(ROOT)} imports {heavy | app | trainer}"


def test_importing_the_app_loads_no_tensorflow_and_no_qt_outside_ui() -> None:
    """Import time, transitively, in a fresh interpreter: every app module outside ui/ loads
    neither Qt nor TensorFlow; ui/ modules load no TensorFlow (it comes later, in a worker)."""
    app = [module_name(p) for p in APP_FILES if module_name(p) != "petseg_gui.__main__"]
    qt_free = [m for m in app if not m.startswith("petseg_gui.ui")]
    gui = [m for m in app if m.startswith("petseg_gui.ui")]
    code = (
        "import importlib, sys\n"
        "def loaded(names):\n"
        "    return sorted(n for n in names if n in sys.modules)\n"
        f"for module in {qt_free!r}:\n"
        "    importlib.import_module(module)\n"
        f"    bad = loaded({QT_MODULES + HEAVY_FOR_THE_CONTRACT!r})\n"
        "    assert not bad, f'{module} loads {bad} at import time'\n"
        f"for module in {gui!r}:\n"
        "    importlib.import_module(module)\n"
        f"    bad = loaded({HEAVY_FOR_THE_CONTRACT!r})\n"
        "    assert not bad, f'{module} loads {bad} at import time'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1]
