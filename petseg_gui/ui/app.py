"""``petseg-gui``: start the editor (optionally with a photo), or take a screenshot of it.

Only the standard library is imported before the arguments are parsed, so ``--help`` and
``--version`` answer at once; Qt comes next and TensorFlow only on a worker thread, when the
model loads.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

SCREENSHOT_TIMEOUT_S = 300


def build_parser() -> argparse.ArgumentParser:
    from petseg_gui import __version__

    parser = argparse.ArgumentParser(
        prog="petseg-gui",
        description="Portrait-mode photo editor: blur the background, sharpen the subject.",
    )
    parser.add_argument("image", nargs="?", help="a photo to open")
    parser.add_argument("--model", metavar="DIR", help="use this model folder (for this run)")
    parser.add_argument(
        "--screenshot",
        metavar="OUT.png",
        help="open IMAGE, wait for the result, save a picture of the window to OUT.png, exit",
    )
    parser.add_argument(
        "--settings", metavar="INI", help="keep settings in this INI file (default: the user's)"
    )
    parser.add_argument("--version", action="version", version=f"petseg-gui {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from PySide6.QtWidgets import QApplication

    from petseg_gui.ui import settings
    from petseg_gui.ui.actions import icon

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName(settings.ORGANIZATION)
    app.setApplicationName(settings.APPLICATION)
    app.setApplicationDisplayName("petseg")
    app.setWindowIcon(icon("app"))

    if args.settings:
        settings.use_ini(args.settings)
    elif args.screenshot:
        # A screenshot must not depend on, or change, the user's window layout and recent files.
        scratch = tempfile.TemporaryDirectory(prefix="petseg-shot-")
        settings.use_ini(Path(scratch.name) / "settings.ini")

    from petseg_gui.ui.main_window import MainWindow

    window = MainWindow(model_dir=args.model, persist=not args.screenshot)
    if args.screenshot:
        return _screenshot(app, window, Path(args.screenshot), args.image)
    window.show()
    if args.image:
        window.open_path(args.image)
    return app.exec()


def _screenshot(app, window, out: Path, image: str | None) -> int:
    """Show the real window, wait until the photo is segmented and rendered, grab, exit."""
    from PySide6.QtCore import QTimer

    outcome = {"code": None}
    session = window.session

    def finish(code: int, message: str = "") -> None:
        if outcome["code"] is not None:
            return
        if message:
            print(f"petseg-gui: {message}", file=sys.stderr)
        outcome["code"] = code
        window.close()
        app.exit(code)

    def ready() -> bool:
        if session.busy:
            return False
        if image is None:
            return True
        if session.photo is None:
            return False
        return session.model is None or session.last_render is not None

    def check(*_args) -> None:
        if outcome["code"] is None and ready():
            # One more turn of the event loop so the last picture is laid out and painted.
            QTimer.singleShot(50, grab)

    def grab() -> None:
        if outcome["code"] is not None:
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        if window.grab().save(str(out), "PNG"):
            finish(0)
        else:
            finish(1, f"{out}: cannot write the screenshot; choose a writable path")

    session.error.connect(lambda text: finish(1, text))
    session.busyChanged.connect(check)
    window.resultShown.connect(check)
    window.show()
    if image:
        window.open_path(image)
    QTimer.singleShot(100, check)
    QTimer.singleShot(SCREENSHOT_TIMEOUT_S * 1000, lambda: finish(1, "timed out waiting"))
    code = app.exec()
    return outcome["code"] if outcome["code"] is not None else code


if __name__ == "__main__":
    raise SystemExit(main())
