"""Run an entry point's ``main`` in a fresh interpreter and report which heavy modules it
imported: ``--help`` and ``--version`` must answer at once, without TensorFlow or Qt."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "keras", "PySide6")


def run_main_fresh(module: str, argv: list[str]) -> tuple[int, str, set[str]]:
    """(exit code, standard output, heavy modules imported) of ``module.main(argv)``."""
    code = (
        "import sys\n"
        f"from {module} import main\n"
        "try:\n"
        f"    code = main({argv!r})\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        f"print('\\nEXIT', code or 0, sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    output, _, last = done.stdout.rpartition("\nEXIT ")
    exit_code, loaded = last.split(" ", 1)
    return int(exit_code), output, set(ast.literal_eval(loaded.strip()))
