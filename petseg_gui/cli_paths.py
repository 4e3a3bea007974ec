"""Which input photo an output path would be (``petseg`` refuses to write over its inputs)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


class Inputs:
    """Which input photo, if any, a path is: the same file (device and inode, so links and
    other spellings count) or, where either does not exist, the same resolved path. Indexed
    once: comparing every output with every input took 5 ms per photo at 40 photos."""

    def __init__(self, images: Sequence[Path]) -> None:
        self._by_id: dict[tuple[int, int], Path] = {}
        self._by_path: dict[Path, Path] = {}
        self._missing: dict[Path, Path] = {}  # inputs that cannot be stat'ed
        for image in images:
            file_id = _file_id(image)
            if file_id is not None:
                self._by_id.setdefault(file_id, image)
            else:
                self._missing.setdefault(image.resolve(), image)
            self._by_path.setdefault(image.resolve(), image)

    def find(self, path: Path) -> Path | None:
        file_id = _file_id(path)
        if file_id is None:
            return self._by_path.get(path.resolve())
        return self._by_id.get(file_id) or self._missing.get(path.resolve())
