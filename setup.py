"""The compiled parts of petseg: the effect's passes in C (petseg_gui/effects/_fused.c, with the
disk blur in _disk.c) and the matte's full-resolution pass (petseg_gui/inference/_matte.c).
Optional: without a C compiler the install goes on and each takes its Python path (the same
numbers, slower). Everything else is in pyproject.toml."""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class BuildExt(build_ext):
    """No fused multiply-adds: the pass must round as numpy and OpenCV do, step by step (GCC and
    Clang contract ``a * b + c`` into one FMA wherever the target has them, e.g. -march=native).
    No trapping maths: lets GCC vectorise the clips and selects (comparisons of floats), which
    by default it keeps as branches in case a comparison traps; no value changes."""

    def build_extensions(self) -> None:
        if self.compiler.compiler_type == "unix":
            for extension in self.extensions:
                extension.extra_compile_args += ["-ffp-contract=off", "-fno-trapping-math"]
        super().build_extensions()


setup(
    ext_modules=[
        Extension(
            "petseg_gui.effects._fused",
            sources=["petseg_gui/effects/_fused.c", "petseg_gui/effects/_disk.c"],
            depends=[
                "petseg_gui/effects/_disk.h",
                "petseg_gui/native_module.h",
                "petseg_gui/native_passes.h",
            ],
            optional=True,
        ),
        Extension(
            "petseg_gui.inference._matte",
            sources=["petseg_gui/inference/_matte.c"],
            depends=["petseg_gui/native_module.h", "petseg_gui/native_passes.h"],
            optional=True,
        ),
    ],
    cmdclass={"build_ext": BuildExt},
)
