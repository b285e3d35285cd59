"""Build script: compiles the rs2fast Cython extensions.

Release builds (the default) are -O3 without debug information (-g0), which keeps the extension
modules about six times smaller. Environment switches:
  RS2FAST_DEBUG=1          bounds checks, wraparound checks and debug counters back on; -O0 -g.
  RS2FAST_EXTENSIONS=a,b   build only these extensions (e.g. "_heap"), for working on one kernel.
  RS2FAST_SANITIZE=address,undefined   build with these gcc sanitizers (-O1 -g, frame pointers kept).
"""
import glob
import os

from Cython.Build import cythonize
from setuptools import Extension, setup

EXTENSIONS = sorted(os.path.basename(p)[:-4] for p in glob.glob("rs2fast/*.pyx"))
DEBUG = os.environ.get("RS2FAST_DEBUG") == "1"

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "embedsignature": True,
    "embedsignature.format": "clinic",
}
compile_args = ["-Wall", "-Wno-unused-function"]
compile_args += ["-O0", "-g"] if DEBUG else ["-O3", "-g0"]
link_args = []
SANITIZE = os.environ.get("RS2FAST_SANITIZE")
if SANITIZE:
    sanitizer_flags = [f"-fsanitize={SANITIZE}", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"]
    compile_args += sanitizer_flags + ["-O1", "-g"]
    link_args += sanitizer_flags
macros = [("RS2FAST_DEBUG", "1" if DEBUG else "0")]

wanted = os.environ.get("RS2FAST_EXTENSIONS")
names = [n.strip() for n in wanted.split(",")] if wanted else EXTENSIONS

extensions = [
    Extension(
        f"rs2fast.{name}",
        [f"rs2fast/{name}.pyx"],
        include_dirs=["rs2fast"],
        define_macros=macros,
        extra_compile_args=compile_args,
        extra_link_args=link_args,
    )
    for name in names
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives=directives,
        compile_time_env={"RS2FAST_DEBUG": DEBUG},
    ),
    options={"build_ext": {"parallel": os.cpu_count() or 1}},   # one compiler per core
)
