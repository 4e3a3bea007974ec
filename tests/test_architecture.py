"""The house rules that keep the layers apart (DESIGN.md): Qt-free logic never imports Qt,
model_training and the app never import each other, and --help stays free of TensorFlow."""

from __future__ import annotations

import ast
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


QT_FREE = [
    p
    for part in (
        ("petseg_gui", "imaging"),
        ("petseg_gui", "inference"),
        ("petseg_gui", "effects"),
        ("petseg_gui", "cli.py"),
        ("petseg_gui", "errors.py"),
        ("petseg_gui", "contract"),
        ("petseg_gui", "model_registry.py"),
        ("petseg_gui", "overlay.py"),
        ("petseg_gui", "preview.py"),
        ("petseg_gui", "training_progress.py"),
        ("model_training",),
    )
    for p in python_files(*part)
    if p.exists()
]


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


def test_qt_free_modules_exist() -> None:
    # Guards the list above against a rename that would silently check nothing.
    assert any("imaging" in str(p) for p in QT_FREE)
    assert any("model_training" in str(p) for p in QT_FREE)
