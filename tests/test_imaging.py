"""petseg_gui.imaging: decoding every input kind to upright RGB uint8, and atomic saving."""

from __future__ import annotations

import errno
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps
from tiny_model import synthetic_photo

from petseg_gui.errors import PetsegError
from petseg_gui.imaging import MIN_SIDE, SUPPORTED_EXTENSIONS, load_image, save_image
from petseg_gui.imaging.exif import normal_orientation

ORIENTATION = 0x0112
MAKE = 0x010F


def exif_bytes(orientation: int, make: str = "TestCam") -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = make
    return exif.tobytes()


def asymmetric_photo(height: int = 24, width: int = 40) -> np.ndarray:
    """A photo whose every flip and rotation differs (a bright corner block, a gradient)."""
    yy, xx = np.mgrid[0:height, 0:width]
    photo = np.stack([xx * 255 // width, yy * 255 // height, (xx + yy) % 64], axis=2)
    photo[:6, :10] = (255, 255, 255)
    return photo.astype(np.uint8)


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ----------------------------------------------------------------------------- loading


@pytest.mark.parametrize("ext", [".png", ".tif", ".tiff", ".bmp"])
def test_lossless_formats_round_trip_exactly(tmp_path: Path, ext: str) -> None:
    photo = synthetic_photo(48, 64)
    save_image(tmp_path / f"p{ext}", photo)
    loaded = load_image(tmp_path / f"p{ext}")
    assert loaded.pixels.dtype == np.uint8 and loaded.pixels.shape == (48, 64, 3)
    np.testing.assert_array_equal(loaded.pixels, photo)
    assert loaded.pixels.flags.c_contiguous and loaded.pixels.flags.writeable


@pytest.mark.parametrize(("ext", "fmt"), [(".jpg", "JPEG"), (".jpeg", "JPEG"), (".webp", "WEBP")])
def test_lossy_formats_round_trip_closely(tmp_path: Path, ext: str, fmt: str) -> None:
    photo = synthetic_photo(48, 64)
    save_image(tmp_path / f"p{ext}", photo)
    loaded = load_image(tmp_path / f"p{ext}")
    assert loaded.format == fmt and loaded.pixels.shape == (48, 64, 3)
    assert np.abs(loaded.pixels.astype(int) - photo).mean() < 6


def test_fast_jpeg_decode_matches_pillow(tmp_path: Path) -> None:
    photo = synthetic_photo(120, 160)
    Image.fromarray(photo).save(tmp_path / "p.jpg", quality=90)
    expected = np.asarray(Image.open(tmp_path / "p.jpg").convert("RGB")).astype(int)
    assert np.abs(load_image(tmp_path / "p.jpg").pixels - expected).max() <= 1


def test_jpeg_with_data_after_end_marker_still_loads(tmp_path: Path) -> None:
    # Some cameras append data after the JPEG; that path is decoded by Pillow instead.
    photo = synthetic_photo(48, 64)
    Image.fromarray(photo).save(tmp_path / "p.jpg", quality=95)
    with open(tmp_path / "p.jpg", "ab") as f:
        f.write(b"\x00" * 100 + b"trailer")
    assert np.abs(load_image(tmp_path / "p.jpg").pixels.astype(int) - photo).mean() < 6


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_like_viewers_do(
    tmp_path: Path, ext: str, orientation: int
) -> None:
    path = tmp_path / f"o{ext}"
    options = {"quality": 100} if ext != ".png" else {}
    Image.fromarray(asymmetric_photo()).save(path, exif=exif_bytes(orientation), **options)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    loaded = load_image(path)
    assert loaded.pixels.shape == expected.shape
    assert np.abs(loaded.pixels.astype(int) - expected).max() <= 1
    # The EXIF handed back describes upright pixels and keeps the other tags.
    tags = Image.Exif()
    tags.load(loaded.exif)
    assert tags[ORIENTATION] == 1 and tags[MAKE] == "TestCam"


def test_orientation_6_turns_a_landscape_file_into_a_portrait_photo(tmp_path: Path) -> None:
    Image.fromarray(asymmetric_photo(24, 40)).save(tmp_path / "o.jpg", exif=exif_bytes(6))
    assert load_image(tmp_path / "o.jpg").pixels.shape == (40, 24, 3)


def test_grey_image_becomes_three_equal_channels(tmp_path: Path) -> None:
    grey = np.tile(np.arange(0, 256, 8, dtype=np.uint8), (16, 1))
    Image.fromarray(grey).save(tmp_path / "g.png")
    loaded = load_image(tmp_path / "g.png")
    assert loaded.pixels.shape == (16, 32, 3)
    for channel in range(3):
        np.testing.assert_array_equal(loaded.pixels[..., channel], grey)


def test_grey_jpeg_uses_three_channels_too(tmp_path: Path) -> None:
    Image.fromarray(np.full((16, 16), 100, np.uint8)).save(tmp_path / "g.jpg")
    pixels = load_image(tmp_path / "g.jpg").pixels
    assert pixels.shape == (16, 16, 3) and abs(int(pixels.mean()) - 100) <= 1


def test_16_bit_grey_is_scaled_not_clipped(tmp_path: Path) -> None:
    import cv2

    values = np.array([[0, 256, 32768, 40000, 65535]], np.uint16).repeat(8, axis=0)
    values = np.tile(values, (1, 2))
    cv2.imwrite(str(tmp_path / "g16.png"), values)
    pixels = load_image(tmp_path / "g16.png").pixels
    np.testing.assert_array_equal(pixels[0, :5, 0], [0, 1, 128, 156, 255])


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16_bit_colour_is_scaled_not_clipped(tmp_path: Path, ext: str) -> None:
    import cv2

    rgb16 = np.zeros((8, 8, 3), np.uint16)
    rgb16[..., 0], rgb16[..., 1], rgb16[..., 2] = 40000, 1000, 65535
    cv2.imwrite(str(tmp_path / f"c16{ext}"), rgb16[..., ::-1])  # OpenCV writes BGR
    np.testing.assert_array_equal(load_image(tmp_path / f"c16{ext}").pixels[0, 0], [156, 3, 255])


def test_alpha_is_flattened_onto_white(tmp_path: Path) -> None:
    rgba = np.zeros((8, 12, 4), np.uint8)
    rgba[..., :3] = (200, 40, 0)
    rgba[:, :4, 3] = 255  # opaque: the colour itself
    rgba[:, 4:8, 3] = 0  # transparent: white
    rgba[:, 8:, 3] = 128  # half: (200 * 128 + 255 * 127) / 255 = 227.4 -> 227
    Image.fromarray(rgba).save(tmp_path / "a.png")
    loaded = load_image(tmp_path / "a.png")
    assert loaded.had_alpha
    np.testing.assert_array_equal(loaded.pixels[0, 0], [200, 40, 0])
    np.testing.assert_array_equal(loaded.pixels[0, 5], [255, 255, 255])
    np.testing.assert_array_equal(loaded.pixels[0, 9], [227, 147, 127])


def test_grey_with_alpha_is_flattened_too(tmp_path: Path) -> None:
    la = np.zeros((8, 8, 2), np.uint8)
    la[..., 1] = 0
    Image.fromarray(la, mode="LA").save(tmp_path / "la.png")
    loaded = load_image(tmp_path / "la.png")
    assert loaded.had_alpha and (loaded.pixels == 255).all()


def test_opaque_photo_reports_no_alpha(tmp_path: Path) -> None:
    save_image(tmp_path / "p.png", synthetic_photo(16, 16))
    assert not load_image(tmp_path / "p.png").had_alpha


def test_palette_image_keeps_its_colours_and_transparency_becomes_white(tmp_path: Path) -> None:
    palette = Image.new("P", (10, 10))
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette.paste(1, (5, 0, 10, 10))
    palette.save(tmp_path / "p.png")
    pixels = load_image(tmp_path / "p.png").pixels
    np.testing.assert_array_equal(pixels[0, 0], [255, 0, 0])
    np.testing.assert_array_equal(pixels[0, 9], [0, 0, 255])

    palette.save(tmp_path / "t.png", transparency=1)
    loaded = load_image(tmp_path / "t.png")
    assert loaded.had_alpha
    np.testing.assert_array_equal(loaded.pixels[0, 9], [255, 255, 255])
    np.testing.assert_array_equal(loaded.pixels[0, 0], [255, 0, 0])


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(tmp_path / "c.jpg", quality=100)
    pixels = load_image(tmp_path / "c.jpg").pixels
    assert pixels.shape == (16, 16, 3)
    assert pixels[8, 8, 0] > 200 and pixels[8, 8, 1] < 50  # cyan-free, magenta+yellow: red


def test_icc_profile_is_read(tmp_path: Path) -> None:
    icc = srgb_icc()
    Image.fromarray(synthetic_photo(16, 16)).save(tmp_path / "p.jpg", icc_profile=icc)
    assert load_image(tmp_path / "p.jpg").icc_profile == icc


def test_photo_without_metadata_has_none(tmp_path: Path) -> None:
    Image.fromarray(synthetic_photo(16, 16)).save(tmp_path / "p.jpg")
    loaded = load_image(tmp_path / "p.jpg")
    assert loaded.exif is None and loaded.icc_profile is None


def test_non_ascii_path_with_spaces(tmp_path: Path) -> None:
    folder = tmp_path / "Fotos von Zoë ü 写真"
    folder.mkdir()
    photo = synthetic_photo(32, 32)
    for ext in (".jpg", ".png"):
        save_image(folder / f"mein Bild é{ext}", photo)
        assert load_image(folder / f"mein Bild é{ext}").pixels.shape == (32, 32, 3)


# ------------------------------------------------------------------------ bad inputs


def assert_refused(path: Path, *words: str, **kwargs) -> None:
    with pytest.raises(PetsegError) as info:
        load_image(path, **kwargs)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    for word in words:
        assert word in message.lower()


def test_missing_file(tmp_path: Path) -> None:
    assert_refused(tmp_path / "nope.jpg", "no such file")


def test_folder(tmp_path: Path) -> None:
    assert_refused(tmp_path, "folder")


def test_zero_byte_file(tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert_refused(tmp_path / "empty.jpg", "empty")


def test_text_file_named_jpg(tmp_path: Path) -> None:
    (tmp_path / "notes.jpg").write_text("these are my holiday notes, not a photo\n")
    assert_refused(tmp_path / "notes.jpg", "not a photo")


def test_truncated_jpeg_is_refused_not_filled_with_grey(tmp_path: Path) -> None:
    Image.fromarray(synthetic_photo(120, 160)).save(tmp_path / "full.jpg")
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    assert_refused(tmp_path / "cut.jpg", "damaged or truncated")


def test_png_with_broken_header(tmp_path: Path) -> None:
    save_image(tmp_path / "ok.png", synthetic_photo(16, 16))
    data = bytearray((tmp_path / "ok.png").read_bytes())
    data[16:24] = b"\xff" * 8  # IHDR width and height: garbage, checksum now wrong
    (tmp_path / "broken.png").write_bytes(bytes(data))
    assert_refused(tmp_path / "broken.png")


@pytest.mark.parametrize("size", [(1, 1), (MIN_SIDE - 1, 100)])
def test_tiny_photo_is_refused(tmp_path: Path, size: tuple[int, int]) -> None:
    Image.new("RGB", size).save(tmp_path / "tiny.png")
    assert_refused(tmp_path / "tiny.png", "at least")


def test_smallest_allowed_photo_loads(tmp_path: Path) -> None:
    Image.new("RGB", (MIN_SIDE, MIN_SIDE)).save(tmp_path / "small.png")
    assert load_image(tmp_path / "small.png").pixels.shape == (MIN_SIDE, MIN_SIDE, 3)


def test_photo_beyond_the_megapixel_limit(tmp_path: Path) -> None:
    save_image(tmp_path / "p.png", synthetic_photo(100, 200))
    assert_refused(tmp_path / "p.png", "too large", "0.01 mp", max_megapixels=0.01)
    assert load_image(tmp_path / "p.png", max_megapixels=0.02).pixels.shape == (100, 200, 3)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def test_decompression_bomb_is_refused_from_the_header(tmp_path: Path) -> None:
    # A 60 kB file claiming 40000 x 40000 px: decoding it would need 4.8 GB.
    ihdr = struct.pack(">IIBBBBB", 40_000, 40_000, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + 3 * 40_000) * 16, 9)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", rows)
    (tmp_path / "bomb.png").write_bytes(data + png_chunk(b"IEND", b""))
    assert_refused(tmp_path / "bomb.png", "too large", "1600 mp")


# ---------------------------------------------------------------------------- saving


def test_supported_extensions_are_all_writable(tmp_path: Path) -> None:
    assert {".jpg", ".png", ".webp", ".tif", ".bmp"} <= set(SUPPORTED_EXTENSIONS)
    for ext in SUPPORTED_EXTENSIONS:
        save_image(tmp_path / f"p{ext.upper()}", synthetic_photo(16, 16))
        assert Image.open(tmp_path / f"p{ext.upper()}").size == (16, 16)


def test_grey_pixels_save_as_a_single_channel_image(tmp_path: Path) -> None:
    matte = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (8, 1))
    save_image(tmp_path / "m.png", matte)
    with Image.open(tmp_path / "m.png") as image:
        assert image.mode == "L"
        np.testing.assert_array_equal(np.asarray(image), matte)


def test_quality_is_used(tmp_path: Path) -> None:
    photo = synthetic_photo(120, 160)
    save_image(tmp_path / "low.jpg", photo, quality=40)
    save_image(tmp_path / "high.jpg", photo, quality=95)
    assert (tmp_path / "low.jpg").stat().st_size < (tmp_path / "high.jpg").stat().st_size


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp", ".tif"])
def test_exif_and_icc_are_written_with_normal_orientation(tmp_path: Path, ext: str) -> None:
    icc = srgb_icc()
    save_image(tmp_path / f"p{ext}", synthetic_photo(16, 24), exif=exif_bytes(6), icc_profile=icc)
    with Image.open(tmp_path / f"p{ext}") as image:
        assert image.size == (24, 16)  # pixels are stored as given, not rotated
        assert image.info.get("icc_profile") == icc
        exif = image.getexif()
        assert exif[ORIENTATION] == 1 and exif[MAKE] == "TestCam"


def test_tiff_exif_is_carried_into_a_jpeg(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[ORIENTATION], exif[MAKE] = 6, "TiffCam"
    exif.get_ifd(0x8769)[0x9003] = "2024:05:06 07:08:09"  # DateTimeOriginal, in the Exif IFD
    Image.fromarray(asymmetric_photo()).save(tmp_path / "in.tif", exif=exif.tobytes())
    loaded = load_image(tmp_path / "in.tif")
    assert loaded.pixels.shape == (40, 24, 3)  # orientation 6 applied
    save_image(tmp_path / "out.jpg", loaded.pixels, exif=loaded.exif)
    tags = Image.open(tmp_path / "out.jpg").getexif()
    assert tags[MAKE] == "TiffCam" and tags.get(ORIENTATION, 1) == 1
    assert tags.get_ifd(0x8769)[0x9003] == "2024:05:06 07:08:09"
    assert 0x0111 not in tags  # no TIFF layout tags (strip offsets) leak into the JPEG


def test_bmp_silently_has_no_room_for_metadata(tmp_path: Path) -> None:
    save_image(tmp_path / "p.bmp", synthetic_photo(16, 16), exif=exif_bytes(1), icc_profile=b"x")
    assert load_image(tmp_path / "p.bmp").exif is None


def test_load_save_load_keeps_metadata(tmp_path: Path) -> None:
    icc = srgb_icc()
    Image.fromarray(asymmetric_photo()).save(
        tmp_path / "in.jpg", exif=exif_bytes(8, "Nikon"), icc_profile=icc
    )
    first = load_image(tmp_path / "in.jpg")
    save_image(tmp_path / "out.jpg", first.pixels, exif=first.exif, icc_profile=first.icc_profile)
    second = load_image(tmp_path / "out.jpg")
    assert second.pixels.shape == first.pixels.shape == (40, 24, 3)
    assert second.icc_profile == icc
    assert Image.open(tmp_path / "out.jpg").getexif()[MAKE] == "Nikon"


def test_new_file_gets_normal_permissions_and_an_overwritten_one_keeps_its_own(
    tmp_path: Path,
) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    save_image(tmp_path / "new.png", synthetic_photo(16, 16))
    assert (tmp_path / "new.png").stat().st_mode & 0o777 == 0o666 & ~umask
    (tmp_path / "new.png").chmod(0o640)
    save_image(tmp_path / "new.png", synthetic_photo(16, 16))
    assert (tmp_path / "new.png").stat().st_mode & 0o777 == 0o640


def assert_save_refused(path: Path, *words: str, **kwargs) -> None:
    with pytest.raises(PetsegError) as info:
        save_image(path, kwargs.pop("pixels", synthetic_photo(16, 16)), **kwargs)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    for word in words:
        assert word in message.lower()


def test_unknown_extension(tmp_path: Path) -> None:
    assert_save_refused(tmp_path / "p.xyz", "unknown file type", ".jpg")
    assert_save_refused(tmp_path / "noext", "unknown file type")
    assert files_in(tmp_path) == []


def test_path_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "out.png").mkdir()
    assert_save_refused(tmp_path / "out.png", "folder")


def test_missing_folder(tmp_path: Path) -> None:
    assert_save_refused(tmp_path / "nope" / "p.png", "does not exist")


def test_overwrite_false_refuses_and_keeps_the_original(tmp_path: Path) -> None:
    (tmp_path / "p.png").write_bytes(b"original")
    assert_save_refused(tmp_path / "p.png", "already exists", overwrite=False)
    assert (tmp_path / "p.png").read_bytes() == b"original"
    save_image(tmp_path / "q.png", synthetic_photo(16, 16), overwrite=False)  # new name: fine
    assert files_in(tmp_path) == ["p.png", "q.png"]


def test_overwrite_true_replaces(tmp_path: Path) -> None:
    (tmp_path / "p.png").write_bytes(b"original")
    save_image(tmp_path / "p.png", synthetic_photo(16, 16))
    assert load_image(tmp_path / "p.png").pixels.shape == (16, 16, 3)


def enospc() -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_disk_full_while_encoding_leaves_nothing_and_the_original_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "p.jpg").write_bytes(b"original")

    def half_write_then_fail(self, fp, *args, **kwargs) -> None:
        fp.write(b"\xff\xd8 half a photo")
        raise enospc()

    monkeypatch.setattr(Image.Image, "save", half_write_then_fail)
    assert_save_refused(tmp_path / "p.jpg", "disk is full")
    assert (tmp_path / "p.jpg").read_bytes() == b"original"
    assert files_in(tmp_path) == ["p.jpg"]


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_disk_full_at_flush_or_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    def fail(*args, **kwargs):
        raise enospc()

    monkeypatch.setattr(os, step, fail)
    assert_save_refused(tmp_path / "new.png", "disk is full")
    assert files_in(tmp_path) == []


def test_unwritable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests may run as root, where chmod does not stop writes; simulate the refusal.
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    assert_save_refused(tmp_path / "p.png", "permission denied")


def test_ctrl_c_while_saving_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(self, fp, *args, **kwargs) -> None:
        fp.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_image(tmp_path / "p.png", synthetic_photo(16, 16))
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(
    "pixels", [np.zeros((8, 8, 3), np.float32), np.zeros((8, 8, 4), np.uint8), [[0]]]
)
def test_wrong_arrays_are_programming_errors(tmp_path: Path, pixels) -> None:
    with pytest.raises(ValueError):
        save_image(tmp_path / "p.png", pixels)


# ------------------------------------------------------------------------------ EXIF


def test_normal_orientation_handles_both_exif_styles() -> None:
    raw = exif_bytes(6)
    assert raw.startswith(b"Exif\x00\x00")
    for block in (raw, raw[6:]):  # JPEG/PNG style and WebP style (no header)
        fixed = normal_orientation(block)
        assert fixed is not None and len(fixed) == len(block)
        tags = Image.Exif()
        tags.load(fixed if fixed.startswith(b"Exif") else b"Exif\x00\x00" + fixed)
        assert tags[ORIENTATION] == 1 and tags[MAKE] == "TestCam"


def test_unreadable_exif_is_dropped_rather_than_kept_with_a_wrong_orientation() -> None:
    assert normal_orientation(b"Exif\x00\x00garbage") is None
    assert normal_orientation(exif_bytes(6)[:14]) is None  # IFD cut off
    assert normal_orientation(None) is None
