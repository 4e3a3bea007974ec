"""One training-data source as the trainer's ``--data`` option spells it.

``SOURCE[,weight=W][,class3=boundary|unknown]``: SOURCE is a folder (images/ + masks/, or the
Oxford-IIIT Pet layout) or ``oxford_iiit_pet`` (tensorflow-datasets). The app builds these
strings for the Retrain dialog and the trainer parses them, so the two never drift.

- ``weight``: how often each photo of this source is drawn relative to a photo of a source of
  weight 1 (default 1). An epoch holds sum(weight x photos) examples.
- ``class3``: what trimap value 3 means. ``boundary`` (default) is Oxford's thin band, a class
  the model learns, as in the paper. ``unknown`` marks pixels nobody knows (pseudo-labels where
  the labelling models disagreed): left out of the loss and of every metric.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CLASS3_BOUNDARY = "boundary"
CLASS3_UNKNOWN = "unknown"
CLASS3_MODES = (CLASS3_BOUNDARY, CLASS3_UNKNOWN)
_KEYS = ("weight", "class3")


class SourceSpecError(ValueError):
    """A ``--data`` value that cannot be read; ``str(err)`` says what to write instead."""


@dataclass(frozen=True)
class SourceSpec:
    location: str
    weight: float = 1.0
    class3: str = CLASS3_BOUNDARY

    def __post_init__(self) -> None:
        if not self.location:
            raise SourceSpecError("--data: empty source; give a folder or oxford_iiit_pet")
        if not (math.isfinite(self.weight) and self.weight > 0):
            raise SourceSpecError(
                f"--data {self.location}: weight {self.weight} must be a number above 0 (e.g. 0.5)"
            )
        if self.class3 not in CLASS3_MODES:
            raise SourceSpecError(
                f"--data {self.location}: class3={self.class3}; use class3=boundary (a band to "
                "learn) or class3=unknown (left out of loss and metrics)"
            )

    def to_text(self) -> str:
        """The ``--data`` value; the plain location when every option is the default."""
        parts = [self.location]
        if self.weight != 1.0:
            parts.append(f"weight={self.weight:g}")
        if self.class3 != CLASS3_BOUNDARY:
            parts.append(f"class3={self.class3}")
        return ",".join(parts)

    @property
    def name(self) -> str:
        """A short name for tables and metric keys: the folder's name (``pets``), or the
        tensorflow-datasets name."""
        text = self.location.rstrip("/\\")
        base = text.replace("\\", "/").rsplit("/", 1)[-1] or text
        return base.removeprefix("tfds:")


def parse_source_spec(text: str) -> SourceSpec:
    """``SourceSpec`` from ``SOURCE[,weight=W][,class3=MODE]``.

    Options are read from the end only while they look like ``key=value`` with a known key, so a
    folder whose name holds a comma still works.
    """
    location = text.strip()
    options: dict[str, str] = {}
    while "," in location:
        head, _, tail = location.rpartition(",")
        key, equals, value = tail.partition("=")
        key = key.strip()
        if not equals or key not in _KEYS:
            break
        if key in options:
            raise SourceSpecError(f"--data {text}: {key} given twice; keep one")
        options[key] = value.strip()
        location = head.strip()
    weight = 1.0
    if "weight" in options:
        try:
            weight = float(options["weight"])
        except ValueError:
            raise SourceSpecError(
                f"--data {text}: weight={options['weight']} is not a number; e.g. weight=0.5"
            ) from None
    return SourceSpec(location, weight, options.get("class3", CLASS3_BOUNDARY))


def unique_names(specs: list[SourceSpec]) -> list[str]:
    """One distinct short name per source (``people``, ``pets``, ``pets-2``...), in order."""
    names: list[str] = []
    for spec in specs:
        name, n = spec.name, 1
        while name in names:
            n += 1
            name = f"{spec.name}-{n}"
        names.append(name)
    return names
