"""The first-run page: what the app does, a button to open a photo, and the bundled samples."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from resources import SAMPLES_DIR

SAMPLES = ("astronaut.jpg", "chelsea.jpg")


class WelcomePage(QWidget):
    openRequested = Signal()
    sampleRequested = Signal(str)  # path of a bundled sample photo

    def __init__(self, icon: QIcon | None = None) -> None:
        super().__init__()
        self.setAcceptDrops(False)  # the main window takes drops anywhere
        title = QLabel("<h1>petseg</h1>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        blurb = QLabel(
            "Give a photo the portrait-mode look: the subject is found automatically,<br>"
            "the background is blurred like a wide-open lens, and the subject is sharpened."
            "<br><br>Open a photo, or drop one anywhere on this window."
        )
        blurb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        blurb.setWordWrap(True)
        self.open_button = QPushButton("Open photo...")
        if icon is not None:
            self.open_button.setIcon(icon)
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(self.openRequested)
        self.model_note = QLabel("")
        self.model_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.model_note.setStyleSheet("color: #d08020;")

        samples = QHBoxLayout()
        samples.addStretch(1)
        samples.addWidget(QLabel("Or try a sample:"))
        for name in SAMPLES:
            path = Path(SAMPLES_DIR) / name
            if path.is_file():
                button = QPushButton(Path(name).stem.capitalize())
                button.setObjectName(f"sample_{Path(name).stem}")
                button.clicked.connect(lambda _=False, p=str(path): self.sampleRequested.emit(p))
                samples.addWidget(button)
        samples.addStretch(1)

        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.open_button)
        row.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(title)
        layout.addWidget(blurb)
        layout.addSpacing(16)
        layout.addLayout(row)
        layout.addLayout(samples)
        layout.addSpacing(12)
        layout.addWidget(self.model_note)
        layout.addStretch(3)
