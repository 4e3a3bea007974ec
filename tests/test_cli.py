"""The petseg command line, end to end on the tiny real model (bright pixels = subject)."""

from __future__ import annotations

import errno
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from light_imports import run_main_fresh
from PIL import Image, ImageCms
from tiny_model import synthetic_photo, synthetic_subject_mask

from petseg_gui import __version__
from petseg_gui.cli import WRITABLE, Progress, main
from petseg_gui.imaging import SUPPORTED_EXTENSIONS

ROOT = Path(__file__).resolve().parents[1]
ORIENTATION, MAKE = 0x0112, 0x010F
H, W = 240, 320
MIDDLE = (H // 2, W // 2)
CORNER = (5, 5)


def write_photo(path: Path, seed: int = 0, **save_options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(synthetic_photo(H, W, seed=seed)).save(path, **save_options)
    return path


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    return [write_photo(tmp_path / "in" / f"photo{i}.png", seed=i) for i in range(2)]


def run_cli(*args: object) -> int:
    return main([str(a) for a in args])


def only_line(text: str, word: str) -> str:
    lines = [line for line in text.splitlines() if word in line]
    assert len(lines) == 1, text
    return lines[0]


# ------------------------------------------------------------------------- help, usage


def test_help_and_version_do_not_import_tensorflow() -> None:
    for argv in (["--help"], ["portrait", "--help"]):
        code, _, loaded = run_main_fresh("petseg_gui.cli", argv)
        assert code == 0 and not loaded & {"tensorflow", "keras"}
    code, output, loaded = run_main_fresh("petseg_gui.cli", ["--version"])
    assert code == 0 and not loaded & {"tensorflow", "keras"}
    assert f"petseg {__version__}" in output


def test_version_says_which_passes_run_compiled(monkeypatch, capsys) -> None:
    from petseg_gui.effects import compiled
    from petseg_gui.inference import full_resolution

    for fused, expected in ((object(), "compiled passes"), (None, "without a C compiler")):
        monkeypatch.setattr(compiled, "fused", fused)
        assert main(["--version"]) == 0
        assert expected in capsys.readouterr().out
    for built, expected in ((object(), "Matte: compiled"), (None, "Matte: OpenCV")):
        monkeypatch.setattr(full_resolution, "native", built)
        assert main(["--version"]) == 0
        assert expected in capsys.readouterr().out


def test_writable_extensions_match_the_imaging_module() -> None:
    from petseg_gui.imaging.formats import FORMAT_BY_EXTENSION

    assert set(WRITABLE) == set(SUPPORTED_EXTENSIONS) == set(FORMAT_BY_EXTENSION)


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["segment", "a.jpg"],  # no --out-dir
        ["segment", "a.jpg", "--out-dir", "o", "--format", "jpeg"],
        ["portrait", "a.jpg", "b.jpg", "-o", "x.jpg"],
        ["portrait", "a.jpg"],  # no destination
        ["portrait", "a.jpg", "-o", "x.gif"],
        ["portrait", "a.jpg", "--out-dir", "o", "--blur", "150"],
        ["portrait", "a.jpg", "--out-dir", "o", "--quality", "0"],
        ["portrait", "a.jpg", "-o", "x.jpg", "--out-dir", "o"],
    ],
)
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture) -> None:
    assert main(args) == 2
    assert "usage:" in capsys.readouterr().err


# ----------------------------------------------------------------------------- segment


def test_segment_alpha(tiny_model_dir: Path, photos: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("segment", *photos, "--out-dir", out, "--model", tiny_model_dir) == 0
    for photo in photos:
        with Image.open(out / f"{photo.stem}.png") as matte:
            assert matte.mode == "L" and matte.size == (W, H)
            values = np.asarray(matte)
        assert values[MIDDLE] == 255 and values[CORNER] == 0
        inside = synthetic_subject_mask(H, W)
        assert (values[inside] > 127).mean() > 0.95 and (values[~inside] <= 127).mean() > 0.95


def test_segment_oxford_trimap_values(
    tiny_model_dir: Path, photos: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = ("segment", photos[0], "--out-dir", out, "--format", "oxford")
    assert run_cli(*args, "--model", tiny_model_dir) == 0
    trimap = np.asarray(Image.open(out / "photo0.png"))
    assert trimap.shape == (H, W) and set(np.unique(trimap)) <= {1, 2, 3}
    assert trimap[MIDDLE] == 1 and trimap[CORNER] == 2


def test_segment_overlay(tiny_model_dir: Path, photos: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ("segment", photos[0], "--out-dir", out, "--format", "overlay")
    assert run_cli(*args, "--model", tiny_model_dir) == 0
    view = np.asarray(Image.open(out / "photo0.jpg")).astype(int)
    assert view.shape == (H, W, 3)
    # Subject and background are tinted differently (orange vs blue over the photo).
    assert view[MIDDLE][0] > view[MIDDLE][2] and view[CORNER][2] > view[CORNER][0]
    assert np.abs(view - synthetic_photo(H, W)).mean() > 10


# ---------------------------------------------------------------------------- portrait


def test_portrait_blurs_the_background_and_keeps_the_subject(
    tiny_model_dir: Path, photos: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert run_cli("portrait", *photos, "--out-dir", out, "--model", tiny_model_dir) == 0
    before = synthetic_photo(H, W).astype(float)
    after = np.asarray(Image.open(out / "photo0_portrait.png")).astype(float)
    assert after.shape == before.shape
    inside = synthetic_subject_mask(H, W)
    core = np.zeros_like(inside)
    core[H // 2 - 30 : H // 2 + 30, W // 2 - 20 : W // 2 + 20] = True
    background = np.zeros_like(inside)
    background[:40, :60] = True
    assert np.abs(after[core] - before[core]).mean() < 15
    # The checkered background texture is smoothed away.
    assert np.abs(after[background] - before[background]).mean() > 5
    assert after[background].std() < 0.6 * before[background].std()
    assert (out / "photo1_portrait.png").exists()


def test_portrait_single_output_file(
    tiny_model_dir: Path, photos: list[Path], tmp_path: Path
) -> None:
    target = tmp_path / "edited photo.webp"
    assert run_cli("portrait", photos[0], "-o", target, "--model", tiny_model_dir) == 0
    assert Image.open(target).format == "WEBP" and Image.open(target).size == (W, H)


def test_portrait_keeps_exif_orientation_and_icc(tiny_model_dir: Path, tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[ORIENTATION], exif[MAKE] = 6, "TestCam"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = write_photo(tmp_path / "cam.jpg", exif=exif.tobytes(), icc_profile=icc, quality=95)
    target = tmp_path / "out.jpg"
    assert run_cli("portrait", source, "-o", target, "--model", tiny_model_dir) == 0
    with Image.open(target) as result:
        assert result.size == (H, W)  # stored upright: the 320x240 file was turned
        tags = result.getexif()
        assert tags[ORIENTATION] == 1 and tags[MAKE] == "TestCam"
        assert result.info["icc_profile"] == icc


def test_non_ascii_paths_with_spaces(tiny_model_dir: Path, tmp_path: Path) -> None:
    source = write_photo(tmp_path / "Fotos Zoë 写真" / "mein Hund ü.jpg")
    out = tmp_path / "Ergebnisse é"
    assert run_cli("portrait", source, "--out-dir", out, "--model", tiny_model_dir) == 0
    assert Image.open(out / "mein Hund ü_portrait.jpg").size == (W, H)


# ----------------------------------------------------------------- failures, exit codes


def test_a_bad_file_among_good_ones(
    tiny_model_dir: Path, photos: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    bad = tmp_path / "in" / "notes.jpg"
    bad.write_text("not a photo")
    out = tmp_path / "out"
    args = ("segment", photos[0], bad, photos[1], "--out-dir", out)
    assert run_cli(*args, "--model", tiny_model_dir) == 1
    assert sorted(p.name for p in out.iterdir()) == ["photo0.png", "photo1.png"]
    err = capsys.readouterr().err
    assert "not a photo" in only_line(err, str(bad))
    assert "2 written, 1 failed" in err and "Traceback" not in err


def test_an_internal_error_is_one_line_and_the_batch_goes_on(
    tiny_model_dir: Path, photos: list[Path], tmp_path: Path, monkeypatch, capsys
) -> None:
    import petseg_gui.effects as effects

    real_render, calls = effects.render, []

    def render_with_a_bug(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("index out of range\nin some helper")
        return real_render(*args, **kwargs)

    monkeypatch.setattr(effects, "render", render_with_a_bug)
    out = tmp_path / "out"
    assert run_cli("portrait", *photos, "--out-dir", out, "--model", tiny_model_dir) == 1
    assert [p.name for p in out.iterdir()] == ["photo1_portrait.png"]
    err = capsys.readouterr().err
    line = only_line(err, "internal error")
    assert str(photos[0]) in line and "index out of range in some helper" in line
    assert "Traceback" not in err


def test_missing_model_folder(photos: list[Path], tmp_path: Path, capsys) -> None:
    args = ("segment", photos[0], "--out-dir", tmp_path / "out", "--model", tmp_path / "nope")
    assert run_cli(*args) == 1
    err = capsys.readouterr().err
    assert str(tmp_path / "nope") in err and "Traceback" not in err


def test_refuses_to_write_over_the_input_without_in_place(
    tiny_model_dir: Path, photos: list[Path], capsys: pytest.CaptureFixture
) -> None:
    original = photos[0].read_bytes()
    assert run_cli("portrait", photos[0], "-o", photos[0], "--model", tiny_model_dir) == 1
    assert "--in-place" in capsys.readouterr().err
    assert photos[0].read_bytes() == original
    assert run_cli("portrait", photos[0], "--in-place", "--model", tiny_model_dir) == 0
    assert photos[0].read_bytes() != original


def test_segment_never_writes_over_an_input(
    tiny_model_dir: Path, photos: list[Path], capsys: pytest.CaptureFixture
) -> None:
    original = photos[0].read_bytes()  # photo0.png: its alpha output would be photo0.png
    out_dir = photos[0].parent
    assert run_cli("segment", photos[0], "--out-dir", out_dir, "--model", tiny_model_dir) == 1
    assert photos[0].read_bytes() == original
    assert "would replace this photo" in capsys.readouterr().err


def test_existing_output_needs_overwrite(
    tiny_model_dir: Path, photos: list[Path], tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "photo0.png").write_bytes(b"keep me")
    args = ("segment", photos[0], "--out-dir", out, "--model", tiny_model_dir)
    assert run_cli(*args) == 1
    assert (out / "photo0.png").read_bytes() == b"keep me"
    assert "--overwrite" in capsys.readouterr().err
    assert run_cli(*args, "--overwrite") == 0
    assert Image.open(out / "photo0.png").size == (W, H)


def test_two_inputs_with_one_output_name(tiny_model_dir: Path, tmp_path: Path, capsys) -> None:
    first = write_photo(tmp_path / "a" / "dog.png")
    second = write_photo(tmp_path / "b" / "dog.jpg", seed=1)
    args = ("segment", first, second, "--out-dir", tmp_path / "out", "--model", tiny_model_dir)
    assert run_cli(*args) == 1
    assert "also the output of" in only_line(capsys.readouterr().err, str(second))


def enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_full_disk_leaves_no_partial_file_and_the_input_untouched(
    tiny_model_dir: Path, photos: list[Path], tmp_path: Path, monkeypatch, capsys
) -> None:
    original = photos[0].read_bytes()
    out = tmp_path / "out"
    monkeypatch.setattr(os, "fsync", enospc)
    assert run_cli("portrait", photos[0], "--out-dir", out, "--model", tiny_model_dir) == 1
    assert list(out.iterdir()) == []
    assert photos[0].read_bytes() == original
    assert "disk is full" in capsys.readouterr().err


def test_unwritable_output_folder(
    tiny_model_dir: Path, photos: list[Path], tmp_path: Path, monkeypatch, capsys
) -> None:
    # Tests run as root, where chmod does not stop writes: simulate the refusal instead.
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    out = tmp_path / "out"
    assert run_cli("segment", *photos, "--out-dir", out, "--model", tiny_model_dir) == 1
    err = capsys.readouterr().err
    assert err.count("permission denied") == 2 and "0 written, 2 failed" in err
    assert list(out.iterdir()) == []


def test_out_dir_that_is_a_file(photos: list[Path], tmp_path: Path, capsys) -> None:
    (tmp_path / "taken").write_text("a file")
    assert run_cli("segment", photos[0], "--out-dir", tmp_path / "taken") == 1
    assert "is a file, not a folder" in capsys.readouterr().err


def test_one_segmenter_for_the_whole_run(
    tiny_model_dir: Path, photos: list[Path], tmp_path: Path, monkeypatch
) -> None:
    import petseg_gui.inference as inference

    created = []

    class Counting(inference.Segmenter):
        def __init__(self, *args, **kwargs) -> None:
            created.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(inference, "Segmenter", Counting)
    three = [*photos, write_photo(tmp_path / "in" / "photo2.png", seed=2)]
    assert run_cli("segment", *three, "--out-dir", tmp_path / "out", "--model", tiny_model_dir) == 0
    assert len(created) == 1


# ----------------------------------------------------------------------------- Ctrl-C


def test_ctrl_c_stops_after_the_current_photo(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    import petseg_gui.imaging as imaging

    real_save = imaging.save_image

    def save_then_ctrl_c(*args, **kwargs) -> None:
        real_save(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)  # as if the user pressed Ctrl-C now

    monkeypatch.setattr(imaging, "save_image", save_then_ctrl_c)
    sources = [write_photo(tmp_path / "in" / f"p{i}.png", seed=i) for i in range(3)]
    out = tmp_path / "out"
    assert run_cli("segment", *sources, "--out-dir", out, "--model", tiny_model_dir) == 130
    assert [p.name for p in out.iterdir()] == ["p0.png"]
    assert "1 written, 0 failed, 2 left: stopped by Ctrl-C" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_second_ctrl_c_stops_at_once_without_partial_output(
    tiny_model_dir: Path, photos: list[Path], tmp_path: Path, monkeypatch
) -> None:
    def interrupted_while_writing(self, fp, *args, **kwargs) -> None:
        fp.write(b"half a photo")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", interrupted_while_writing)
    out = tmp_path / "out"
    assert run_cli("portrait", *photos, "--out-dir", out, "--model", tiny_model_dir) == 130
    assert list(out.iterdir()) == []


# ------------------------------------------------------------------- progress display


def test_progress_is_one_line_per_photo_when_not_a_terminal(
    tiny_model_dir: Path, photos: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "petseg_gui.cli", "segment", *map(str, photos)]
    command += ["--out-dir", str(out), "--model", str(tiny_model_dir)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("petseg:")]
    assert lines[0].startswith("petseg: [1/2]") and str(photos[0]) in lines[0]
    assert lines[1].startswith("petseg: [2/2]") and lines[2] == "petseg: 2 written, 0 failed"
    assert "\r" not in done.stderr and done.stdout == ""


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal() -> None:
    stream = FakeTerminal()
    progress = Progress(4, stream)
    progress.start(2, Path("dog.jpg"))
    assert "\r[" in stream.getvalue() and "2/4 dog.jpg" in stream.getvalue()
    progress.written(2, Path("dog.jpg"), Path("out/dog.png"))
    progress.line("1 written, 0 failed")
    assert stream.getvalue().endswith("\rpetseg: 1 written, 0 failed\n")


def test_argv_becomes_a_typed_plan(tmp_path) -> None:
    from petseg_gui.cli import CliRun, parse

    plan = parse(["portrait", "a.jpg", "b.png", "--out-dir", str(tmp_path), "--blur", "70"])
    assert plan == CliRun(
        command="portrait",
        images=(Path("a.jpg"), Path("b.png")),
        out_dir=tmp_path,
        blur=70.0,
    )
    segment = parse(["segment", "a.jpg", "--out-dir", "out", "--format", "oxford", "--tta"])
    assert (segment.command, segment.format, segment.tta, segment.output) == (
        "segment",
        "oxford",
        True,
        None,
    )
    with pytest.raises(SystemExit):
        parse(["portrait", "a.jpg"])  # no output given
