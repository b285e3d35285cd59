"""Type checkers see rs2fast's real top-level names, and `inspect` sees the C classes' signatures."""
from __future__ import annotations

import ast
import enum
import importlib.util
import inspect
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import rs2fast
from rs2fast import _batch, _chunk, _cursor, _h264, _heap, _packets, _queue, _reorder, _ring

PACKAGE = Path(rs2fast.__file__).parent

USER_SCRIPT = '''
from __future__ import annotations

import queue
from datetime import timedelta

from rs2fast import (
    ChunkType,
    MediaChunk,
    MediaPriority,
    MediaPriorityQueue,
    MediaStream,
    MediaStreamingService,
    MediaType,
    QualityLevel,
    QueueEmpty,
    Rs2fastError,
    StreamStopped,
    ValidationFailed,
    crc32c,
)


def best_of(chunks: list[MediaChunk]) -> MediaChunk | None:
    waiting = MediaPriorityQueue(capacity=len(chunks) + 1)
    for chunk in chunks:
        waiting.enqueue(chunk)
    try:
        return waiting.get(timeout=0.0)
    except QueueEmpty:
        return None


stream = MediaStream("cam-1", 7, MediaType.VIDEO, QualityLevel.HIGH, 1024,
                     metadata={"max_chunks": 30, "frame_rate": "29.97"})
rate: float | None = stream.frame_rate
limit: int | None = stream.max_chunks
chunk = MediaChunk("cam-1", 0, b"frame", ChunkType.VIDEO_I_FRAME, MediaPriority.HIGH, timedelta(0))
size: int = len(chunk)
kind: ChunkType = chunk.chunk_type
checksum: int = crc32c(b"frame")
best = best_of([chunk])
stopped = StreamStopped("cam-1", 7, 0, 5, duration=0.17)
exact: float = stopped.duration
service: MediaStreamingService = MediaStreamingService(buffer_capacity=64)
service.shutdown()
try:
    raise ValidationFailed("Empty chunk data")
except ValueError as error:
    caught: Rs2fastError | ValueError = error
empty: type[queue.Empty] = QueueEmpty
'''


def run_mypy(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "user_script.py"
    path.write_text(textwrap.dedent(script))
    env = dict(os.environ)
    root = PACKAGE.parent
    if "site-packages" not in root.parts and "dist-packages" not in root.parts:
        env["MYPYPATH"] = str(root)   # a source tree: let mypy find the package there
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-error-summary",
         "--cache-dir", str(tmp_path / "mypy-cache"), str(path)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)


needs_mypy = pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                                reason="mypy is not installed (it comes with the test extra)")


@needs_mypy
def test_a_user_script_passes_mypy_strict(tmp_path):
    result = run_mypy(tmp_path, USER_SCRIPT + "\nreveal_type(stream)\nreveal_type(MediaChunk)\n")
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    errors = [line for line in lines if ": error:" in line]
    assert not errors, result.stdout + result.stderr
    revealed = [line for line in lines if "Revealed type" in line]
    assert 'Revealed type is "rs2fast.types.MediaStream"' in revealed[0]
    assert "-> rs2fast._chunk.MediaChunk" in revealed[1]   # a real constructor, not Any


@needs_mypy
def test_mypy_reports_a_type_error_in_a_user_script(tmp_path):
    result = run_mypy(tmp_path, USER_SCRIPT + '\nwrong: str = chunk.sequence_number\n'
                      'from rs2fast import NoSuchName\n')
    assert result.returncode == 1
    assert 'Incompatible types in assignment (expression has type "int", variable has type "str")' \
        in result.stdout
    assert "NoSuchName" in result.stdout


def test_the_user_script_runs():
    namespace: dict[str, object] = {"__name__": "user_script"}
    exec(compile(USER_SCRIPT, "user_script.py", "exec"), namespace)
    assert namespace["rate"] == 29.97 and namespace["limit"] == 30 and namespace["exact"] == 0.17
    assert namespace["best"] == namespace["chunk"]


def test_the_stub_lists_every_public_name():
    tree = ast.parse((PACKAGE / "__init__.pyi").read_text())
    imports = [node for node in tree.body if isinstance(node, ast.ImportFrom) and node.module != "__future__"]
    imported = {alias.asname for node in imports for alias in node.names}
    declared_all = next(ast.literal_eval(node.value) for node in tree.body
                        if isinstance(node, ast.Assign) and node.targets[0].id == "__all__")
    assert sorted(declared_all) == rs2fast.__all__
    assert imported == set(rs2fast.__all__)
    for node in imports:
        module = importlib.import_module(node.module)
        for alias in node.names:
            assert getattr(module, alias.name) is getattr(rs2fast, alias.asname)


# --- inspect ----------------------------------------------------------------------------------------

C_CLASSES = [_chunk.MediaChunk, _heap.PriorityHeap, _reorder.ReorderBuffer, _queue.QueueCore,
             _queue.QueueIterator, _ring.ChunkRing, _cursor.BatchCursor, _cursor.BatchIterator,
             _batch.ChunkBatch, _packets.PacketData, _packets.PacketChunker]
C_MODULES = [_batch, _chunk, _cursor, _h264, _heap, _packets, _queue, _reorder, _ring]


def public_callables():
    for cls in C_CLASSES:
        for name, member in vars(cls).items():
            if callable(member) and not name.startswith("_"):
                yield f"{cls.__name__}.{name}", getattr(cls, name)
    for module in C_MODULES:
        for name, member in vars(module).items():
            if not name.startswith("_") and callable(member) and not isinstance(member, type) \
                    and getattr(member, "__module__", None) == module.__name__:
                yield f"{module.__name__}.{name}", member


# A C class shows its signature to `inspect` through a class docstring that starts with the
# signature line ("Name(params)" then "--"), the form CPython reads into `__text_signature__`.
@pytest.mark.parametrize("cls", C_CLASSES + [_h264.NalUnitIterator], ids=lambda cls: cls.__name__)
def test_c_classes_have_signatures(cls):
    signature = inspect.signature(cls)
    assert list(signature.parameters) and "self" not in signature.parameters
    assert inspect.getdoc(cls).strip() and "--" not in inspect.getdoc(cls).splitlines()[0]


@pytest.mark.parametrize("name, function", list(public_callables()), ids=lambda value: value
                         if isinstance(value, str) else "")
def test_c_methods_and_functions_have_signatures(name, function):
    signature = inspect.signature(function)
    assert isinstance(signature, inspect.Signature), name


def test_media_chunk_signature_names_its_fields():
    parameters = inspect.signature(_chunk.MediaChunk).parameters
    assert list(parameters)[:4] == ["stream_id", "sequence_number", "data", "chunk_type"]
    assert parameters["timestamp_ns"].kind is inspect.Parameter.KEYWORD_ONLY
    assert list(inspect.signature(_chunk.MediaChunk.to_dict).parameters) == ["self"]


# --- enums -------------------------------------------------------------------------------------------

PUBLIC_ENUMS = [getattr(rs2fast, name) for name in rs2fast.__all__
                if isinstance(getattr(rs2fast, name), enum.EnumMeta)]


@pytest.mark.parametrize("cls", PUBLIC_ENUMS, ids=lambda cls: cls.__name__)
def test_every_public_enum_prints_as_class_dot_name(cls):
    for member in cls:
        expected = f"{cls.__name__}.{member.name}"
        assert str(member) == expected == f"{member}" == format(member) == "%s" % (member,)
    assert len(PUBLIC_ENUMS) >= 5
