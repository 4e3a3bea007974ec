"""The editing session's background runners, one per kind of work (editor.EditorSession's)."""

from __future__ import annotations

from PySide6.QtCore import QObject

from petseg_gui.ui.workers import LatestRunner


class Runners:
    """The session's background work, one named runner per kind (latest request wins in each).

    Results: ``open`` Photo, ``model`` ModelHandle, ``segment`` Segmented, ``matte`` Matte,
    ``render`` Rendered (preview), ``full`` Rendered (full resolution) or None when cancelled,
    ``full_trimap`` FullTrimap, ``files`` Saved or Exported (one at a time: they write files),
    ``preview`` RefittedPreview (the panes changed size).
    """

    def __init__(self, parent: QObject) -> None:
        self.open = LatestRunner("open", parent=parent)
        self.model = LatestRunner("model", parent=parent)
        self.segment = LatestRunner("segment", parent=parent)
        self.matte = LatestRunner("matte", parent=parent)
        self.render = LatestRunner("render", parent=parent)
        self.full = LatestRunner("full", parent=parent)
        self.full_trimap = LatestRunner("full_trimap", parent=parent)
        self.files = LatestRunner("files", parent=parent)
        self.preview = LatestRunner("preview", parent=parent)

    def all(self) -> tuple[LatestRunner, ...]:
        return (
            self.open,
            self.model,
            self.segment,
            self.matte,
            self.render,
            self.full,
            self.full_trimap,
            self.files,
            self.preview,
        )

    def cancel_photo_work(self) -> None:
        """Make everything made from the current photo stale (not its loading, not saving)."""
        for runner in (
            self.segment,
            self.matte,
            self.render,
            self.full,
            self.full_trimap,
            self.preview,
        ):
            runner.cancel()
