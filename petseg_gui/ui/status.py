"""The main window's status bar: a busy bar while segmenting, photo size, model, timings."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar


class StatusWidgets:
    """The permanent widgets of the status bar and the timings line they show."""

    def __init__(self, bar: QStatusBar) -> None:
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate: segmentation reports no progress
        self.busy.setFixedWidth(110)
        self.busy.setMaximumHeight(14)
        self.busy.setTextVisible(False)
        self.busy.setVisible(False)
        self.size_label = QLabel("")
        self.model_label = QLabel("Model: -")
        self.time_label = QLabel("")
        for widget in (self.busy, self.size_label, self.model_label, self.time_label):
            bar.addPermanentWidget(widget)
        self._times: dict[str, float] = {}
        self._full_seconds: float | None = None  # the full-resolution render on screen, if any

    def set_photo_size(self, width: int, height: int) -> None:
        self.size_label.setText(f"{width} x {height} px ({width * height / 1e6:.1f} MP)")

    def set_timing(self, kind: str, seconds: float) -> None:
        """``kind``: "segment", "render" or "save" (the session's ``timing`` signal)."""
        self._times[kind] = seconds
        self._update()

    def set_full_seconds(self, seconds: float | None) -> None:
        if seconds != self._full_seconds:
            self._full_seconds = seconds
            self._update()

    def _update(self) -> None:
        parts = []
        if "segment" in self._times:
            parts.append(f"Segmented in {self._times['segment']:.2f} s")
        if "render" in self._times:
            parts.append(f"Preview {self._times['render'] * 1000:.0f} ms")
        if self._full_seconds is not None:
            parts.append(f"Full resolution {self._full_seconds * 1000:.0f} ms")
        if "save" in self._times:
            parts.append(f"Saved in {self._times['save']:.2f} s")
        self.time_label.setText("  |  ".join(parts))
