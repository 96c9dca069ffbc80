"""Opening the input of a run: a path or stdin, as bytes, gzip read transparently.

Registries ship gzipped JSONL, so a gzip stream (found by its magic bytes, whatever its name) is
decompressed on the fly. Anything else that is not text (a zip archive, Parquet, an image, a
file with NUL bytes) is refused with an error that says what it looks like, instead of being
read as hundreds of garbage criteria. The output of a run may not be one of its inputs.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from critparse.errors import InputFormatError

_HEAD = 8192
# Magic numbers of the binary formats people most often hand over by mistake.
_MAGIC = (
    (b"PK\x03\x04", "a zip archive"), (b"PAR1", "a Parquet file"), (b"BZh", "a bzip2 file"),
    (b"\xfd7zXZ\x00", "an xz file"), (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"%PDF", "a PDF document"), (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
    (b"SQLite format 3", "an SQLite database"), (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"\xff\xfe", "UTF-16 text"), (b"\xfe\xff", "UTF-16 text"),
)
_GZIP = b"\x1f\x8b"
_READ_ERRORS = (OSError, EOFError, zlib.error)


@dataclass
class Source:
    """An opened input: `stream` to read, `raw` (the file itself) for progress, `name`."""

    stream: IO[bytes]
    raw: IO[bytes]
    name: str  # the file name without a ".gz" suffix: what the format is guessed from

    def close(self) -> None:
        for handle in (self.stream, self.raw):
            if handle is not sys.stdin.buffer:
                handle.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Gzip(gzip.GzipFile):
    """A gzip stream whose read errors (truncated, corrupt) are `InputFormatError`s."""

    label = "input"

    def _guard(self, method: str, *args: Any) -> Any:
        try:
            return getattr(super(), method)(*args)
        except _READ_ERRORS as exc:
            raise InputFormatError(f"damaged gzip data: {exc}", source=self.label) from None

    def read(self, size: int | None = -1) -> bytes:
        return self._guard("read", size)  # type: ignore[no-any-return]

    def read1(self, size: int = -1) -> bytes:
        return self._guard("read1", size)  # type: ignore[no-any-return]

    def readline(self, size: int | None = -1) -> bytes:
        return self._guard("readline", size)  # type: ignore[no-any-return]

    def peek(self, n: int = 0) -> bytes:
        return self._guard("peek", n)  # type: ignore[no-any-return]

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line


def _head(stream: IO[bytes]) -> bytes:
    peek = getattr(stream, "peek", None)
    if peek is not None:
        return bytes(peek(_HEAD)[:_HEAD])
    position = stream.tell()
    head = stream.read(_HEAD)
    stream.seek(position)
    return head


def binary_kind(head: bytes) -> str | None:
    """What the first bytes of a file look like when it is not text, else None."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if b"\x00" in head:
        return "binary data (NUL bytes)"
    return None


def open_input(source: str | Path) -> Source:
    """`source` ('-' is stdin) opened for reading bytes, gunzipped when it is gzip.

    Raises `InputFormatError` naming the file when it cannot be opened or is not text.
    """
    label = str(source)
    if label == "-":
        raw: IO[bytes] = sys.stdin.buffer
        name = "stdin"
    else:
        try:
            raw = Path(source).open("rb")  # noqa: SIM115 - closed by Source.close
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise InputFormatError(f"cannot open: {reason}", source=label) from exc
        name = Path(source).name
    try:
        stream = raw if getattr(raw, "peek", None) else cast(IO[bytes], io.BufferedReader(raw))  # type: ignore[type-var]
        if _head(stream).startswith(_GZIP):
            gz = _Gzip(fileobj=stream, mode="rb")
            gz.label = label
            stream, name = cast(IO[bytes], gz), re.sub(r"\.gz$", "", name, flags=re.IGNORECASE)
        kind = binary_kind(_head(stream))
        if kind is not None:
            raise InputFormatError(f"this is {kind}, not text; critparse reads JSON, JSONL or "
                                   "plain text, optionally gzip-compressed (.gz)", source=label)
    except BaseException:
        if raw is not sys.stdin.buffer:
            raw.close()
        raise
    return Source(stream, raw, name)


def open_source(source: str | Path) -> IO[bytes]:
    """The readable stream of `open_input` (the caller closes it)."""
    return open_input(source).stream


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(source: str | Path, *outputs: str | Path | IO[str] | None) -> None:
    """Refuse an output that is the input (or another output): it would be truncated first."""
    paths = [Path(o) for o in outputs if isinstance(o, (str, Path))]
    inputs = [Path(source)] if str(source) != "-" else []
    for i, out in enumerate(paths):
        for other in inputs:
            if _same(out, other) or out.resolve() == other.resolve():
                raise InputFormatError(f"the output {out} is the input; it would be overwritten"
                                       " before it is read", source=str(source))
        for later in paths[i + 1 :]:
            if _same(out, later) or out.resolve() == later.resolve():
                raise InputFormatError(f"{out} is given as two outputs")


_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_surrogates(text: str) -> tuple[str, bool]:
    """Lone surrogates (from JSON escapes such as "\\ud800") made U+FFFD: no encoder takes them."""
    if _SURROGATE.search(text) is None:
        return text, False
    return _SURROGATE.sub("\ufffd", text), True


__all__ = ["Source", "binary_kind", "check_outputs", "open_input", "open_source",
           "replace_surrogates"]
