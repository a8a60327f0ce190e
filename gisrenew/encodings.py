"""The text encoding of a Shapefile's attributes (.dbf), decided from the .cpg and the bytes.

Rules (README, "Loading your own data"):

* a ``.cpg`` file is honoured in every spelling ESRI and desktop GIS write: ``ANSI 936``,
  ``936``, ``CP936``, ``GBK``, ``GB2312`` (read as GBK, its superset), ``GB18030``,
  ``UTF-8``, ``utf8``, ``65001``, ``ANSI 950``/``950``/``Big5`` (read as CP950), other
  code pages (``ANSI 1252`` → CP1252) and ``88591`` … (ISO-8859-x);
* a ``.cpg`` that contradicts the bytes is not believed, with a warning: bytes that are
  valid UTF-8 with multi-byte characters are read as UTF-8 whatever the ``.cpg`` says
  (GBK text is practically never valid UTF-8, while UTF-8 read as GBK is silent
  mojibake); a ``.cpg`` saying UTF-8 over bytes that are not UTF-8 falls back to
  detection; an unknown ``.cpg`` value too;
* without a ``.cpg``: valid UTF-8 (or plain ASCII) is UTF-8 — unless it holds no
  Chinese (three-byte) character but two-byte ones beyond Latin-1 (one GBK character
  in six is such a sequence: 苑 = D4 B7 = "Է") and its GBK reading is common
  characters; otherwise the bytes are decoded as GB18030 (a superset of GBK/GB2312,
  mainland desktop GIS) and as Big5 (CP950, Taiwan/Hong Kong) and the reading in
  which more of the characters are the standard's *common* ones wins — GB2312
  level 1 (the 3755 常用字) and punctuation for GB18030, Big5's 常用字 block
  (A440–C67E) and symbols for Big5; a tie goes to GB18030. Big5 is reported as a
  warning; a GB18030 reading in which fewer than half the characters are common
  ones is reported as implausible text.

Measured on random values of 1/2/3/5 characters (GBK: 80 % level-1, 20 % level-2
hanzi): GBK read as GBK 97.7/99.3/99.9/100 % (the rest: Latin-1 look-alikes such as
路 = C2 B7 = "·", read as UTF-8), never as Big5; Big5 found 61/85/95/99 %; UTF-8
Chinese always UTF-8; "Café", "m²", Cyrillic and Greek UTF-8 stay UTF-8.
``charset-normalizer`` (installed with requests) was measured too and not adopted:
restricted to UTF-8/GB18030/Big5 it read only 1/4/8 % of one/two/three-character
GBK values as GB18030 (it prefers Big5 on short input).

An explicit ``encoding=`` (``--encoding``) overrides everything here.
"""

from __future__ import annotations

import codecs
import functools
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from gisrenew.errors import EncodingError

__all__ = ["EncodingChoice", "choose_shapefile_encoding", "encoding_from_cpg"]

#: Bytes of .dbf records read to decide (the header's field names are always read).
SAMPLE_BYTES = 4_000_000
#: Characters whose commonness is scored.
_SCORED_CHARS = 20_000
#: Below this share of common characters (with at least four non-ASCII characters)
#: decoded text is called implausible.
_PLAUSIBLE_SHARE = 0.5
#: Valid UTF-8 without Chinese (three-byte) characters is read as GBK instead only when
#: at least this share of the GBK reading is common characters (Cyrillic UTF-8 reads
#: about half common).
_GBK_OVER_UTF8_SHARE = 0.9

_CPG_NAMES = {
    "65001": "UTF-8",
    "UTF8": "UTF-8",
    "936": "GBK",
    "CP936": "GBK",
    "GBK": "GBK",
    "GB2312": "GBK",  # GBK is a superset of GB2312
    "EUCCN": "GBK",
    "GB18030": "GB18030",
    "54936": "GB18030",
    "950": "CP950",  # Microsoft's Big5, a superset of it
    "CP950": "CP950",
    "BIG5": "CP950",
    "BIG5HKSCS": "BIG5-HKSCS",
}


@dataclass(frozen=True)
class EncodingChoice:
    """The encoding to read a Shapefile with, and why.

    Attributes
    ----------
    encoding : str
        Codec name GDAL and Python both know (``UTF-8``, ``GBK``, ``GB18030``, ``CP950``, ...).
    how : {"cpg", "detected", "default"}
        From the ``.cpg`` file, detected from the bytes, or UTF-8 for lack of text.
    warning : str or None
        Set when the choice contradicts the ``.cpg`` or rests on a guess the planner
        should check (Big5, implausible text): a sentence for a warning ``Problem``.
    """

    encoding: str
    how: str
    warning: str | None = None


def encoding_from_cpg(text: str) -> str | None:
    """The codec a ``.cpg`` file names, or ``None`` when it names none Python knows.

    Examples
    --------
    >>> encoding_from_cpg("ANSI 936"), encoding_from_cpg("utf8"), encoding_from_cpg("88591")
    ('GBK', 'UTF-8', 'ISO-8859-1')
    """
    value = re.sub(r"^ANSI[\s_-]*", "", text.strip().upper())
    compact = re.sub(r"[\s_-]", "", value)
    if compact in _CPG_NAMES:
        return _CPG_NAMES[compact]
    iso = re.fullmatch(r"(?:ISO)?8859(\d{1,2})", compact)
    candidate = (
        f"ISO-8859-{iso[1]}" if iso else f"CP{compact}" if compact.isdigit() else value.strip()
    )
    try:
        codecs.lookup(candidate)
    except LookupError:
        return None
    return candidate


def _sidecar(path: Path, suffix: str) -> Path | None:
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.exists():
            return candidate
    return None


def _dbf_sample(dbf: Path | None) -> bytes:
    """Field names and the first :data:`SAMPLE_BYTES` of whole records of a ``.dbf``."""
    if dbf is None:
        return b""
    with open(dbf, "rb") as handle:
        head = handle.read(32)
        if len(head) < 32:
            return b""
        n_records, header_length, record_length = struct.unpack("<IHH", head[4:12])
        names = handle.read(max(header_length - 32, 0))
        whole = min(n_records, SAMPLE_BYTES // max(record_length, 1)) * record_length
        records = handle.read(whole)
    return names + b" " + records


@functools.cache
def _is_common(char: str, standard: str) -> bool:
    """True when `char` is in the common block of `standard` (``gb`` or ``big5``)."""
    try:
        raw = char.encode("gb2312" if standard == "gb" else "big5")
    except UnicodeEncodeError:
        return False
    if len(raw) != 2:
        return False
    if standard == "gb":  # punctuation rows A1–A3, level-1 hanzi B0–D7
        return 0xA1 <= raw[0] <= 0xA3 or 0xB0 <= raw[0] <= 0xD7
    code = raw[0] << 8 | raw[1]  # symbols A140–A3BF, common hanzi A440–C67E
    return 0xA140 <= code <= 0xA3BF or 0xA440 <= code <= 0xC67E


def _common_share(text: str, standard: str) -> tuple[float, int]:
    """Share of the non-ASCII characters of `text` that are common ones, and their number."""
    chars = [c for c in text[: _SCORED_CHARS * 4] if c > "\x7f"][:_SCORED_CHARS]
    if not chars:
        return 1.0, 0
    return sum(_is_common(c, standard) for c in chars) / len(chars), len(chars)


def _decodes(sample: bytes, codec: str) -> str | None:
    try:
        return sample.decode(codec)
    except UnicodeDecodeError:
        return None


def _looks_like_utf8(text: str) -> bool:
    """Valid UTF-8 that is not short GBK text in disguise.

    One GBK character in six is also a valid two-byte UTF-8 sequence (U+0100–U+07FF:
    Latin Extended, Greek, Cyrillic, ...); Chinese UTF-8 text has three-byte characters
    (U+0800 and up), and Latin-1 signs (°, ², é) stay UTF-8.
    """
    wide = [c for c in text if c > "\xff"]
    return not wide or any(c >= "\u0800" for c in wide)


def _detect(sample: bytes, path: Path) -> EncodingChoice:
    """Encoding of `sample` (no trustworthy .cpg): UTF-8, GB18030 or Big5 (CP950)."""
    utf8_text, gb_text = _decodes(sample, "utf-8"), _decodes(sample, "gb18030")
    if utf8_text is not None and (
        _looks_like_utf8(utf8_text)
        or gb_text is None
        or _common_share(gb_text, "gb")[0] < _GBK_OVER_UTF8_SHARE
    ):
        return EncodingChoice("UTF-8", "detected" if sample.strip() else "default")
    big5_text = _decodes(sample, "cp950")
    if gb_text is None and big5_text is None:
        raise EncodingError(
            f"{path}: the attribute text is neither UTF-8 nor GBK/GB18030 nor Big5 and there "
            "is no usable .cpg file. Fix: pass the encoding explicitly (`--encoding CP1252`, "
            "`encoding=` in Python, or `encoding` for this layer in gisrenew.toml), or add a "
            ".cpg file next to the .shp."
        )
    gb_share, n_chars = _common_share(gb_text, "gb") if gb_text is not None else (-1.0, 0)
    big5_share = _common_share(big5_text, "big5")[0] if big5_text is not None else -1.0
    if big5_share > gb_share:
        return EncodingChoice(
            "CP950",
            "detected",
            "the attribute text was detected as Big5 (traditional Chinese, code page 950). "
            "If names look wrong, pass the encoding (`--encoding GBK`) or add a .cpg file",
        )
    if n_chars >= 4 and gb_share < _PLAUSIBLE_SHARE:
        return EncodingChoice(
            "GB18030",
            "detected",
            f"the attribute text read as GBK/GB18030 looks implausible (only {gb_share:.0%} "
            "of its characters are common ones): the file may use another encoding. Check "
            "the names; if they look garbled pass `--encoding` or add a .cpg file",
        )
    return EncodingChoice("GB18030", "detected")


def choose_shapefile_encoding(path: str | os.PathLike) -> EncodingChoice:
    """Decide how a Shapefile's attribute text is encoded (see the module rules).

    Raises
    ------
    EncodingError
        When neither the ``.cpg`` nor the bytes give a usable encoding.
    """
    path = Path(path)
    sample = _dbf_sample(_sidecar(path, ".dbf"))
    cpg = _sidecar(path, ".cpg")
    if cpg is None:
        return _detect(sample, path)
    written = cpg.read_text(encoding="ascii", errors="replace").strip()
    declared = encoding_from_cpg(written)
    if declared is None:
        found = _detect(sample, path)
        note = f"the .cpg file says {written!r}, which names no encoding gisrenew knows"
        return EncodingChoice(found.encoding, "detected", f"{note}; read as {found.encoding}")
    utf8 = declared == "UTF-8"
    as_utf8 = _decodes(sample, "utf-8")
    if not utf8 and as_utf8 is not None and any(c >= "\u0800" for c in as_utf8):
        return EncodingChoice(
            "UTF-8",
            "detected",
            f"the .cpg file says {written!r} but the attribute bytes are UTF-8 (valid "
            "multi-byte UTF-8 sequences): read as UTF-8. If names look wrong, pass "
            f"`--encoding {declared}`; otherwise correct the .cpg to UTF-8",
        )
    if utf8 and as_utf8 is None:
        found = _detect(sample, path)
        return EncodingChoice(
            found.encoding,
            "detected",
            f"the .cpg file says {written!r} but the attribute bytes are not UTF-8: read as "
            f"{found.encoding}. Correct the .cpg, or pass `--encoding`",
        )
    return EncodingChoice(declared, "cpg")
