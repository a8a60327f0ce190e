"""JavaScript/CSS the map pages use, and inlining them for offline pages.

gisrenew's maps load only Leaflet (no jQuery, Bootstrap, Font Awesome or d3:
popups, legends and the title box are plain HTML written by gisrenew). Online
pages link Leaflet from the CDN folium uses; offline pages (``offline=True``)
carry Leaflet's JS and CSS inline, with the images its CSS refers to as
``data:`` URIs, so the page opens with no network at all.

No third-party file is copied into gisrenew's repository: the files come at run
time from the maintained PyPI package ``XStatic-Leaflet`` (Leaflet, BSD-2-Clause;
see docs/THIRD_PARTY.md). The same local copies answer CDN requests in the
browser tests.
"""

from __future__ import annotations

import base64
import importlib
import mimetypes
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gisrenew.errors import MapAssetError

__all__ = [
    "ASSETS",
    "LEAFLET_CSS_URL",
    "LEAFLET_JS_URL",
    "Asset",
    "MapAssetError",
    "asset_for_url",
    "external_references",
    "inline_assets",
    "local_copy",
]

LEAFLET_VERSION = "1.9.3"
LEAFLET_JS_URL = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.js"
LEAFLET_CSS_URL = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.css"


@dataclass(frozen=True)
class Asset:
    """A third-party file served from an installed PyPI package.

    Attributes
    ----------
    name : str
        Short name (``leaflet``, ``leaflet_css``).
    filename : str
        File name that identifies the asset in a URL.
    module : str
        Python module of the package holding the file (an XStatic package).
    path : str
        Path of the file inside the package's data folder.
    package : str
        The PyPI distribution to install.
    license : str
        SPDX licence of the file.
    """

    name: str
    filename: str
    module: str
    path: str
    package: str
    license: str

    def file(self) -> Path:
        """Absolute path of the local copy; :class:`MapAssetError` when not installed."""
        try:
            mod = importlib.import_module(self.module)
        except ImportError:
            raise MapAssetError(
                f"offline maps need the Python package {self.package} (for {self.filename}). "
                f"Fix: pip install {self.package}"
            ) from None
        path = Path(mod.BASE_DIR) / self.path
        if not path.is_file():
            raise MapAssetError(f"{self.package} is installed but has no {self.path} ({path})")
        return path


ASSETS: dict[str, Asset] = {
    "leaflet": Asset(
        "leaflet",
        "leaflet.js",
        "xstatic.pkg.leaflet",
        "leaflet.js",
        "XStatic-Leaflet",
        "BSD-2-Clause",
    ),
    "leaflet_css": Asset(
        "leaflet_css",
        "leaflet.css",
        "xstatic.pkg.leaflet",
        "leaflet.css",
        "XStatic-Leaflet",
        "BSD-2-Clause",
    ),
}


def asset_for_url(url: str) -> Asset | None:
    """The local asset that can stand in for `url` (matched by file name), or None."""
    name = url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    for asset in ASSETS.values():
        if asset.filename == name:
            return asset
    return None


def local_copy(url: str) -> tuple[bytes, str] | None:
    """Bytes and MIME type of the local copy of `url` (a CDN file or an image it refers to).

    Used by tests (and intranet set-ups) to answer CDN requests without the internet.
    """
    asset = asset_for_url(url)
    if asset is not None:
        kind = "text/css" if asset.filename.endswith(".css") else "application/javascript"
        return asset.file().read_bytes(), kind
    # images referred to by leaflet.css (images/layers.png, marker-icon.png, ...)
    match = re.search(r"/leaflet@[^/]+/dist/(images/[\w.-]+)$", url.split("?", 1)[0])
    if match:
        path = ASSETS["leaflet_css"].file().parent / match.group(1)
        if path.is_file():
            return path.read_bytes(), mimetypes.guess_type(path.name)[
                0
            ] or "application/octet-stream"
    return None


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")


@lru_cache(maxsize=8)
def _inline_css(path: Path) -> str:
    css = path.read_text(encoding="utf-8")

    def replace(match: re.Match) -> str:
        ref = match.group(2).strip()
        if ref.startswith(("data:", "#")):
            return match.group(0)
        if re.match(r"^[a-z]+:", ref, re.I) or ref.startswith("//"):
            raise MapAssetError(f"{path.name} refers to a remote file {ref}; cannot inline it")
        target = (path.parent / ref).resolve()
        if not target.is_file():
            raise MapAssetError(f"{path.name} refers to {ref}, which is not in the package")
        return f'url("{_data_uri(target)}")'

    return _CSS_URL.sub(replace, css)


@lru_cache(maxsize=8)
def _inline_js(path: Path) -> str:
    js = path.read_text(encoding="utf-8")
    js = re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", js)
    # A script element ends at the first "</script"; keep the code from closing it.
    return re.sub(r"</(script)", r"<\\/\1", js, flags=re.I)


_SCRIPT_SRC = re.compile(r"<script\b[^>]*\bsrc\s*=\s*(['\"])([^'\"]+)\1[^>]*>\s*</script>", re.I)
_LINK_CSS = re.compile(r"<link\b[^>]*\bhref\s*=\s*(['\"])([^'\"]+)\1[^>]*/?>", re.I)


def external_references(html: str) -> list[str]:
    """URLs the page would fetch by itself: script/link/img sources, CSS ``url()``/``@import``."""
    refs = [m.group(2) for m in _SCRIPT_SRC.finditer(html)]
    refs += [m.group(2) for m in _LINK_CSS.finditer(html)]
    refs += re.findall(
        r"<(?:img|iframe|source|embed)\b[^>]*\bsrc\s*=\s*['\"]((?!data:)[^'\"]+)", html, re.I
    )
    refs += [
        m.group(2)
        for m in _CSS_URL.finditer(html)
        if re.match(r"^(?:https?:)?//", m.group(2).strip(), re.I)
    ]
    refs += re.findall(r"@import\s+(?:url\()?['\"]?([^'\");]+)", html, re.I)
    return refs


def inline_assets(html: str) -> str:
    """Return `html` with every linked script and stylesheet inlined from local copies.

    Raises
    ------
    MapAssetError
        When the page links a file gisrenew has no local copy of, or still refers
        to any external resource after inlining (the page would not work offline).
    """
    missing: list[str] = []

    def script(match: re.Match) -> str:
        url = match.group(2)
        asset = asset_for_url(url)
        if asset is None or not asset.filename.endswith(".js"):
            missing.append(url)
            return match.group(0)
        code = _inline_js(asset.file())
        return f"<script>/* {asset.filename} from {asset.package} */\n{code}</script>"

    def stylesheet(match: re.Match) -> str:
        url = match.group(2)
        asset = asset_for_url(url)
        if asset is None or not asset.filename.endswith(".css"):
            missing.append(url)
            return match.group(0)
        css = _inline_css(asset.file())
        return f"<style>/* {asset.filename} from {asset.package} */\n{css}</style>"

    html = _SCRIPT_SRC.sub(script, html)
    html = _LINK_CSS.sub(stylesheet, html)
    if missing:
        raise MapAssetError(
            "cannot make an offline page: no local copy of "
            + ", ".join(missing)
            + ". gisrenew's own maps use only Leaflet; remove the elements that need these files."
        )
    left = external_references(html)
    if left:
        raise MapAssetError("the offline page still refers to external files: " + ", ".join(left))
    return html
