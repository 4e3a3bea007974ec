"""The one compiled part of petseg: the lens blur's fused full-resolution pass
(petseg_gui/effects/_fused.c). Optional: without a C compiler the install goes on and the effect
takes its Python path (the same numbers, slower). Everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "petseg_gui.effects._fused",
            sources=["petseg_gui/effects/_fused.c"],
            optional=True,
        )
    ]
)
