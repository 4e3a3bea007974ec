"""The corrected matte beside the photo, never inside it: ``<photo name>.petseg.png`` plus
``<photo name>.petseg.json`` (docs/EDITS.md says why this format).

- PNG: the matte as 16-bit greyscale (0..65535 = alpha 0..1) at the photo's upright (EXIF
  applied) size. Lossless to 1/65535, small for mostly flat mattes, opens in any viewer.
- JSON: format name and version, photo size, the photo file's SHA-256 (a sidecar of a changed
  photo is refused with a reason), the matte PNG's SHA-256 (a half-finished write is caught),
  the model it corrected, created/modified times, number of edits.

Writes are atomic per file and the JSON goes last: it is the commit record. A PNG without its
JSON is no sidecar; a JSON whose PNG hash does not match is a broken one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from petseg_gui.contract.geometry import resize
from petseg_gui.contract.photos import PhotoFileError, aspect_problem, photo_size
from petseg_gui.edits.files import sha256_of, write_atomic
from petseg_gui.errors import PetsegError

FORMAT = "petseg-matte-sidecar"
VERSION = 1
_SCALE = 65535.0


class SidecarError(PetsegError):
    """A sidecar that cannot be used; ``str(err)`` is one line naming the file and the fix.
    ``stale``: the photo changed since the sidecar was written (the UI may just say so and
    carry on with the model's matte)."""

    def __init__(self, message: str, *, stale: bool = False) -> None:
        super().__init__(message)
        self.stale = stale


@dataclass(frozen=True, eq=False)
class Sidecar:
    """``matte``: float32 H x W in [0, 1] at the photo's upright size."""

    matte: np.ndarray
    photo_sha256: str
    model_name: str
    model_hash: str
    created: str
    modified: str
    edits: int


def sidecar_paths(photo_path: str | Path) -> tuple[Path, Path]:
    """(PNG, JSON) beside the photo. The photo's full name is kept (``a.jpg.petseg.png``) so
    ``a.jpg`` and ``a.png`` in one folder do not share a sidecar."""
    photo = Path(photo_path)
    return (
        photo.with_name(photo.name + ".petseg.png"),
        photo.with_name(photo.name + ".petseg.json"),
    )


def write_sidecar(
    photo_path: str | Path,
    matte: np.ndarray,
    *,
    model_name: str = "",
    model_hash: str = "",
    edits: int = 0,
) -> Sidecar:
    """Save ``matte`` (float32 H x W, the photo's upright size) as the photo's sidecar.
    Keeps the ``created`` time of an existing sidecar. PetsegError when it cannot be written."""
    photo = Path(photo_path)
    png_path, json_path = sidecar_paths(photo)
    size = _photo_size(photo)
    if matte.shape != size:
        raise ValueError(f"matte {matte.shape} is not the photo's upright size {size}")
    now = datetime.now(UTC).isoformat(timespec="seconds")
    created = now
    try:
        created = json.loads(json_path.read_text(encoding="utf-8"))["created"]
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no sidecar yet (or a broken one, which this write replaces)
    levels = np.rint(np.clip(matte, 0.0, 1.0) * _SCALE).astype(np.uint16)
    ok, encoded = cv2.imencode(".png", levels, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise PetsegError(f"{png_path}: the matte could not be encoded; nothing was written")
    png = encoded.tobytes()
    record = {
        "format": FORMAT,
        "version": VERSION,
        "photo": photo.name,
        "photo_size": {"height": size[0], "width": size[1]},
        "photo_sha256": sha256_of(photo),
        "matte_sha256": hashlib.sha256(png).hexdigest(),
        "model": {"name": model_name, "hash": model_hash},
        "created": created,
        "modified": now,
        "edits": int(edits),
    }
    write_atomic(png_path, png)
    write_atomic(json_path, (json.dumps(record, indent=2) + "\n").encode("utf-8"))
    return Sidecar(
        levels.astype(np.float32) / np.float32(_SCALE),
        record["photo_sha256"],
        model_name,
        model_hash,
        created,
        now,
        int(edits),
    )


def read_sidecar(photo_path: str | Path) -> Sidecar | None:
    """The photo's sidecar, or None when it has none. SidecarError (one line) when it is
    broken, or ``stale=True`` when the photo changed since: the caller shows the reason and
    uses the model's matte; "Reset to model" (``delete_sidecar``) removes it."""
    photo = Path(photo_path)
    png_path, json_path = sidecar_paths(photo)
    if not json_path.is_file():
        return None
    fix = "choose Reset to model to remove it"
    try:
        record = json.loads(json_path.read_text(encoding="utf-8"))
        if record.get("format") != FORMAT:
            raise ValueError("not a petseg sidecar")
        if int(record["version"]) > VERSION:
            raise SidecarError(
                f"{json_path}: written by a newer petseg (version {record['version']}); "
                "update petseg to use it"
            )
        size = (int(record["photo_size"]["height"]), int(record["photo_size"]["width"]))
        photo_hash, matte_hash = str(record["photo_sha256"]), str(record["matte_sha256"])
        model = record.get("model") or {}
    except SidecarError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise SidecarError(f"{json_path}: unreadable ({reason}); {fix}") from None
    try:
        current_hash = sha256_of(photo)
    except OSError as err:
        raise SidecarError(f"{photo}: cannot be read ({err.strerror}); check the file") from None
    if current_hash != photo_hash:
        raise SidecarError(
            f"{json_path}: the photo changed since these corrections were made; they are "
            f"ignored ({fix})",
            stale=True,
        )
    try:
        png = png_path.read_bytes()
    except OSError:
        raise SidecarError(f"{png_path}: missing; {fix}") from None
    if hashlib.sha256(png).hexdigest() != matte_hash:
        raise SidecarError(f"{png_path}: does not match {json_path.name}; {fix}")
    levels = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    if levels is None or levels.dtype != np.uint16 or levels.shape != size:
        raise SidecarError(f"{png_path}: not the photo's 16-bit matte; {fix}")
    return Sidecar(
        levels.astype(np.float32) / np.float32(_SCALE),
        photo_hash,
        str(model.get("name", "")),
        str(model.get("hash", "")),
        str(record.get("created", "")),
        str(record.get("modified", "")),
        int(record.get("edits", 0)),
    )


def delete_sidecar(photo_path: str | Path) -> bool:
    """ "Reset to model": remove the sidecar (JSON first: without it the PNG is no sidecar).
    True when there was one."""
    png_path, json_path = sidecar_paths(photo_path)
    removed = False
    for path in (json_path, png_path):
        try:
            path.unlink()
            removed = True
        except FileNotFoundError:
            pass
        except OSError as err:
            raise PetsegError(
                f"{path}: could not be removed ({err.strerror}); check the folder is writable"
            ) from None
    return removed


def load_matte_file(path: str | Path, photo_shape: tuple[int, int]) -> np.ndarray:
    """A user's matte image (8- or 16-bit grey, grey-as-RGB, or the alpha of an RGBA cut-out)
    as float32 ``photo_shape`` (H, W) in [0, 1]. Any size with the photo's aspect ratio (within
    2%) is resized (area when shrinking, bilinear when growing). PetsegError otherwise."""
    path = Path(path)
    try:
        data = np.fromfile(path, np.uint8)
    except OSError as err:
        raise PetsegError(f"{path}: cannot be read ({err.strerror}); check the path") from None
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise PetsegError(f"{path}: not a readable image; give a greyscale PNG matte")
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[..., 3]
    elif image.ndim == 3 and all(np.array_equal(image[..., 0], image[..., c]) for c in (1, 2)):
        image = image[..., 0]
    if image.ndim != 2 or image.dtype not in (np.uint8, np.uint16):
        raise PetsegError(
            f"{path}: a matte must be an 8- or 16-bit greyscale image (white = subject); "
            "save it as greyscale"
        )
    problem = aspect_problem(tuple(photo_shape), image.shape)
    if problem:
        raise PetsegError(f"{path}: {problem}")
    matte = image.astype(np.float32) / np.float32(np.iinfo(image.dtype).max)
    return np.clip(resize(matte, photo_shape[0], photo_shape[1]), 0.0, 1.0)


def corrected_matte(
    photo_path: str | Path,
    photo_shape: tuple[int, int],
    *,
    matte_file: str | Path | None = None,
    use_sidecar: bool = True,
) -> tuple[np.ndarray | None, str]:
    """The matte a command line uses instead of the model's, and a note saying which: the
    ``matte_file`` (``load_matte_file``; PetsegError when it does not fit), else the photo's
    sidecar (``use_sidecar``). None when there is neither, or the sidecar cannot be used (the
    note says why: the model's matte is used then)."""
    if matte_file is not None:
        return load_matte_file(matte_file, photo_shape), f"matte from {matte_file}"
    if not use_sidecar:
        return None, ""
    try:
        sidecar = read_sidecar(photo_path)
    except SidecarError as err:
        return None, f"{err}; the model's matte is used (--ignore-edits skips the sidecar)"
    if sidecar is None:
        return None, ""
    if sidecar.matte.shape != tuple(photo_shape):
        return None, f"{sidecar_paths(photo_path)[0]}: not the photo's size; the model's is used"
    return sidecar.matte, f"corrections from {sidecar_paths(photo_path)[0].name}"


def _photo_size(photo: Path) -> tuple[int, int]:
    try:
        return photo_size(photo)
    except PhotoFileError as err:
        raise PetsegError(str(err)) from None
