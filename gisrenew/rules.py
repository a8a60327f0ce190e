"""Rule sets for the park service-radius coverage ratio — data, not code.

A rule set says which parks count and what service radius each gets. Presets ship
as TOML files in ``gisrenew/rulesets/``; a user rule set is a TOML file of the same
shape (see README, "Rule sets"). Every coverage result records the rule set
(name, version, parameters) that produced it.

Tiers are matched by park area (the area of the whole park feature: a multipart
park is one park) and optionally by park class; the first matching tier wins, so
list tiers from the most to the least demanding. Area bounds are half-open:
``min_area_m2 <= area < max_area_m2`` — a park of exactly 5000 m² falls in the
≥ 5000 m² tier, one of exactly 2000 m² in the 2000–5000 m² tier.
"""

from __future__ import annotations

import logging
import math
import tomllib
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from gisrenew.errors import RuleSetError
from gisrenew.settings import problems_message, read_section, section_problems, setting

__all__ = [
    "DEFAULT_RULES",
    "RuleSet",
    "Tier",
    "available_rules",
    "flat_rules",
    "get_rules",
    "parse_rules",
    "read_rule_file",
]

log = logging.getLogger(__name__)

DEFAULT_RULES = "tijian-2021"

#: Files of ``rulesets/`` starting with this are life-circle rule sets
#: (:mod:`gisrenew.lifecircles.rules`), not park rule sets.
LIFE_CIRCLE_PREFIX = "lifecircle-"
#: Files of ``rulesets/`` starting with this are targets files (:mod:`gisrenew.targets`).
TARGETS_PREFIX = "targets-"

PARK_CLASSES = ("G1", "G11", "G12", "G13", "G14")
PLAZA_CLASSES = ("G3",)


@dataclass(frozen=True)
class Tier:
    """One service-radius tier.

    Attributes
    ----------
    radius_m : float
        Service radius in metres, measured from the park boundary.
    min_area_m2 : float
        Smallest park area in the tier (inclusive).
    max_area_m2 : float
        Upper area bound (exclusive); ``inf`` for no bound.
    park_classes : tuple of str or None
        Only parks of these classes match this tier; ``None`` matches any counted class.
    label : str
        Short label for tables and legends.
    """

    radius_m: float
    min_area_m2: float = 0.0
    max_area_m2: float = math.inf
    park_classes: tuple[str, ...] | None = None
    label: str = ""

    def describe(self) -> str:
        """Human-readable tier, e.g. ``'≥5000 m² → 500 m'``."""
        if self.label:
            return self.label
        if math.isinf(self.max_area_m2):
            area = f"≥{self.min_area_m2:g} m²"
        else:
            area = f"{self.min_area_m2:g}–{self.max_area_m2:g} m²"
        classes = f" [{','.join(self.park_classes)}]" if self.park_classes else ""
        return f"{area}{classes} → {self.radius_m:g} m"


@dataclass(frozen=True)
class RuleSet:
    """A named, versioned set of service-radius rules.

    Attributes
    ----------
    name, version, title : str
        Identity of the rule set; ``title`` is the standard it follows.
    tiers : tuple of Tier
        Checked in order; the first match gives the radius.
    park_classes : tuple of str
        Park classes that count at all (``G1`` = park of unknown class).
    count_plazas : bool
        Whether plazas (G3 广场用地) count as parks (GB/T 51346-2019 4.3.4).
    min_width_m : float
        Parks narrower than this do not count; the width is the diameter of the
        largest circle that fits inside the park (:func:`gisrenew.coverage.park_width`,
        the short side of a rectangle); 0 disables the check.
    residential_codes : tuple of str
        Land-use codes that count as residential land (prefix match, e.g. ``R`` matches
        ``R21``; ``07`` matches ``0701``). Empty: every residential polygon counts.
    source : str
        Where the rule set came from (preset name or file path).
    """

    name: str
    version: str
    title: str
    tiers: tuple[Tier, ...]
    park_classes: tuple[str, ...] = PARK_CLASSES
    count_plazas: bool = False
    min_width_m: float = 0.0
    residential_codes: tuple[str, ...] = ()
    source: str = ""
    notes: str = field(default="", compare=False)

    @property
    def max_radius_m(self) -> float:
        """The largest radius of any tier (the farthest a park can reach)."""
        return max((t.radius_m for t in self.tiers), default=0.0)

    @property
    def counted_classes(self) -> tuple[str, ...]:
        """Park classes that count, plazas included when `count_plazas`."""
        return self.park_classes + (PLAZA_CLASSES if self.count_plazas else ())

    def assign(self, park_area_m2, park_class=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Assign every park a tier and a radius, vectorized.

        Parameters
        ----------
        park_area_m2 : array_like of float
            Area of each park feature in m².
        park_class : array_like of str, optional
            Class of each park; ``None`` treats every park as ``G1`` (unknown class).

        Returns
        -------
        radius_m : numpy.ndarray of float
            Service radius per park, ``nan`` where the park does not qualify.
        tier : numpy.ndarray of int
            Index into :attr:`tiers`, -1 where the park does not qualify.
        reason : numpy.ndarray of str
            Why a park does not qualify (``""`` where it does).
        """
        area = np.asarray(park_area_m2, dtype=float)
        n = area.shape[0]
        classes = (
            np.full(n, "G1", dtype=object)
            if park_class is None
            else np.asarray(park_class, dtype=object)
        )
        counted = np.isin(classes.astype(str), np.asarray(self.counted_classes, dtype=str))
        radius = np.full(n, np.nan)
        tier = np.full(n, -1, dtype=int)
        for index in range(len(self.tiers) - 1, -1, -1):  # first tier wins: assign in reverse
            t = self.tiers[index]
            match = counted & (area >= t.min_area_m2) & (area < t.max_area_m2)
            if t.park_classes is not None:
                match &= np.isin(classes.astype(str), np.asarray(t.park_classes, dtype=str))
            radius[match] = t.radius_m
            tier[match] = index
        reason = np.full(n, "", dtype=object)
        smallest = min((t.min_area_m2 for t in self.tiers), default=0.0)
        reason[(tier < 0) & counted] = (
            f"no tier matches (area below {smallest:g} m² or class not in a tier)"
        )
        reason[(tier < 0) & counted & (area < smallest)] = f"area below {smallest:g} m²"
        not_counted = ~counted
        reason[not_counted] = [
            f"class {c} does not count under {self.name}" for c in classes[not_counted]
        ]
        return radius, tier, reason

    def to_dict(self) -> dict:
        """JSON-ready description (name, version and every parameter)."""
        data = asdict(self)
        data["tiers"] = [
            {
                **asdict(t),
                "max_area_m2": None if math.isinf(t.max_area_m2) else t.max_area_m2,
                "park_classes": list(t.park_classes) if t.park_classes else None,
                "label": t.describe(),
            }
            for t in self.tiers
        ]
        for key in ("park_classes", "residential_codes"):
            data[key] = list(data[key])
        data.pop("notes", None)
        return data

    def describe(self) -> str:
        """One line: ``name vN: tier; tier``."""
        tiers = "; ".join(t.describe() for t in self.tiers)
        plazas = " (plazas count)" if self.count_plazas else ""
        return f"{self.name} v{self.version}: {tiers}{plazas}"


@dataclass(frozen=True)
class _TierTable:
    """One ``[[tiers]]`` table of a rule-set file."""

    radius_m: float | None = setting("number", "service radius (m)", above=0, example="500")
    min_area_m2: float = setting(
        "number", "smallest park area (m², inclusive)", default=0.0, minimum=0
    )
    max_area_m2: float | None = setting("number", "area upper bound (m², exclusive)", above=0)
    park_classes: tuple[str, ...] | None = setting(
        "text_list", "the tier applies to these classes only", example='["G14"]'
    )
    label: str = setting("text", "short label for tables and legends", default="")


@dataclass(frozen=True)
class _RuleSetTable:
    """The top level of a rule-set file (``tiers`` is checked table by table)."""

    name: str | None = setting("text", "rule-set name", example='"historic-300"')
    version: str | None = setting("text", "rule-set version", example='"1"')
    title: str = setting("text", "the standard it follows", default="")
    park_classes: tuple[str, ...] = setting(
        "text_list", "park classes that count", default=PARK_CLASSES, example='["G12", "G14"]'
    )
    count_plazas: bool = setting("bool", "plazas (G3) count as parks", default=False)
    min_width_m: float = setting("number", "narrower parks do not count", default=0.0, minimum=0)
    residential_codes: tuple[str, ...] = setting(
        "text_list", "land-use code prefixes counted as residential", default=(), example='["R"]'
    )
    notes: str = setting("text", "free text", default="")


def _rule_set_problems(data: dict) -> list[str]:
    """Every problem of a parsed rule-set file (empty when it is valid)."""
    top = {k: v for k, v in data.items() if k != "tiers"}
    problems = [
        p.replace("unknown key(s) in [rules]:", "unknown rule-set keys:").replace("[rules] ", "")
        for p in section_problems(_RuleSetTable, top, section="rules")
    ]
    problems += [f"a rule set needs `{key}`" for key in ("name", "version") if key not in data]
    tiers = data.get("tiers")
    if not isinstance(tiers, list) or not tiers:
        return [*problems, "a rule set needs at least one [[tiers]] table with `radius_m`"]
    for number, tier in enumerate(tiers, start=1):
        section = f"tiers #{number}"
        found = section_problems(_TierTable, tier, section=section)
        if not found and "radius_m" not in tier:
            found = [f"[{section}] needs `radius_m` (the service radius in metres)"]
        if not found and tier.get("max_area_m2", math.inf) <= tier.get("min_area_m2", 0.0):
            found = [f"[{section}] max_area_m2 must exceed min_area_m2"]
        problems += found
    return problems


def _tier(table: dict) -> Tier:
    tier = read_section(_TierTable, table, section="tiers")
    return Tier(
        radius_m=tier.radius_m,
        min_area_m2=tier.min_area_m2,
        max_area_m2=math.inf if tier.max_area_m2 is None else tier.max_area_m2,
        park_classes=tier.park_classes or None,
        label=tier.label,
    )


def parse_rules(data: dict, *, source: str = "<dict>") -> RuleSet:
    """Build a :class:`RuleSet` from a parsed TOML document (see README for the shape).

    Every key is checked like a setting of ``gisrenew.toml``: unknown keys (also inside
    ``[[tiers]]``), values of the wrong type (``count_plazas = "false"``,
    ``park_classes = "G12"``) and non-finite or non-positive radii and areas are
    errors, all reported at once.

    Raises
    ------
    RuleSetError
        With every problem of the file.
    """
    problems = _rule_set_problems(data)
    if problems:
        raise RuleSetError(problems_message(source, problems))
    top = read_section(
        _RuleSetTable, {k: v for k, v in data.items() if k != "tiers"}, section="rules"
    )
    return RuleSet(
        name=top.name,
        version=top.version,
        title=top.title,
        tiers=tuple(_tier(t) for t in data["tiers"]),
        park_classes=top.park_classes,
        count_plazas=top.count_plazas,
        min_width_m=top.min_width_m,
        residential_codes=top.residential_codes,
        source=source,
        notes=top.notes,
    )


def available_rules() -> list[str]:
    """Names of the preset park rule sets shipped with gisrenew.

    The life-circle rule sets (``lifecircle-*.toml``, 社区生活圈) and the targets
    (``targets-*.toml``) in the same folder are not park rule sets and are left out.
    """
    folder = resources.files("gisrenew") / "rulesets"
    return sorted(
        p.name.removesuffix(".toml")
        for p in folder.iterdir()
        if p.name.endswith(".toml") and not p.name.startswith((LIFE_CIRCLE_PREFIX, TARGETS_PREFIX))
    )


def get_rules(rules: str | Path | RuleSet | None = None) -> RuleSet:
    """Return a rule set by preset name, TOML file path, or pass a RuleSet through.

    Parameters
    ----------
    rules : str, Path, RuleSet or None
        ``None`` gives the default preset (``tijian-2021``).

    Examples
    --------
    >>> get_rules("tijian-2021").max_radius_m
    500.0
    """
    if isinstance(rules, RuleSet):
        return rules
    if rules is None:
        rules = DEFAULT_RULES
    text = str(rules)
    if text in available_rules():
        resource = resources.files("gisrenew") / "rulesets" / f"{text}.toml"
        return parse_rules(
            tomllib.loads(resource.read_text(encoding="utf-8")), source=f"preset:{text}"
        )
    path = Path(text)
    if path.suffix.lower() == ".toml" or path.exists():
        return parse_rules(read_rule_file(path), source=str(path))
    raise RuleSetError(
        f"unknown rule set {text!r}; presets: {', '.join(available_rules())}, "
        "or a path to a .toml file"
    )


def read_rule_file(path: Path, what: str = "rule-set") -> dict:
    """The table in the user's rule-set file `path` (TOML, UTF-8).

    Raises
    ------
    RuleSetError
        Naming the file: it does not exist, or is not UTF-8 TOML (`what` names the kind
        of rule set in the message, e.g. ``"life-circle rule-set"``).
    """
    if not path.is_file():
        raise RuleSetError(f"{what} file {path} does not exist")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RuleSetError(f"{path}: not a valid UTF-8 TOML {what.removesuffix('-set')} set: "
                           f"{exc}") from None  # fmt: skip


def flat_rules(radius_m: float, min_park_area_m2: float = 0.0) -> RuleSet:
    """The simple flat rule: one radius for every park of at least `min_park_area_m2` m²."""
    if not (math.isfinite(radius_m) and radius_m > 0):
        raise RuleSetError(f"the flat rule's radius must be a positive number, got {radius_m}")
    if not (math.isfinite(min_park_area_m2) and min_park_area_m2 >= 0):
        raise RuleSetError(
            f"the flat rule's minimum park area must be a number ≥ 0, got {min_park_area_m2}"
        )
    return RuleSet(
        name="flat",
        version=f"{radius_m:g}m-{min_park_area_m2:g}m2",
        title=f"flat radius {radius_m:g} m for parks ≥ {min_park_area_m2:g} m²",
        tiers=(Tier(radius_m=float(radius_m), min_area_m2=float(min_park_area_m2)),),
        source="command line",
    )
