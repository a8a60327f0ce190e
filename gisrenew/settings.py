"""One reader for every setting gisrenew reads: the tables of ``gisrenew.toml``.

Each table of ``gisrenew.toml`` (``[project]``, ``[residential]``, ``[coverage]``,
``[network]``, ``[plans]``, ``[maps]``, ``[sites]``, ``[life_circles]``, ``[report]``) is
a frozen dataclass below whose fields are the table's keys; each field carries its type,
bounds and meaning (:func:`setting`). :func:`read_section` checks a parsed TOML table
against it, so every command reads every setting the same way:

* an unknown key is an error naming the known ones (a typo never falls back to a
  default silently);
* a value of the wrong type is an error — TOML's ``true``/``false`` are booleans, the
  text ``"false"`` is not; a list must be a list (``["G12"]``, not ``"G12"``);
* numbers must be finite and within their bounds (``nan``, ``inf``, ``-5`` are refused);
* every problem of a file is reported at once.

The same machinery checks rule-set files (:mod:`gisrenew.rules`). Command-line options
are applied as overrides of these tables (:func:`merge_overrides`) and checked by the
same reader, so an option and the setting it overrides cannot disagree.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pyproj import CRS
from pyproj.exceptions import CRSError as PyprojCRSError

from gisrenew.errors import GisrenewError, ProjectError

__all__ = [
    "SECTIONS",
    "CoverageSettings",
    "LayerSource",
    "LifeCircleSettings",
    "MapSettings",
    "NetworkSettings",
    "PlanSettings",
    "ProjectSettings",
    "ReportSettings",
    "ResidentialSettings",
    "SiteSettings",
    "check_value",
    "has_password",
    "is_database",
    "merge_overrides",
    "problems_message",
    "read_section",
    "section_problems",
    "setting",
    "settings_table_markdown",
    "store_label",
    "store_problems",
]

#: Walking speed of the ten-minute walk when none is set (10 min at 4.8 km/h = 800 m).
DEFAULT_WALK_SPEED_KMH = 4.8
#: Minutes of the ten-minute walk (十分钟) when a speed is given without minutes.
DEFAULT_WALK_MINUTES = 10.0

#: Value kinds a setting can have.
KINDS = ("text", "bool", "number", "integer", "text_list", "choice", "text_table", "crs")


def setting(
    kind: str,
    doc: str,
    *,
    default: Any = None,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
    choices: Sequence[str] = (),
    example: str = "",
) -> Any:
    """A dataclass field that is a setting: its kind, meaning and bounds.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    doc : str
        What the setting means (shown in errors and in the README table).
    default : optional
        Value when the key is absent (lists as tuples).
    minimum, maximum : float, optional
        Inclusive bounds of a number.
    above : float, optional
        Exclusive lower bound of a number (``above=0``: positive).
    choices : sequence of str
        Allowed values of a ``choice``.
    example : str
        A valid TOML value, shown in the fix of an error.
    """
    if kind not in KINDS:
        raise ValueError(f"`kind` was {kind!r} but is expected to be one of {KINDS}")
    meta = {
        "kind": kind,
        "doc": doc,
        "minimum": minimum,
        "above": above,
        "maximum": maximum,
        "choices": tuple(choices),
        "example": example,
    }
    return field(default=default, metadata=meta)


# --------------------------------------------------------------------------- checking


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f'the text "{value}"'
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"{type(value).__name__} {value!r}"


def _check_number(value: Any, meta: Mapping[str, Any], integer: bool) -> tuple[Any, str]:
    wanted = "a whole number" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, f"must be {wanted} (without quotes), got {_describe(value)}"
    if integer and not isinstance(value, int):
        return None, f"must be a whole number, got {value!r}"
    if not math.isfinite(value):
        return None, f"must be a finite number, got {value!r}"
    if meta["above"] == 0 and not value > 0:
        return None, f"must be positive (greater than 0), got {value!r}"
    if meta["above"] is not None and not value > meta["above"]:
        return None, f"must be greater than {meta['above']:g}, got {value!r}"
    if meta["minimum"] is not None and value < meta["minimum"]:
        return None, f"must be at least {meta['minimum']:g}, got {value!r}"
    if meta["maximum"] is not None and value > meta["maximum"]:
        return None, f"must be at most {meta['maximum']:g}, got {value!r}"
    return (int(value) if integer else float(value)), ""


def _check_text_list(value: Any) -> tuple[Any, str]:
    if not isinstance(value, list):
        return None, f'must be a list of texts such as ["R", "07"], got {_describe(value)}'
    bad = [v for v in value if not isinstance(v, str)]
    if bad:
        return None, f"must hold texts only (in quotes), got {_describe(bad[0])}"
    return tuple(value), ""


def _check_text_table(value: Any) -> tuple[Any, str]:
    if not isinstance(value, dict):
        return None, f"must be a table of text = text, got {_describe(value)}"
    bad = [k for k, v in value.items() if not isinstance(v, str)]
    if bad:
        return None, f"must map texts to texts; {bad[0]!r} maps to {_describe(value[bad[0]])}"
    return {str(k): v for k, v in value.items()}, ""


def _check_crs(value: Any) -> tuple[Any, str]:
    if not isinstance(value, str):
        return None, f'must be a CRS text such as "EPSG:4549", got {_describe(value)}'
    try:
        CRS.from_user_input(value)
    except PyprojCRSError:
        return None, f'{value!r} is not a CRS pyproj knows (e.g. "EPSG:4490", "EPSG:4549")'
    return value, ""


def check_value(value: Any, meta: Mapping[str, Any]) -> tuple[Any, str]:
    """Check one value against a setting's metadata.

    Returns
    -------
    tuple
        ``(clean value, "")`` when valid, else ``(None, what is wrong)``.

    Examples
    --------
    >>> meta = {"kind": "number", "above": 0, "minimum": None, "maximum": None}
    >>> check_value(500, meta)
    (500.0, '')
    >>> check_value(float("nan"), meta)[1]
    'must be a finite number, got nan'
    >>> check_value("false", {"kind": "bool"})[1]
    'must be true or false (without quotes), got the text "false"'
    """
    kind = meta["kind"]
    if kind in ("number", "integer"):
        return _check_number(value, meta, kind == "integer")
    if kind == "bool":
        if not isinstance(value, bool):
            return None, f"must be true or false (without quotes), got {_describe(value)}"
        return value, ""
    if kind == "text_list":
        return _check_text_list(value)
    if kind == "text_table":
        return _check_text_table(value)
    if kind == "crs":
        return _check_crs(value)
    if not isinstance(value, str):
        return None, f"must be a text (in quotes), got {_describe(value)}"
    choices = meta.get("choices") or ()
    if kind == "choice" and value not in choices:
        return None, f"must be one of {', '.join(choices)}, got {value!r}"
    return value, ""


def read_section(
    cls: type,
    table: Any,
    *,
    section: str,
    where: str = "gisrenew.toml",
    error: type[GisrenewError] = ProjectError,
) -> Any:
    """Check the table `section` of a settings file against `cls` and build it.

    Parameters
    ----------
    cls : dataclass type
        The section's dataclass (e.g. :class:`NetworkSettings`).
    table : mapping
        The parsed TOML table (keys as written).
    section : str
        The table's name as written, e.g. ``"network"`` or ``"tiers[2]"``.
    where : str
        The file, for messages.
    error : GisrenewError subclass
        The error raised (every problem of the table in one message).

    Raises
    ------
    error
        On unknown keys, wrong types, non-finite or out-of-range numbers.
    """
    problems = section_problems(cls, table, section=section)
    if problems:
        raise error(problems_message(where, problems))
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {name: check_value(value, fields[name].metadata)[0] for name, value in table.items()}
    return cls(**values)


def section_problems(cls: type, table: Any, *, section: str) -> list[str]:
    """Every problem of one settings table, as ``[section] key: what is wrong`` lines."""
    if not isinstance(table, dict):
        return [f"[{section}] must be a table of settings, got {_describe(table)}"]
    fields = {f.name: f for f in dataclasses.fields(cls) if f.metadata}
    problems: list[str] = []
    unknown = sorted(set(table) - set(fields))
    if unknown:
        known = ", ".join(fields) or "none"
        problems.append(f"unknown key(s) in [{section}]: {', '.join(unknown)}; known: {known}")
    for name, value in table.items():
        if name not in fields:
            continue
        message = check_value(value, fields[name].metadata)[1]
        if message:
            example = fields[name].metadata.get("example")
            hint = f" (e.g. {name} = {example})" if example else ""
            problems.append(f"[{section}] {name} {message}{hint}")
    if not problems and hasattr(cls, "combination_problems"):
        problems += [f"[{section}] {p}" for p in cls.combination_problems(table)]
    return problems


def problems_message(where: str, problems: Sequence[str]) -> str:
    """One message for every problem of a settings file."""
    if len(problems) == 1:
        return f"{where}: {problems[0]}"
    return "\n".join([f"{where}: {len(problems)} problems in the settings:", *problems])


def merge_overrides(table: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A settings table with `overrides` (e.g. command-line options) applied.

    ``None`` in `overrides` means "not given" and keeps the file's value. Keys of one
    :data:`EXCLUSIVE` group replace each other: ``--walk-minutes`` given on the
    command line drops a ``walk_distance_m`` of the file, and vice versa.

    Examples
    --------
    >>> merge_overrides({"walk_distance_m": 500}, {"walk_minutes": 10, "snap_distance_m": None})
    {'walk_minutes': 10}
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    merged = dict(table)
    for group in EXCLUSIVE:
        if set(given) & set(group):
            for key in group:
                merged.pop(key, None)
    merged.update(given)
    return merged


#: Keys that say the same thing two ways: an override of one replaces the others.
EXCLUSIVE: tuple[tuple[str, ...], ...] = (("walk_distance_m", "walk_minutes", "walk_speed_kmh"),)


# --------------------------------------------------------------------------- the tables


@dataclass(frozen=True)
class ProjectSettings:
    """``[project]``: the project's name, store, working CRS and rule set."""

    name: str = setting("text", "project name (e.g. the city)", default="gisrenew project")
    gpkg: str = setting(
        "text", "the project store: a GeoPackage in the project folder", default="project.gpkg"
    )
    store: str | None = setting(
        "text",
        "the project store: a GeoPackage path (relative to the project folder, as `gpkg`) or "
        "a PostgreSQL database, `postgresql://host:port/db` or `service=NAME` (a libpq "
        "service); never a password (PGPASSWORD, ~/.pgpass or the service file)",
        example='"service=bureau"',
    )
    schema: str | None = setting(
        "text",
        "the PostgreSQL schema of the project's layers (one schema per project; needed with "
        "a PostgreSQL store)",
        example='"taicang"',
    )
    working_crs: str | None = setting(
        "crs", "metric CRS of every analysis (default: picked from the data)", example='"EPSG:4549"'
    )
    rules: str = setting(
        "text",
        "rule set: a preset name or a rule-set TOML file (relative to the project folder)",
        default="tijian-2021",
    )
    read_only: bool = setting(
        "bool",
        "true: commands that write refuse this project (the bundled sample); work on a copy",
        default=False,
    )
    time_zone: str | None = setting(
        "text",
        "time zone of the times shown (IANA name); default Asia/Shanghai for Chinese output, "
        "else this computer's",
        example='"Asia/Shanghai"',
    )

    @staticmethod
    def combination_problems(table: Mapping[str, Any]) -> list[str]:
        """A time zone the time-zone database knows; one store, without a password."""
        problems = store_problems(table)
        zone = table.get("time_zone")
        if zone is None:
            return problems
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            return [
                *problems,
                f'time_zone {zone!r} is not a known time zone (e.g. "Asia/Shanghai")',
            ]
        return problems


# --------------------------------------------------------------------------- the store

#: What a message says instead of a password found in a store setting (never the password).
PASSWORD_REFUSED = (
    "store holds a password; gisrenew never writes one into gisrenew.toml, its logs or its "
    "messages. Fix: remove it — passwords come from PGPASSWORD, ~/.pgpass or the service file"
)
#: libpq connection keywords that make a `store` text a connection string (key=value ...).
_CONNINFO_KEYS = ("service", "host", "hostaddr", "dbname", "port", "user")
#: A schema name gisrenew makes without quoting surprises: a plain lowercase identifier.
PLAIN_SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def is_database(store: str | None) -> bool:
    """True when `store` names a PostgreSQL database (a URL or a libpq connection string)."""
    if not store:
        return False
    text = store.strip()
    if text.lower().startswith(("postgresql://", "postgres://")):
        return True
    return any(re.search(rf"(^|\s){key}\s*=", text) for key in _CONNINFO_KEYS)


def has_password(store: str) -> bool:
    """True when the connection text `store` carries a password (URL or ``password=``)."""
    text = store.strip()
    if re.search(r"(^|[\s?&])password\s*=", text, flags=re.IGNORECASE):
        return True
    if text.lower().startswith(("postgresql://", "postgres://")):
        try:
            return urlsplit(text).password is not None
        except ValueError:
            return ":" in text.split("//", 1)[1].split("@", 1)[0] and "@" in text
    return False


def store_label(store: str, schema: str | None) -> str:
    """The store as messages name it: ``postgresql://host:port/db schema S``, no user or password.

    Examples
    --------
    >>> store_label("postgresql://planner@gis.bureau:5432/city", "taicang")
    'postgresql://gis.bureau:5432/city schema taicang'
    >>> store_label("service=bureau", "taicang")
    'service=bureau schema taicang'
    """
    text = store.strip()
    where = f" schema {schema}" if schema else ""
    if text.lower().startswith(("postgresql://", "postgres://")):
        try:
            url = urlsplit(text)
            host = f"{url.hostname or 'localhost'}:{url.port or 5432}"
        except ValueError:
            return f"postgresql://(a malformed URL){where}"
        return f"postgresql://{host}{url.path}{where}"
    keys = dict(re.findall(r"(\w+)\s*=\s*('[^']*'|\S+)", text))
    if "service" in keys:
        return f"service={keys['service'].strip(chr(39))}{where}"
    host = f"{keys.get('host', 'localhost')}:{keys.get('port', '5432')}"
    return f"postgresql://{host}/{keys.get('dbname', '')}{where}"


def store_problems(table: Mapping[str, Any]) -> list[str]:
    """Problems of ``[project]`` gpkg / store / schema (never quoting a password)."""
    store, schema = table.get("store"), table.get("schema")
    if not isinstance(store, str) and store is not None:
        return []  # its type is reported already
    problems = []
    if store is not None and "gpkg" in table:
        problems.append(
            'gpkg and store both name the project store; keep one (store = "project.gpkg" or '
            'store = "postgresql://host:port/db")'
        )
    if store is not None and is_database(store):
        if has_password(store):
            problems.append(PASSWORD_REFUSED)
        if not isinstance(schema, str) or not PLAIN_SCHEMA.fullmatch(schema):
            problems.append(
                "schema must name the project's PostgreSQL schema, a plain lowercase "
                'identifier (letters a-z, digits, _), e.g. schema = "taicang"'
            )
    elif schema is not None:
        problems.append("schema is for a PostgreSQL store only; delete it, or set store to one")
    return problems


@dataclass(frozen=True)
class ResidentialSettings:
    """``[residential]``: which land counts as residential (居住用地)."""

    codes: tuple[str, ...] = setting(
        "text_list",
        "land-use code prefixes counted as residential (GB 50137 R…, 国土空间 07…); [] counts all",
        default=("R", "07"),
        example='["R", "07"]',
    )


@dataclass(frozen=True)
class CoverageSettings:
    """``[coverage]``: the coverage ratio's weight and method."""

    weight: str | None = setting(
        "text",
        "residential column used as weight (households 户数 / population 人口); "
        '"none": no weight. Default: households when the layer has any',
        example='"households"',
    )
    method: str = setting(
        "choice",
        "buffer: straight-line radius; network: walk along streets; both",
        default="buffer",
        choices=("buffer", "network", "both"),
    )
    sliver_m2: float | None = setting(
        "number",
        "blind spots smaller than this (m²) are digitising slivers: counted, not listed or "
        "drawn (default 10)",
        minimum=0,
    )


@dataclass(frozen=True)
class NetworkSettings:
    """``[network]``: the walk along streets (十分钟服务圈)."""

    walk_distance_m: float | None = setting(
        "number", "walk limit (m) for every qualifying park (default: its tier radius)", above=0
    )
    walk_minutes: float | None = setting(
        "number", "walk limit in minutes, at walk_speed_kmh", above=0, example="10"
    )
    walk_speed_kmh: float | None = setting(
        "number", "walking speed for walk_minutes (default 4.8 km/h)", above=0, maximum=30
    )
    snap_distance_m: float | None = setting(
        "number", "streets within this distance of a park are its access points (default 30)",
        minimum=0,
    )  # fmt: skip
    connector_limit_m: float | None = setting(
        "number", "residential land farther from any street is unreachable (default 200)",
        minimum=0,
    )  # fmt: skip
    lateral_m: float | None = setting(
        "number", "half-width of the walking service-area polygons on maps (default 50)",
        above=0,
    )  # fmt: skip

    @staticmethod
    def combination_problems(table: Mapping[str, Any]) -> list[str]:
        """Keys that contradict each other."""
        if "walk_distance_m" in table and ({"walk_minutes", "walk_speed_kmh"} & set(table)):
            return ["give either walk_distance_m or walk_minutes (with walk_speed_kmh), not both"]
        if "walk_speed_kmh" in table and "walk_minutes" not in table:
            return ["walk_speed_kmh needs walk_minutes (the walk limit is minutes × speed)"]
        return []

    @property
    def walk_limit_m(self) -> float | None:
        """The walk limit every qualifying park gets, or None: each park's tier radius."""
        if self.walk_distance_m is not None:
            return self.walk_distance_m
        if self.walk_minutes is not None:
            speed = DEFAULT_WALK_SPEED_KMH if self.walk_speed_kmh is None else self.walk_speed_kmh
            return self.walk_minutes * speed * 1000.0 / 60.0
        return None


@dataclass(frozen=True)
class PlanSettings:
    """``[plans]``: which parcels a renewal plan affects and how households count."""

    min_overlap_share: float | None = setting(
        "number", "smallest share of a parcel inside a plan (default 0.01)", minimum=0, maximum=1
    )
    min_overlap_m2: float | None = setting(
        "number", "smallest overlap area in m² (default 1)", minimum=0
    )
    household_rule: str | None = setting(
        "choice",
        "households of a partly affected parcel: whole, area_share or largest (default whole)",
        choices=("whole", "area_share", "largest"),
    )
    households: dict[str, str] | None = setting(
        "text_table",
        "parcels columns of the household kinds: residential, nonresidential, shops, signed",
        example='{ signed = "已签约户数" }',
    )

    @staticmethod
    def combination_problems(table: Mapping[str, Any]) -> list[str]:
        """Household roles that do not exist."""
        roles = ("residential", "nonresidential", "shops", "signed")
        unknown = sorted(set(table.get("households", {})) - set(roles))
        if unknown:
            return [f"households: unknown role(s) {', '.join(unknown)}; roles: {', '.join(roles)}"]
        return []


@dataclass(frozen=True)
class MapSettings:
    """``[maps]``: the published web maps."""

    basemap: str | None = setting(
        "text", "osm, gaode, tianditu, none, or a tile URL with {z}/{x}/{y}", example='"none"'
    )
    tiles_datum: str | None = setting(
        "choice", "datum of a custom tile URL", choices=("wgs84", "gcj02")
    )
    tiles_attribution: str | None = setting("text", "attribution text of a custom tile URL")
    data_datum: str | None = setting(
        "choice", "gcj02 when the data were digitised on Gaode maps", choices=("wgs84", "gcj02")
    )
    lang: str | None = setting("choice", "language of the maps", choices=("zh", "en"))
    language: str | None = setting("choice", "same as lang", choices=("zh", "en"))
    offline: bool = setting(
        "bool",
        "true: self-contained pages that open with no network; false: pages load Leaflet "
        "from a CDN (smaller, need the internet)",
        default=True,
    )
    title: str | None = setting("text", "site title")
    simplify_m: float | None = setting(
        "number", "simplification tolerance of drawn shapes in metres (default 1)", minimum=0
    )

    @staticmethod
    def combination_problems(table: Mapping[str, Any]) -> list[str]:
        """``lang`` and its synonym ``language`` must agree."""
        if "lang" in table and "language" in table and table["lang"] != table["language"]:
            return [f"lang = {table['lang']!r} and language = {table['language']!r} differ"]
        return []

    @property
    def language_choice(self) -> str | None:
        """``lang`` or its synonym ``language``."""
        return self.lang or self.language


@dataclass(frozen=True)
class SiteSettings:
    """``[sites]``: ranking candidate sites for the next pocket parks (口袋公园选址)."""

    count: int = setting("integer", "how many sites to pick", default=5, minimum=1)
    min_area_m2: float | None = setting(
        "number", "leave out candidates smaller than this (m²)", minimum=0
    )
    by: str = setting(
        "choice",
        "what a site's gain counts: area, households or population",
        default="area",
        choices=("area", "households", "population"),
    )


@dataclass(frozen=True)
class LifeCircleSettings:
    """``[life_circles]``: the community life circles 社区生活圈 (facilities layer)."""

    rules: str = setting(
        "text",
        "life-circle rule set: a preset name or a rule-set TOML file (relative to the project "
        "folder)",
        default="gb50180-2018",
        example='"gb50180-2018"',
    )
    method: str | None = setting(
        "choice",
        "buffer: straight-line radius; network: walk along streets; both (default: the "
        "run's coverage methods, else both with a roads layer, else buffer)",
        choices=("buffer", "network", "both"),
    )


@dataclass(frozen=True)
class ReportSettings:
    """``[report]``: the indicator sheet of the 城市体检 (``gisrenew report``)."""

    targets: str | None = setting(
        "text",
        "a targets file of your own (TOML, relative to the project folder): its targets "
        "replace national ones of the same id and add new ones",
        example='"my-targets.toml"',
    )
    population: float | None = setting(
        "number",
        "city population 城区人口 for the per-capita figures (default: the sum of the "
        "residential layer's population inside the built-up area)",
        above=0,
        example="480000",
    )
    greenway_radius_m: float = setting(
        "number",
        "service radius of a greenway 绿道 (m) for the greenway coverage",
        default=1000.0,
        above=0,
    )


@dataclass(frozen=True)
class LayerSource:
    """``[layers.<kind>]``: where a stored layer came from and how to read it."""

    source: str | None = setting("text", "the file the layer was read from")
    layer: str | None = setting("text", "the layer inside that file")
    crs: str | None = setting("crs", "CRS of the file when it declares none")
    encoding: str | None = setting("text", "attribute text encoding of a Shapefile")


#: The tables of ``gisrenew.toml`` that hold settings, and their dataclasses.
SECTIONS: dict[str, type] = {
    "project": ProjectSettings,
    "residential": ResidentialSettings,
    "coverage": CoverageSettings,
    "network": NetworkSettings,
    "plans": PlanSettings,
    "maps": MapSettings,
    "sites": SiteSettings,
    "life_circles": LifeCircleSettings,
    "report": ReportSettings,
}


def _toml(value: Any) -> str:
    """A default as it would be written in TOML, in backticks."""
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, tuple):
        return "`[" + ", ".join(f'"{v}"' for v in value) + "]`"
    return f"`{value}`"


def settings_table_markdown() -> str:
    """The README table of every setting (generated; a test keeps the README equal)."""
    lines = ["| table | key | type | default | meaning |", "|---|---|---|---|---|"]
    for section, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            meta = f.metadata
            kind = meta["kind"] if meta["kind"] != "choice" else " / ".join(meta["choices"])
            default = "—" if f.default in (None, dataclasses.MISSING) else _toml(f.default)
            lines.append(f"| `[{section}]` | `{f.name}` | {kind} | {default} | {meta['doc']} |")
    return "\n".join(lines)
