"""The Qt binding itself must not corrupt Python's reference counts.

PySide6 6.12.0 releases a reference to None on every call of a method that returns nothing;
under Python 3.11 (where None is not immortal) any widget that paints with QPainter for a
while then aborts the app with "Fatal Python error: none_dealloc". pyproject.toml excludes that
release; this test keeps a future version from bringing it back unnoticed.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QPainter, QPen


def test_void_method_calls_keep_none_referenced() -> None:
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    try:

        def draw() -> None:
            painter.setPen(QPen(QColor(10, 20, 30), 2))
            painter.drawLine(QPointF(0, 0), QPointF(7, 7))

        draw()  # first calls create cached wrappers, which hold None a few times
        before = sys.getrefcount(None)
        for _ in range(1000):
            draw()
        # The broken binding drops None's count by one per call, here 2000; a correct one
        # leaves it where it was, give or take objects that other code creates meanwhile.
        assert sys.getrefcount(None) - before > -100
    finally:
        painter.end()
