"""Output files written safely: one atomic writer and one output guard (输出文件安全).

Every file gisrenew writes outside the project store goes through this module: the
result files of ``--out`` (GeoPackage, CSV, Excel), the published web pages and their
tables, and ``gisrenew.toml``. The project store itself (:mod:`gisrenew.project`) uses
the same writer for its work copies.

Atomic writer
    :func:`write_text` / :func:`write_bytes` write content held in memory;
    :func:`write_csv` writes a table for spreadsheets; :func:`atomic_path` lends a
    temporary file name to writers that need one (GDAL, pandas, openpyxl). New content
    goes to a temporary name in the target's folder, made by :mod:`tempfile`
    (unpredictable, created exclusively, so a planted symbolic link is never followed),
    is flushed to the disk (``fsync``) and then renamed over the target with
    ``os.replace`` — which replaces a symbolic link standing at the target instead of
    writing through it. On any error the temporary file goes and the
    old target stays as it was. A full disk (``ENOSPC``, ``EDQUOT``) or a refused
    permission becomes an :class:`~gisrenew.errors.OutputError` naming the file and
    the fix.
Output guard
    :func:`check_output` (a result file) and :func:`check_folder` (a site folder) run
    before any computation. They refuse an output that is one of the command's input
    files — compared by device and inode, so a hard or symbolic link to an input is
    caught, and a Shapefile's sidecar files count as the Shapefile — or a file gisrenew
    owns in a project folder, an unknown suffix, a folder link leading elsewhere, and a
    path that cannot be written.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pa_compute
import pyarrow.csv as pa_csv
import pyogrio.errors

from gisrenew.errors import GisrenewError, OutputError

__all__ = [
    "PROJECT_CACHE",
    "RESULT_SUFFIXES",
    "atomic_path",
    "check_folder",
    "check_output",
    "defuse_formulas",
    "find_clash",
    "input_files",
    "write_bytes",
    "write_csv",
    "write_failure",
    "write_text",
]

#: The folder of caches inside a project folder (maps drawn once, see
#: :mod:`gisrenew.webmap.drawcache`): rebuilt when missing, never copied with a project.
PROJECT_CACHE = ".gisrenew-cache"

#: Suffixes of result files (``--out``): GeoPackage layers, CSV or Excel tables.
RESULT_SUFFIXES = (".gpkg", ".csv", ".xlsx")

#: Formats whose one layer spans several files sharing a name (Shapefile, MapInfo).
_MULTI_FILE = {".shp", ".shx", ".dbf", ".prj", ".cpg", ".tab", ".mif", ".mid"}
#: Files SQLite (GeoPackage) keeps beside a database while it is open.
_SQLITE_SIDECARS = ("-journal", "-wal", "-shm")

_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}
_DISK_FULL_TEXT = ("no space left", "disk is full", "quota exceeded", "file too large")
_DENIED_TEXT = ("permission denied", "read-only file system", "readonly database")

PathLike = str | os.PathLike


# --------------------------------------------------------------------------- failures


def _failure_kind(exc: BaseException) -> str | None:
    """``full``, ``denied`` or ``other`` for an error of writing a file; None for a bug."""
    if isinstance(exc, OSError):
        if exc.errno in _DISK_FULL:
            return "full"
        return "denied" if exc.errno in _DENIED else "other"
    if isinstance(exc, (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError)):
        text = str(exc).lower()
        if any(words in text for words in _DISK_FULL_TEXT):
            return "full"
        if any(words in text for words in _DENIED_TEXT):
            return "denied"
        return "other" if isinstance(exc, pyogrio.errors.DataSourceError) else None
    return None


def write_failure(
    exc: BaseException, path: PathLike, *, error: type[GisrenewError] = OutputError
) -> GisrenewError | None:
    """The planner's message for a write of `path` that failed with `exc`.

    Parameters
    ----------
    exc : BaseException
        What the writer raised.
    path : path
        The file that was being written.
    error : type
        The :class:`~gisrenew.errors.GisrenewError` subclass to return.

    Returns
    -------
    GisrenewError or None
        A full disk, a refused permission or another operating-system failure as
        `error`, with the file and the fix; ``None`` when `exc` is not a failure to
        write (a programming error, to be raised as it is).
    """
    kind = _failure_kind(exc)
    if kind is None:
        return None
    target = Path(path)
    detail = getattr(exc, "strerror", None) or str(exc)[:300]
    unchanged = "nothing was written and the previous file, if any, is unchanged"
    if kind == "full":
        return error(
            f"{target}: the disk is full (or over its quota): {unchanged}. Fix: free space "
            f"on the disk holding {target.parent} (or write to another disk) and run again."
        )
    if kind == "denied":
        return error(
            f"{target}: no permission to write there ({detail}): {unchanged}. Fix: choose a "
            "folder you may write to, or ask its owner for write access."
        )
    return error(
        f"{target}: cannot be written ({detail}): {unchanged}. Fix: check the path (does "
        "every folder on the way exist, and is none of them a file?) and run again."
    )


def _raise_failure(exc: BaseException, target: Path, error: type[GisrenewError]) -> None:
    failure = write_failure(exc, target, error=error)
    if failure is None:
        raise exc
    raise failure from exc


# --------------------------------------------------------------------------- writer


def _default_mode() -> int:
    """Permissions of a new file under the process umask (mkstemp makes 0600 files)."""
    mask = os.umask(0o022)  # read the umask: it can only be read by setting it
    os.umask(mask)
    return 0o666 & ~mask


def _mode_for(target: Path) -> int:
    """Keep the permissions of the file being replaced; else the umask's default."""
    try:
        st = os.stat(target)
    except OSError:
        return _default_mode()
    return st.st_mode & 0o7777 if os.path.isfile(target) else _default_mode()


def _prepare(target: Path, error: type[GisrenewError]) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _raise_failure(exc, target, error)


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _commit(work: Path, target: Path, *, durable: bool = True) -> None:
    """Give `work` the target's permissions, flush it to the disk (when `durable`) and
    rename it over `target`."""
    os.chmod(work, _mode_for(target))
    if durable:
        fd = os.open(work, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    os.replace(work, target)
    if durable:
        _fsync_folder(target.parent)


def write_bytes(
    path: PathLike, data: bytes, *, error: type[GisrenewError] = OutputError, durable: bool = True
) -> Path:
    """Write `data` to `path` atomically (see the module notes).

    Parameters
    ----------
    path : path
        The file to write; missing folders are made.
    data : bytes
        The whole content.
    error : type
        Error class for a failed write (default :class:`~gisrenew.errors.OutputError`).
    durable : bool
        Flush the file and its folder to the disk before returning (default). False for
        a cache that is checked when read (a crash may lose it, never tear it).

    Returns
    -------
    Path
        `path`.
    """
    target = Path(path)
    _prepare(target, error)
    tmp: Path | None = None
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        tmp = Path(name)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        _commit(tmp, target, durable=durable)
        tmp = None
    except OSError as exc:
        _raise_failure(exc, target, error)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()
    return target


def write_text(path: PathLike, text: str) -> Path:
    """Write `text` to `path` as UTF-8, atomically (see :func:`write_bytes`)."""
    return write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_path(
    path: PathLike,
    *,
    prefix: str | None = None,
    verify: Callable[[Path], None] | None = None,
    error: type[GisrenewError] = OutputError,
) -> Iterator[Path]:
    """Lend a temporary file name for `path`; the file replaces `path` when the block ends.

    The name lies in a private folder (mode 0700, unpredictable name) made next to
    `path`, so writers that open files by name (GDAL, pandas, openpyxl) never meet a
    planted link. When the block ends without an exception the file is checked
    (`verify`), flushed to the disk and renamed over `path`; on any exception the
    temporary folder is removed and `path` is left as it was.

    Parameters
    ----------
    path : path
        The file to replace.
    prefix : str, optional
        Start of the temporary folder's name (default ``.<file name>.``).
    verify : callable, optional
        Called with the finished temporary file before it replaces `path`; raise to
        abort.
    error : type
        Error class for a failed write.

    Examples
    --------
    >>> with atomic_path("out.gpkg") as tmp:  # doctest: +SKIP
    ...     pyogrio.write_dataframe(frame, tmp, layer="parks", driver="GPKG")
    """
    target = Path(path)
    _prepare(target, error)
    try:
        workdir = Path(tempfile.mkdtemp(prefix=prefix or f".{target.name}.", dir=target.parent))
    except OSError as exc:
        _raise_failure(exc, target, error)
    work = workdir / target.name
    try:
        try:
            yield work
        except Exception as exc:  # the writer failed: a full disk is a message, not a bug
            if _failure_kind(exc) in ("full", "denied"):
                _raise_failure(exc, target, error)
            raise
        if verify is not None:
            verify(work)
        if not work.is_file():
            raise error(f"{target}: nothing was written (no layer or table to write)")
        try:
            _commit(work, target)
        except OSError as exc:
            _raise_failure(exc, target, error)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# --------------------------------------------------------------------------- tables

#: How a text starts that a spreadsheet would run as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _defused(value):
    """`value` with a leading ``'`` when a spreadsheet would run it as a formula."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def defuse_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix with ``'`` the text cells and headers a spreadsheet would run as a formula.

    A formula is text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return. Names, ids and column headers come from user data; a cell or a header such
    as ``=HYPERLINK(...)`` must reach the bureau's spreadsheet as text. Numbers are left
    alone.
    """
    frame = frame.copy(deep=False)  # columns are replaced, never changed in place
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object or pd.api.types.is_string_dtype(column):
            frame[name] = _defused_column(column)
    frame.columns = [_defused(str(c)) for c in frame.columns]
    return frame


def _defused_column(column: pd.Series) -> pd.Series:
    """:func:`_defused` of every cell of a text column, the test run over the column at once."""
    try:
        formula = column.str.startswith(_FORMULA_START, na=False).to_numpy(dtype=bool)
    except AttributeError:  # no text in the column (numbers, booleans kept as objects)
        return column.map(_defused)
    if not formula.any():
        return column
    column = column.copy()
    column[formula] = "'" + column[formula]
    return column


def write_csv(path: PathLike, frame: pd.DataFrame) -> Path:
    """Write a table for spreadsheets to `path`, atomically (see :func:`atomic_path`).

    UTF-8 with BOM (so Excel shows Chinese), no index column, formulas defused
    (:func:`defuse_formulas`). A full disk is an :class:`~gisrenew.errors.OutputError`
    and the old file stays. The bytes are those of :func:`csv_bytes`, streamed to the
    file by Arrow's writer (a city's table is never held twice in memory).
    """
    target = Path(path)
    frame = defuse_formulas(frame)
    made = _csv_table(frame)
    with atomic_path(target) as tmp:
        written = False
        if made is not None:
            with pa.OSFile(str(tmp), "wb") as sink:
                written = _write_csv_table(*made, sink)
        if not written:
            frame.to_csv(tmp, index=False, encoding="utf-8-sig")
    del made
    pa.default_memory_pool().release_unused()  # Arrow's pool keeps freed memory otherwise
    return target


def csv_bytes(frame: pd.DataFrame) -> bytes | None:
    """The bytes ``frame.to_csv(index=False, encoding="utf-8-sig")`` writes, made faster.

    Each column is written as pandas writes it — a float64 as Python's shortest
    ``repr`` (what pandas' ``astype(str)`` gives), each distinct value once; integers
    and booleans as ``str``; missing values empty — and Arrow's CSV writer joins the
    rows. None (write with pandas) when a column is of another kind (nullable, dates,
    categories, objects that are not text) or a cell would need quotes (``,``, ``"``,
    a line break), and for a frame of one column (the csv module quotes an empty row).
    """
    made = _csv_table(frame)
    if made is None:
        return None
    sink = pa.BufferOutputStream()
    return sink.getvalue().to_pybytes() if _write_csv_table(*made, sink) else None


def _csv_table(frame: pd.DataFrame) -> tuple[bytes, pa.Table] | None:
    """The header line (with the BOM) and the cells as text, or None (see :func:`csv_bytes`)."""
    if frame.shape[1] < 2:
        return None
    names = [str(c) for c in frame.columns]
    texts = [_csv_column(frame.iloc[:, i]) for i in range(frame.shape[1])]
    if any(t is None for t in texts) or _needs_quotes(pa.array(names, type=pa.string())):
        return None
    table = pa.table(dict(zip([f"c{i}" for i in range(len(texts))], texts, strict=True)))
    header = "\ufeff" + ",".join(names) + os.linesep
    return header.encode("utf-8"), table


def _write_csv_table(header: bytes, table: pa.Table, sink) -> bool:
    """Write the header and the rows to `sink`; False when a cell would need quotes."""
    sink.write(header)
    options = pa_csv.WriteOptions(include_header=False, quoting_style="none", eol=os.linesep)
    try:
        pa_csv.write_csv(table, sink, options)
    except pa.ArrowInvalid:  # a cell Arrow would have to quote after all
        return False
    return True


def _csv_column(column: pd.Series) -> pa.Array | None:
    """The CSV text of one column as pandas writes it, or None when it cannot say."""
    dtype = column.dtype
    if dtype == np.float64:
        return _float_text(column.to_numpy())
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return pa_compute.cast(pa.array(column.to_numpy()), pa.string())  # as ``str`` does
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        words = np.array(["False", "True"], dtype=object)
        return pa.array(words[column.to_numpy().astype(np.intp)], type=pa.string())
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        text = _text_cells(column)
        return None if text is None or _needs_quotes(text) else text
    return None


def _text_cells(column: pd.Series) -> pa.Array | None:
    """A column of text (missing: empty) as Arrow strings, or None when a cell is not text.

    Arrow-backed strings are taken as they are; Arrow reads Python objects in C and
    refuses mixed ones (numbers and text, bytes give another type: pandas then writes).
    """
    try:
        cells = pa.array(column, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    if pa.types.is_null(cells.type):
        cells = cells.cast(pa.string())
    if pa.types.is_large_string(cells.type) or pa.types.is_string_view(cells.type):
        cells = cells.cast(pa.string())
    if not pa.types.is_string(cells.type):
        return None
    return pa_compute.fill_null(cells, "")


#: Python's ``repr`` writes an exponent below 1e-4 and from 1e16 (Arrow: by length too).
_PLAIN_FLOATS = (1e-4, 1e15)


def _float_text(values: np.ndarray) -> pa.Array:
    """Python's ``repr`` of each float (empty for NaN), as pandas writes it, a column at once.

    Arrow's cast writes the same shortest round-trip digits but drops the ``.0`` of an
    integral value (added back here) and words exponents its own way: a value Arrow
    writes with an exponent, or outside :data:`_PLAIN_FLOATS`, takes ``repr`` (each
    distinct one once).
    """
    text = pa_compute.cast(pa.array(values, from_pandas=True), pa.string())
    offsets, data = _string_buffers(text)
    magnitude = np.abs(values)
    finite = np.isfinite(values)
    low, high = _PLAIN_FLOATS
    odd = finite & (values != 0) & ((magnitude < low) | (magnitude >= high))
    odd[np.searchsorted(offsets, np.flatnonzero(data == ord("e")), side="right") - 1] = True
    integral = finite & ~odd & (np.floor(values) == values)
    if integral.any():
        text = pa_compute.if_else(
            pa.array(integral), pa_compute.binary_join_element_wise(text, ".0", ""), text
        )
    if odd.any():
        distinct, codes = np.unique(values[odd], return_inverse=True)
        words = np.asarray(list(map(repr, distinct.tolist())), dtype=object)
        out = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
        out[odd] = words[codes.ravel()]
        text = pa.array(out, type=pa.string())
    return pa_compute.fill_null(text, "")


def _string_buffers(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The offsets (``n + 1``) and bytes of an Arrow string array, as NumPy arrays."""
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)
    offsets = offsets[text.offset : text.offset + len(text) + 1]
    body = text.buffers()[2]
    data = np.frombuffer(body, dtype=np.uint8) if body is not None else np.zeros(0, np.uint8)
    return offsets, data[: offsets[-1]]


def _needs_quotes(cells: pa.Array) -> bool:
    """True when a cell holds a character the csv module would quote it for."""
    return bool(pa_compute.any(pa_compute.match_substring_regex(cells, '[,"\r\n]')).as_py())


# --------------------------------------------------------------------------- guard


def input_files(path: PathLike) -> list[Path]:
    """The files a command reads for input `path`.

    The file itself, SQLite's ``-journal``/``-wal``/``-shm`` files beside a
    GeoPackage, and for a Shapefile (or MapInfo table) every file sharing its name
    (``.shp``, ``.shx``, ``.dbf``, ``.prj``, ``.cpg``, ``.shp.xml``, ...).
    """
    source = Path(path)
    files = [source, *(source.with_name(source.name + s) for s in _SQLITE_SIDECARS)]
    if source.suffix.lower() in _MULTI_FILE and source.parent.is_dir():
        stem = source.stem.lower() + "."
        files += [p for p in source.parent.iterdir() if p.name.lower().startswith(stem)]
    return files


def _identity(path: Path) -> tuple[int, int] | None:
    """Device and inode of the file at `path` (links followed); None when absent."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _guarded(inputs: Iterable[PathLike], protected: Iterable[PathLike]) -> dict:
    """``{(device, inode): (file, what it is)}`` of every existing input and protected file."""
    guarded: dict[tuple[int, int], tuple[Path, str]] = {}
    for source in inputs:
        for file in input_files(source):
            if (ident := _identity(file)) is not None:
                guarded.setdefault(ident, (file, "an input file of this command"))
    for file in protected:
        if (ident := _identity(Path(file))) is not None:
            guarded.setdefault(ident, (Path(file), "a file of a gisrenew project"))
    return guarded


def find_clash(
    path: PathLike, *, inputs: Iterable[PathLike] = (), protected: Iterable[PathLike] = ()
) -> tuple[Path, str] | None:
    """The input or protected file that `path` is, by device and inode; None when none is.

    Returns ``(file, "an input file of this command" | "a file of a gisrenew project")``.
    Inputs count with their sidecars (:func:`input_files`); a hard or symbolic link to
    a file is that file. A CSV output counts with the ``<stem>_*.csv`` files it writes.
    """
    guarded = _guarded(inputs, protected)
    for target in _targets(Path(path)):
        hit = guarded.get(_identity(target))
        if hit is not None:
            return hit
    return None


def _check_writable(out: Path) -> None:
    if out.is_dir():
        raise OutputError(f"{out} is a folder. Fix: give a file name, e.g. {out / 'results.gpkg'}")
    existing = out.parent
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(
            f"{out}: cannot be written: {existing} is a file, not a folder. Fix: give a "
            "path whose folders are folders."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(
            f"{out}: no permission to write in {existing}. Fix: choose a folder you may "
            "write to, or ask its owner for write access."
        )


def _targets(out: Path) -> list[Path]:
    """The files writing `out` may replace (a CSV output writes ``<stem>_<table>.csv``)."""
    targets = [out]
    if out.suffix.lower() == ".csv" and out.parent.is_dir():
        targets += sorted(out.parent.glob(f"{glob.escape(out.stem)}_*.csv"))
    return targets


def check_output(
    path: PathLike,
    *,
    inputs: Iterable[PathLike] = (),
    protected: Iterable[PathLike] = (),
    suffixes: tuple[str, ...] = RESULT_SUFFIXES,
    overwrite: bool = True,
) -> Path:
    """Refuse an output file that would replace an input, a project file, or cannot be written.

    Call it before any computation, so a mistake costs nothing.

    Parameters
    ----------
    path : path
        The output (``--out``).
    inputs : iterable of path
        The command's input files; with their sidecars (:func:`input_files`).
    protected : iterable of path
        Further files that must never be replaced: a project's GeoPackage,
        ``gisrenew.toml``, its lock and work files (see
        :func:`gisrenew.project.owned_files`).
    suffixes : tuple of str
        Accepted suffixes (lower case); empty accepts any.
    overwrite : bool
        False: an existing output (for ``.csv``, any ``<stem>_<table>.csv``) is refused
        too (the command line's default, until ``--overwrite``).

    Returns
    -------
    Path
        `path`.

    Raises
    ------
    OutputError
        For an unknown suffix, a path that cannot be written, or an output that is
        (or is a hard or symbolic link to) an input or protected file.
    """
    out = Path(path)
    if suffixes and out.suffix.lower() not in suffixes:
        raise OutputError(
            f"{out}: unknown output type {out.suffix or '(no suffix)'!r}; results are written "
            f"as {', '.join(suffixes)}. Fix: end the file name in one of them, e.g. "
            f"{out.with_suffix(suffixes[0]).name}"
        )
    _check_writable(out)
    hit = find_clash(out, inputs=inputs, protected=protected)
    existing = [target for target in _targets(out) if target.exists()]
    if hit is None and existing and not overwrite:
        raise OutputError(
            f"{existing[0]} exists. Fix: pass --overwrite to replace it, or choose another "
            "output name."
        )
    if hit is not None:
        raise OutputError(
            f"{out}: writing the results would replace {hit[0]}, {hit[1]} (the same file, "
            "or a link to it). Fix: write the results to a new file name."
        )
    return out


def _refuse_outside(link: Path, root: Path, fix: str) -> None:
    real = link.resolve()
    base = root.resolve()
    if real != base and base not in real.parents:
        raise OutputError(
            f"{link} is a symbolic link to {real}, outside {root}: gisrenew would write "
            f"there. Fix: {fix}"
        )


def check_folder(folder: PathLike, *, subfolders: Iterable[str] = ("tables",)) -> Path:
    """Refuse an output folder (a published site) that cannot safely be written.

    Parameters
    ----------
    folder : path
        The folder (made when missing).
    subfolders : iterable of str
        Sub-folders gisrenew writes into; each must be a folder inside `folder`.

    Returns
    -------
    Path
        `folder`.

    Raises
    ------
    OutputError
        When `folder` is a file, a symbolic link leading out of its parent folder,
        has a sub-folder that is a file or a link leading out of it, or cannot be
        written.
    """
    site = Path(folder)
    if site.exists() and not site.is_dir():
        raise OutputError(f"{site} is a file, not a folder. Fix: give a folder for the site.")
    if site.is_symlink():
        _refuse_outside(site, site.parent, f"give the real folder instead: {site.resolve()}")
    for name in subfolders:
        sub = site / name
        if sub.is_symlink():
            _refuse_outside(sub, site, f"delete the link {sub}; gisrenew makes the folder itself.")
        elif sub.exists() and not sub.is_dir():
            raise OutputError(f"{sub} is a file; gisrenew needs a folder there. Fix: move it away.")
    _check_writable(site / "index.html")
    return site
