"""What the report says, worded once for every format (报告内容).

:func:`report_content` turns a :class:`~gisrenew.checkup.Checkup` into sections of
tables whose cells carry both the text a reader sees (formatted by
:mod:`gisrenew.present.formats`, worded by :mod:`gisrenew.present.labels`) and the
number a workbook stores with its Excel number format. The printable page
(:mod:`~gisrenew.report.html`), the Word document (:mod:`~gisrenew.report.docx`) and the
workbook (:mod:`~gisrenew.report.xlsx`) draw the same content, so the three never say
different things. Nothing here computes a figure: every number is the Checkup's.

Names, ids and sources come from planners' files and are kept as written: each format
escapes them its own way (HTML autoescape, Word and Excel text cells with formulas
defused).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gisrenew.checkup import Check, Checkup, IndicatorRow, ParkBatch, RenewalProgress, SinceRun
from gisrenew.jsonable import finite_number
from gisrenew.present import formats
from gisrenew.present.labels import (
    SIGNING_STATUSES,
    check_lang,
    column_headers,
    label,
    plan_type_name,
    reason_text,
    status_label,
)

__all__ = [
    "PERCENT_FORMAT",
    "Cell",
    "Column",
    "ReportContent",
    "Section",
    "Table",
    "report_content",
]

#: Excel number formats of the workbook (the cells keep their exact values).
PERCENT_FORMAT = "0.00%"
_FORMATS = {"ratio": PERCENT_FORMAT, "m2": "#,##0", "count": "#,##0", "mu": "#,##0.0"}
_DECIMAL_FORMAT = "#,##0.00"


@dataclass(frozen=True)
class Cell:
    """One cell: the text shown, the value a workbook stores and how it looks.

    Attributes
    ----------
    text : str
        What the page and the Word document show.
    value : float, str or None
        What the workbook stores; None stores `text`.
    number_format : str or None
        Excel number format of a numeric `value` (``0.00%``).
    style : str
        ``num`` (right-aligned figure), ``passed``, ``failed``, ``unknown`` (a check),
        ``hash`` (a checksum, wrapped anywhere, never clipped) or "".
    """

    text: str
    value: float | str | None = None
    number_format: str | None = None
    style: str = ""


@dataclass(frozen=True)
class Column:
    """A column of a table: its header, relative print width and where it is shown.

    ``where`` is ``all``, ``print`` (the page and Word only) or ``sheet`` (the workbook
    only: exact numbers the printed text already gives formatted).
    """

    header: str
    width: float = 1.0
    where: str = "all"


@dataclass(frozen=True)
class Table:
    """A table of the report; ``key`` names it in tests and in the workbook."""

    key: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    caption: str = ""
    notes: tuple[str, ...] = ()

    def shown(self, where: str) -> tuple[list[Column], list[list[Cell]]]:
        """The columns and rows shown in ``print`` (page, Word) or ``sheet`` (workbook)."""
        keep = [i for i, c in enumerate(self.columns) if c.where in ("all", where)]
        columns = [self.columns[i] for i in keep]
        return columns, [[row[i] for i in keep] for row in self.rows]


@dataclass(frozen=True)
class Section:
    """A heading with its paragraphs and tables; ``picture``: the coverage map goes here.

    ``sheet`` is the workbook sheet its tables go to (``indicators``, ``districts``,
    ``renewal``, ``parks``, ``since``, ``trace``), "" for none.
    """

    key: str
    heading: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    picture: bool = False
    sheet: str = ""


@dataclass(frozen=True)
class ReportContent:
    """The whole report in one language: title lines, headline and sections in order."""

    lang: str
    title: str
    subtitle: str
    headline: tuple[str, ...]
    sections: tuple[Section, ...] = field(default_factory=tuple)

    def table(self, key: str) -> Table | None:
        """The table named `key`, or None."""
        return next((t for s in self.sections for t in s.tables if t.key == key), None)


# --------------------------------------------------------------------------- cells


def text_cell(value: Any) -> Cell:
    """A text cell from the data (a name, an id), shown as written."""
    return Cell("" if value is None else str(value))


def figure_cell(value: Any, unit: str, lang: str) -> Cell:
    """A figure in its unit: ``ratio`` → ``81.14%``, ``m2_per_person`` → ``8.21 m²/人``,
    ``m2`` → ``12,345 m²``, ``count`` and ``households`` whole; else 2 decimals."""
    v = finite_number(value)
    if v is None:
        return Cell(formats.MISSING, style="num")
    if unit == "ratio":
        text = formats.percent(v)
    elif unit == "m2_per_person":
        text = f"{formats.number(v, 2)} {label('report.unit_m2_per_person', lang)}"
    elif unit == "m2":
        text = formats.area(v, "m2", lang=lang)
    elif unit in ("count", "households"):
        text = formats.count(v)
    else:
        text = formats.number(v, 2)
    number_format = _FORMATS.get(unit, "#,##0" if unit == "households" else _DECIMAL_FORMAT)
    return Cell(text, v, number_format, "num")


def change_cell(then: Any, now: Any, unit: str, lang: str) -> Cell:
    """The change between two figures: percentage points for ratios, else signed."""
    a, b = finite_number(then), finite_number(now)
    if a is None or b is None:
        return Cell(formats.MISSING, style="num")
    if unit == "ratio":
        return Cell(formats.points(b - a, lang), b - a, "+0.00%;-0.00%;0.00%", "num")
    text = formats.number(b - a, 2)
    return Cell(text if text.startswith("-") else f"+{text}", b - a, _DECIMAL_FORMAT, "num")


def _amount(value: Any) -> str:
    """A numerator or denominator: whole numbers from 100 on, else 2 decimals."""
    v = finite_number(value)
    if v is None:
        return formats.MISSING
    return formats.number(v, 0 if abs(v) >= 100 or v == int(v) else 2)


# --------------------------------------------------------------------------- the sheet


def _check_cells(check: Check | None, lang: str) -> list[Cell]:
    if check is None:
        return [Cell(label("report.no_target", lang)), Cell(""), Cell("")]
    target = check.label + (" *" if not check.confirmed else "")
    source = " ".join(part for part in (check.source, check.clause) if part)
    if check.note:
        source = f"{source}（{check.note}）" if lang == "zh" else f"{source} ({check.note})"
    status = {True: "passed", False: "failed", None: "unknown"}[check.passed]
    return [Cell(target), Cell(source), Cell(label(f"report.{status}", lang), style=status)]


def _value_cell(row: IndicatorRow, lang: str) -> Cell:
    if finite_number(row.value) is not None:
        return figure_cell(row.value, row.unit, lang)
    reason = reason_text(row.reason, lang)
    words = label("report.no_value", lang).format(reason=reason) if reason else None
    return Cell(words or label("report.no_value_plain", lang), style="unknown")


def _basis(row: IndicatorRow, lang: str) -> str:
    if row.numerator is None and row.denominator is None:
        return ""
    english = lang == "en"
    top_label = (english and row.numerator_label_en) or row.numerator_label
    bottom_label = (english and row.denominator_label_en) or row.denominator_label
    top = f"{top_label} {_amount(row.numerator)}".strip()
    bottom = f"{bottom_label} {_amount(row.denominator)}".strip()
    return f"{top} / {bottom}"


def indicator_name(row: IndicatorRow, lang: str) -> str:
    """The indicator's name in `lang` (the English name falls back to the key)."""
    return row.name_zh if lang == "zh" else (row.name_en or row.key)


def sheet_table(checkup: Checkup, lang: str) -> Table:
    """The indicator sheet: one row per check (an indicator without targets: one row)."""
    columns = (
        Column(label("report.col_indicator", lang), 2.2),
        Column(label("report.col_value", lang), 1.3),
        Column(label("report.col_numerator", lang), 1.0, "sheet"),
        Column(label("report.col_denominator", lang), 1.0, "sheet"),
        Column(label("report.col_basis", lang), 2.4),
        Column(label("report.col_target", lang), 1.1),
        Column(label("report.col_source", lang), 2.4),
        Column(label("report.col_result", lang), 1.0),
    )
    rows = []
    for row in checkup.indicators:
        head = [
            Cell(indicator_name(row, lang)),
            _value_cell(row, lang),
            figure_cell(row.numerator, "", lang) if row.numerator is not None else Cell(""),
            figure_cell(row.denominator, "", lang) if row.denominator is not None else Cell(""),
            Cell(_basis(row, lang)),
        ]
        blank = [Cell("")] * len(head)
        for i, check in enumerate(row.checks or (None,)):
            rows.append(tuple((head if i == 0 else blank) + _check_cells(check, lang)))
    unconfirmed = any(not c.confirmed for r in checkup.indicators for c in r.checks)
    notes = (label("report.unconfirmed_note", lang),) if unconfirmed else ()
    return Table("indicators", columns, tuple(rows), notes=notes)


# --------------------------------------------------------------------------- headline


def headline_row(checkup: Checkup) -> IndicatorRow | None:
    """The coverage ratio the headline speaks of: the first coverage ratio with a value."""
    rows = [
        r for r in checkup.indicators if r.unit == "ratio" and finite_number(r.value) is not None
    ]
    coverage = [r for r in rows if r.key.startswith("park_coverage")]
    return (coverage or rows or [None])[0]


def headline(checkup: Checkup, lang: str) -> tuple[str, ...]:
    """``建成区公园绿地服务半径覆盖率提升至 86.18%`` when the latest park batch raised the
    figure now shown, a neutral ``…为 86.18%`` otherwise; the batch in a second line."""
    row = headline_row(checkup)
    if row is None:
        return ()
    name = indicator_name(row, lang)
    if lang == "zh":  # 建成区…: the ratio is of the built-up area when there is a boundary
        built_up = any(trace.kind == "boundary" for trace in checkup.inputs)
        name = ("建成区" if built_up else "") + name.removeprefix("建成区")
    else:
        name = name[:1].upper() + name[1:]
    batch = checkup.latest_parks
    raised = batch is not None and _raised(batch, row)
    key = "report.headline_raised" if raised else "report.headline_value"
    lines = [label(key, lang).format(name=name, value=formats.percent(row.value))]
    if batch is not None and batch.parks:
        lines.append(
            label("report.headline_batch", lang).format(run=batch.run_id, parks=len(batch.parks))
        )
    return tuple(lines)


def _raised(batch: ParkBatch, row: IndicatorRow) -> bool:
    before, after = (
        finite_number(batch.before.get(row.key)),
        finite_number(batch.after.get(row.key)),
    )
    if before is None or after is None or after <= before:
        return False
    return math.isclose(after, float(row.value), rel_tol=0.0, abs_tol=1e-12)


# --------------------------------------------------------------------------- districts


def _unit_of(checkup: Checkup, key: str) -> str:
    row = checkup.indicator(key)
    if row is not None:
        return row.unit
    return "ratio" if "coverage" in key or key.endswith(("_ratio", "_share")) else ""


def _name_of(checkup: Checkup, key: str, lang: str) -> str:
    row = checkup.indicator(key)
    return key if row is None else indicator_name(row, lang)


def district_table(checkup: Checkup, lang: str) -> Table:
    """Per-district figures: one column per indicator any district has, in sheet order."""
    found = {key for d in checkup.districts for key in d.values}
    keys = [r.key for r in checkup.indicators if r.key in found]
    keys += sorted(found - set(keys))
    columns = [
        Column(label("report.col_district", lang), 1.6),
        Column(label("report.col_residential_ha", lang), 1.1, "print"),
        Column(label("report.col_residential_m2", lang), 1.1, "sheet"),
    ] + [Column(_name_of(checkup, key, lang), 1.2) for key in keys]
    rows = []
    for d in checkup.districts:
        area = finite_number(d.residential_area_m2)
        ha = Cell(formats.area(area, "ha", lang=lang, with_unit=False), style="num")
        cells = [text_cell(d.name or d.district_id), ha, figure_cell(area, "m2", lang)]
        cells += [figure_cell(d.values.get(k), _unit_of(checkup, k), lang) for k in keys]
        rows.append(tuple(cells))
    return Table("districts", tuple(columns), tuple(rows))


# --------------------------------------------------------------------------- renewal

#: Renewal totals shown, in order: key → (label key, unit).
_RENEWAL_ITEMS: tuple[tuple[str, str, str], ...] = (
    ("plans", "report.col_plans", "count"),
    ("parcel_count", "plans.col_parcel_count", "count"),
    ("shared_parcels", "plans.col_shared_parcels", "count"),
    ("area_mu", "plans.col_area_mu", "mu"),
    ("affected_area_mu", "plans.col_affected_area_mu", "mu"),
    ("households_residential", "plans.col_households_residential", "households"),
    ("households_nonresidential", "plans.col_households_nonresidential", "households"),
    ("households_shops", "plans.col_households_shops", "households"),
    ("households_total", "plans.col_households_total", "households"),
    ("signed", "plans.col_signed", "households"),
    ("unsigned", "plans.col_unsigned", "households"),
    ("signing_rate", "plans.col_signing_rate", "ratio"),
)

#: Old-community figures: key → unit (labels ``report.old_<key>``).
_OLD_ITEMS = {
    "communities": "count",
    "parcels": "count",
    "buildings": "count",
    "households": "households",
    "households_residential": "households",
    "floor_area_m2": "m2",
    "investment_wan": "",
}


def _plain_figure(value: Any, unit: str, lang: str) -> Cell:
    """A figure of a renewal table; 亩 shown without the unit (the label names it)."""
    if unit == "mu":
        v = finite_number(value)
        text = formats.number(v, 1) if v is not None else formats.MISSING
        return Cell(text, v, _FORMATS["mu"], "num")
    return figure_cell(value, unit, lang)


def _status(code: Any, lang: str) -> str:
    return status_label(code, lang) if code in SIGNING_STATUSES else ("" if code is None else code)


def _items_table(key: str, rows: Iterable[tuple[str, Cell]], lang: str, caption: str = "") -> Table:
    columns = (
        Column(label("report.col_item", lang), 2.0),
        Column(label("report.col_figure", lang), 1.4),
    )
    body = tuple((Cell(name), cell) for name, cell in rows)
    return Table(key, columns, body, caption=caption)


def renewal_tables(progress: RenewalProgress, lang: str) -> tuple[Table, ...]:
    """The renewal totals, the old-community figures and one row per plan."""
    totals = progress.renewal
    items = [
        (label(name, lang), _plain_figure(totals[k], unit, lang))
        for k, name, unit in _RENEWAL_ITEMS
        if k in totals
    ]
    if "signing_status" in totals:
        items.append(
            (label("plans.col_status", lang), Cell(_status(totals["signing_status"], lang)))
        )
    tables = [_items_table("renewal", items, lang)]
    if progress.old_communities:
        tables.append(_old_table(progress.old_communities, lang))
    if progress.plans:
        tables.append(plans_table(progress.plans, lang))
    return tuple(tables)


def _old_table(figures: Mapping[str, Any], lang: str) -> Table:
    headers = column_headers(lang)
    items = []
    for key, value in figures.items():
        if key in _OLD_ITEMS:
            name, unit = label(f"report.old_{key}", lang), _OLD_ITEMS[key]
        else:
            name, unit = headers.get(key, key), "" if finite_number(value) is not None else "text"
        items.append(
            (name, text_cell(value) if unit == "text" else _plain_figure(value, unit, lang))
        )
    return _items_table("old_communities", items, lang, label("report.sec_old", lang))


#: Plan columns shown, in order: (keys tried, label key, unit).
_PLAN_COLUMNS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("plan_id",), "plans.col_plan_id", "text"),
    (("name", "plan_name"), "plans.col_name", "text"),
    (("plan_type",), "report.col_plan_type", "type"),
    (("area_mu",), "plans.col_area_mu", "mu"),
    (("parcel_count",), "plans.col_parcel_count", "count"),
    (("households_total",), "plans.col_households_total", "households"),
    (("signed",), "plans.col_signed", "households"),
    (("signing_rate",), "plans.col_signing_rate", "ratio"),
    (("signing_status",), "plans.col_status", "status"),
)


def plans_table(plans: Sequence[Mapping[str, Any]], lang: str) -> Table:
    """One row per renewal plan, the columns the plans carry."""
    present = set().union(*(p.keys() for p in plans))
    chosen = [
        (next(k for k in keys if k in present), name, unit)
        for keys, name, unit in _PLAN_COLUMNS
        if any(k in present for k in keys)
    ]
    widths = {"text": 1.4, "type": 1.2}
    columns = tuple(Column(label(name, lang), widths.get(unit, 1.0)) for _, name, unit in chosen)
    cell: dict[str, Callable[[Any], Cell]] = {
        "text": text_cell,
        "type": lambda v: Cell(plan_type_name(v, lang)),
        "status": lambda v: Cell(_status(v, lang)),
    }
    rows = tuple(
        tuple(
            cell[unit](plan.get(key)) if unit in cell else _plain_figure(plan.get(key), unit, lang)
            for key, _, unit in chosen
        )
        for plan in plans
    )
    return Table("plans", columns, rows, caption=label("report.sec_plans", lang))


# --------------------------------------------------------------------------- history


def _first(record: Mapping[str, Any], *keys: str) -> Any:
    return next((record[k] for k in keys if k in record), None)


def park_tables(checkup: Checkup, batch: ParkBatch, lang: str) -> tuple[Table, ...]:
    """The parks the latest batch added, and coverage before/after by method."""
    columns = (
        Column(label("report.col_park_id", lang), 1.0),
        Column(label("report.col_park_name", lang), 2.0),
        Column(label("report.col_park_area", lang), 1.2),
        Column(label("report.col_park_gain", lang), 1.4),
    )
    parks = tuple(
        (
            text_cell(_first(p, "park_id", "id")),
            text_cell(_first(p, "name", "park_name")),
            figure_cell(_first(p, "area_m2", "park_area_m2"), "count", lang),
            figure_cell(_first(p, "gain_m2", "unique_gain_m2", "own_gain_m2"), "count", lang),
        )
        for p in batch.parks
    )
    methods = [k for k in (*batch.before, *batch.after) if k in batch.before or k in batch.after]
    methods = list(dict.fromkeys(methods))
    change_columns = (
        Column(label("report.col_method", lang), 2.0),
        Column(label("report.col_before", lang), 1.0),
        Column(label("report.col_after", lang), 1.0),
        Column(label("report.col_change", lang), 1.2),
        Column(label("report.col_gain_m2", lang), 1.4),
        Column(label("report.col_households_gain", lang), 1.2),
    )
    changes = tuple(
        (
            Cell(_name_of(checkup, key, lang)),
            figure_cell(batch.before.get(key), "ratio", lang),
            figure_cell(batch.after.get(key), "ratio", lang),
            change_cell(batch.before.get(key), batch.after.get(key), "ratio", lang),
            figure_cell(batch.gain_m2.get(key), "count", lang),
            figure_cell(batch.households_gain.get(key), "households", lang),
        )
        for key in methods
    )
    return (
        Table("latest_parks", columns, parks),
        Table("latest_parks_change", change_columns, changes),
    )


def blind_spots_line(batch: ParkBatch, lang: str) -> str:
    """``消除服务盲区 3 处，1,234 m²`` when the batch says how many it closed."""
    closed = batch.blind_spots_closed or {}
    count = _first(closed, "count", "n")
    if finite_number(count) is None:
        return ""
    area = formats.area(_first(closed, "area_m2", "area"), lang=lang)
    return label("report.blind_spots_closed", lang).format(count=formats.count(count), area=area)


def since_tables(checkup: Checkup, since: SinceRun, lang: str) -> tuple[Table, ...]:
    """Every indicator then and now; each district's headline ratio then and now."""
    keys = list(dict.fromkeys([*since.now, *since.then]))
    columns = (
        Column(label("report.col_indicator", lang), 2.4),
        Column(label("report.col_then", lang), 1.0),
        Column(label("report.col_now", lang), 1.0),
        Column(label("report.col_change", lang), 1.2),
    )
    rows = []
    for key in keys:
        unit = _unit_of(checkup, key)
        then, now = since.then.get(key), since.now.get(key)
        rows.append(
            (
                Cell(_name_of(checkup, key, lang)),
                figure_cell(then, unit, lang),
                figure_cell(now, unit, lang),
                change_cell(then, now, unit, lang),
            )
        )
    tables = [Table("since", columns, tuple(rows))]
    if since.districts:
        head = (Column(label("report.col_district", lang), 2.4), *columns[1:])
        body = tuple(
            (
                text_cell(_first(d, "name") or _first(d, "district_id")),
                figure_cell(d.get("then"), "ratio", lang),
                figure_cell(d.get("now"), "ratio", lang),
                change_cell(d.get("then"), d.get("now"), "ratio", lang),
            )
            for d in since.districts
        )
        tables.append(Table("since_districts", head, body))
    return tuple(tables)


# --------------------------------------------------------------------------- trace


def trace_lines(checkup: Checkup, lang: str) -> tuple[str, ...]:
    """The rule set, the run, when and by which version, whether the layers changed since."""
    rules = checkup.rules or {}
    rule_text = " ".join(
        str(part)
        for part in (
            rules.get("name"),
            f"v{rules['version']}" if rules.get("version") else None,
            rules.get("title"),
            f"({rules['source']})" if rules.get("source") else None,
        )
        if part
    )
    run = (
        label("report.trace_run_value", lang).format(run=checkup.run_id)
        if checkup.run_id is not None
        else label("report.trace_no_run", lang)
    )
    state = "report.trace_current" if checkup.results_current else "report.trace_stale"
    colon = "：" if lang == "zh" else ": "
    return (
        f"{label('report.trace_rules', lang)}{colon}{rule_text or formats.MISSING}",
        f"{label('report.trace_run', lang)}{colon}{run}"
        + (f"（{label(state, lang)}）" if lang == "zh" else f" ({label(state, lang)})"),
        f"{label('report.trace_computed', lang)}{colon}"
        f"{formats.local_time(checkup.computed_utc, lang, zone=checkup.time_zone)}",
        f"{label('report.trace_version', lang)}{colon}{checkup.gisrenew_version}",
    )


def trace_tables(checkup: Checkup, lang: str) -> tuple[Table, ...]:
    """The target files and the input layers, each with its full SHA-256."""
    files = (checkup.targets or {}).get("files") or []
    target_table = Table(
        "trace_targets",
        (Column(label("report.trace_file", lang), 2.0), Column("SHA-256", 3.0)),
        tuple(
            (text_cell(f.get("path")), Cell(str(f.get("sha256", "")), style="hash")) for f in files
        ),
        caption=label("report.trace_targets", lang),
    )
    input_table = Table(
        "trace_inputs",
        (
            Column(label("report.trace_kind", lang), 1.0),
            Column(label("report.trace_source", lang), 2.2),
            Column(label("report.trace_features", lang), 0.9),
            Column("SHA-256", 3.0),
        ),
        tuple(
            (
                text_cell(t.kind),
                text_cell(t.source),
                figure_cell(t.features, "count", lang),
                Cell(t.sha256, style="hash"),
            )
            for t in checkup.inputs
        ),
        caption=label("report.trace_inputs", lang),
    )
    return (target_table, input_table)


# --------------------------------------------------------------------------- assembly


def report_content(checkup: Checkup, lang: str = "zh") -> ReportContent:
    """The report of `checkup` in `lang` (``zh`` or ``en``), section by section.

    Sections without data are left out: districts without a districts layer, renewal
    without plans, the latest parks without a park batch in the history, the change
    without an earlier run chosen, the map without map layers.
    """
    check_lang(lang)
    sections = [
        Section(
            "sheet",
            label("report.sec_sheet", lang),
            (),
            (sheet_table(checkup, lang),),
            sheet="indicators",
        ),
    ]
    if any(len(frame) for frame in checkup.map_layers.values()):
        sections.append(Section("map", label("report.sec_map", lang), picture=True))
    if checkup.districts:
        sections.append(
            Section(
                "districts",
                label("report.sec_districts", lang),
                tables=(district_table(checkup, lang),),
                sheet="districts",
            )
        )
    if checkup.renewal is not None:
        sections.append(
            Section(
                "renewal",
                label("report.sec_renewal", lang),
                tables=renewal_tables(checkup.renewal, lang),
                sheet="renewal",
            )
        )
    sections += _history_sections(checkup, lang)
    sections.append(
        Section(
            "trace",
            label("report.sec_trace", lang),
            trace_lines(checkup, lang),
            trace_tables(checkup, lang),
            sheet="trace",
        )
    )
    return ReportContent(
        lang=lang,
        title=label("report.title", lang).format(city=checkup.city),
        subtitle=label("report.computed", lang).format(
            time=formats.local_time(checkup.computed_utc, lang, zone=checkup.time_zone)
        ),
        headline=headline(checkup, lang),
        sections=tuple(sections),
    )


def _history_sections(checkup: Checkup, lang: str) -> list[Section]:
    out = []
    batch = checkup.latest_parks
    if batch is not None:
        heading = label("report.sec_parks", lang).format(
            run=batch.run_id, time=formats.local_time(batch.time_utc, lang, zone=checkup.time_zone)
        )
        line = blind_spots_line(batch, lang)
        out.append(
            Section(
                "parks",
                heading,
                (line,) if line else (),
                park_tables(checkup, batch, lang),
                sheet="parks",
            )
        )
    since = checkup.since
    if since is not None:
        heading = label("report.sec_since", lang).format(
            run=since.run_id, time=formats.local_time(since.time_utc, lang, zone=checkup.time_zone)
        )
        out.append(
            Section("since", heading, tables=since_tables(checkup, since, lang), sheet="since")
        )
    return out
