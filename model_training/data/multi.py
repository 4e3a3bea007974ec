"""Several training sources in one run: parse the ``--data`` specs, load each, describe each.

Each source keeps its own split (an Oxford folder its official lists, a mask folder its seeded
hash split) and its own meaning of trimap value 3 (``class3``); ``pipeline.mix_sources``
interleaves their training parts by weight and the trainer validates each on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from model_training.errors import TrainingError
from petseg_gui.contract.data_sources import (
    CLASS3_UNKNOWN,
    SourceSpec,
    SourceSpecError,
    parse_source_spec,
    unique_names,
)

from .loading import DataSplits, load_data
from .sources import resolve_source

README_NAMES = ("README.md", "README.txt", "README")


@dataclass
class LoadedSource:
    name: str  # short, unique in the run: metric keys, tables, file names
    spec: SourceSpec
    splits: DataSplits


def parse_sources(values: list[str] | str | None) -> list[SourceSpec]:
    """The ``--data`` values as specs; TrainingError (one line, the fix) when one is wrong."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    try:
        return [parse_source_spec(v) for v in values]
    except SourceSpecError as err:
        raise TrainingError(str(err)) from None


def load_sources(
    specs: list[SourceSpec],
    *,
    image_size: int,
    validation_split: float = 0.2,
    seed: int = 0,
    skip_bad: bool = False,
    boundary_width: int | None = None,
    split: str = "train",
    train_image_size: int | None = None,
) -> list[LoadedSource]:
    """``load_data`` for each spec, in order. ``boundary_width`` applies to the sources that are
    folders of binary masks (the others carry their own band); refused if none is."""
    if not specs:
        raise TrainingError("--data: give at least one training source (a folder)")
    kinds = [resolve_source(spec.location) for spec in specs]
    if boundary_width is not None and "mask_folder" not in kinds:
        raise TrainingError(
            f"{specs[0].location}: the boundary width applies only to a folder of binary masks "
            "(Oxford trimaps carry their own border); leave it out"
        )
    loaded = []
    for spec, kind, name in zip(specs, kinds, unique_names(specs), strict=True):
        splits = load_data(
            spec.location,
            image_size=image_size,
            validation_split=validation_split,
            seed=seed,
            skip_bad=skip_bad,
            boundary_width=boundary_width if kind == "mask_folder" else None,
            split=split,
            train_image_size=train_image_size,
            class3=spec.class3,
        )
        splits.description.update(
            name=name, weight=spec.weight, labels=labels_text(kind, spec.class3)
        )
        readme = readme_title(spec.location) if kind != "tfds" else None
        if readme:
            splits.description["readme"] = readme
        loaded.append(LoadedSource(name, spec, splits))
    return loaded


def labels_text(kind: str, class3: str) -> str:
    """How a source's labels are read, for the card."""
    if kind == "mask_folder":
        band = "left out of loss and metrics" if class3 == CLASS3_UNKNOWN else "learned"
        return f"binary masks; a boundary band derived along the edge ({band})"
    if class3 == CLASS3_UNKNOWN:
        return "trimaps 1 subject / 2 background; 3 = unknown, left out of loss and metrics"
    return "trimaps 1 subject / 2 background / 3 boundary band, learned as a class (the paper)"


def readme_title(location: str) -> str | None:
    """The first line of a data folder's README (what the data is and its licence live there)."""
    for name in README_NAMES:
        path = Path(location).expanduser() / name
        if path.is_file():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.strip():
                    return line.strip().lstrip("#").strip()[:200]
    return None
