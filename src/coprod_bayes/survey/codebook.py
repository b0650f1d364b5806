"""Codebooks: the survey instrument as data.

A codebook (YAML) names every column of a survey wave: each item's construct, policy area,
response scale (ordered codes with labels), missing-value codes and reverse keying; the
demographics; the grouping columns (``country``, ``area``, ``wave``); the respondent id and the
weight. Nothing in the package hard-codes an item list: a new wave is a new codebook.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..errors import SurveyDataError

__all__ = ["Scale", "Item", "Harmonise", "Demographic", "Treatment", "Group", "Codebook",
           "load_codebook", "builtin_codebooks"]


@dataclass(frozen=True)
class Scale:
    """An ordered response scale.

    Parameters
    ----------
    name : str
        The scale's name in the codebook.
    codes : tuple of int
        The valid response codes, in order from lowest to highest.
    labels : tuple of str
        One label per code.
    missing : dict
        Codes that mean a missing answer, mapped to their reason (``dont_know``, ``refused``).
    """

    name: str
    codes: tuple[int, ...]
    labels: tuple[str, ...]
    missing: dict[int, str] = field(default_factory=dict, hash=False, compare=True)

    @property
    def min(self) -> int:
        """Lowest valid code."""
        return min(self.codes)

    @property
    def max(self) -> int:
        """Highest valid code."""
        return max(self.codes)

    @property
    def n_categories(self) -> int:
        """Number of response categories."""
        return len(self.codes)


@dataclass(frozen=True)
class Harmonise:
    """How an item's codes map onto another wave's scale for the same question: ``codes``
    maps every code of the item's own scale to a code of ``scale``. Used by
    :func:`coprod_bayes.combine` when the waves asked a shared item on different scales."""

    scale: Scale
    codes: dict[int, int] = field(hash=False, compare=True)


@dataclass(frozen=True)
class Item:
    """One survey question measuring a construct.

    ``reverse=True`` means a high code means *less* of the construct; scoring functions
    (:meth:`Survey.scored_items`) reverse it as ``min + max - code``, the raw frame never.
    ``harmonise`` (optional) maps the item's codes onto the scale another wave asked the same
    question on.
    """

    column: str
    construct: str
    scale: Scale
    area: str | None = None
    label: str = ""
    reverse: bool = False
    harmonise: Harmonise | None = None


@dataclass(frozen=True)
class Demographic:
    """A respondent characteristic: ``numeric`` (with optional range) or ``binary`` (0/1)."""

    column: str
    type: str
    label: str = ""
    min: float | None = None
    max: float | None = None
    missing: dict[int, str] = field(default_factory=dict, hash=False, compare=True)


@dataclass(frozen=True)
class Treatment:
    """A randomised treatment indicator (0 = not shown, 1 = shown), known for everyone.

    ``optional``: missing for respondents of waves without the experiment (combined surveys).
    """

    column: str
    label: str = ""
    optional: bool = False


@dataclass(frozen=True)
class Group:
    """A grouping column (``country``, ``area``, ``wave``) with its allowed levels.

    ``optional``: the column may be missing (in a combined survey, for the waves that did not
    record it); otherwise every respondent needs a level.
    """

    column: str
    levels: tuple[str, ...]
    labels: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    optional: bool = False


@dataclass(frozen=True)
class Codebook:
    """A validated codebook; build it with :func:`load_codebook`.

    The constructor does not validate; the parameters are kept as (frozen) attributes of
    the same names.

    Parameters
    ----------
    name : str
        The codebook's name (``"eu5_2008"``).
    title : str
        A descriptive title.
    id : str
        The respondent id column.
    weight : str or None
        The survey-weight column, if any.
    wave : str or None
        The wave's label (``"2008"``), if any.
    groups : tuple of Group
        The grouping columns (``country``, ``area``, ``wave``) with their levels.
    areas : tuple of str
        The policy areas items may belong to (empty if none).
    scales : dict of str to Scale
        The response scales by name.
    constructs : dict of str to dict
        The constructs by name, with their settings from the YAML (``label`` ...).
    demographics : tuple of Demographic, default ()
        The respondent characteristics.
    items : tuple of Item, default ()
        The survey questions, in codebook order.
    indexes : dict of str to tuple of str, optional
        Composite indexes: name -> the constructs they combine (``coproduction``).
    treatments : tuple of Treatment, default ()
        Randomised treatment indicators.
    constants : dict of str to str, optional
        Columns with one value for the whole wave (the 2011 panels' ``country: GB``), used
        by :func:`coprod_bayes.combine`.
    raw : dict, optional
        The parsed YAML the codebook was built from (not compared).

    Examples
    --------
    >>> from coprod_bayes.survey.codebook import load_codebook
    >>> cb = load_codebook("eu5_2008")
    >>> [it.column for it in cb.items_of("efficacy")]
    ['efficacy_safety', 'efficacy_environment', 'efficacy_health']
    >>> cb.id, cb.weight, cb.areas
    ('respondent_id', 'weight', ('safety', 'environment', 'health'))
    >>> cb.indexes
    {'coproduction': ('individual', 'collective')}
    """

    name: str
    title: str
    id: str
    weight: str | None
    wave: str | None
    groups: tuple[Group, ...]
    areas: tuple[str, ...]
    scales: dict[str, Scale] = field(hash=False, compare=True)
    constructs: dict[str, dict[str, Any]] = field(hash=False, compare=True)
    demographics: tuple[Demographic, ...] = ()
    items: tuple[Item, ...] = ()
    indexes: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False, compare=True)
    treatments: tuple[Treatment, ...] = ()
    constants: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    raw: dict[str, Any] = field(default_factory=dict, hash=False, compare=False, repr=False)

    # ------------------------------------------------------------------ look-ups
    @property
    def item_columns(self) -> list[str]:
        """Every item column, in codebook order."""
        return [it.column for it in self.items]

    @property
    def demographic_columns(self) -> list[str]:
        """Every demographic column, in codebook order."""
        return [d.column for d in self.demographics]

    @property
    def treatment_columns(self) -> list[str]:
        """Every randomised treatment column, in codebook order."""
        return [t.column for t in self.treatments]

    @property
    def group_columns(self) -> list[str]:
        """Every grouping column, in codebook order."""
        return [g.column for g in self.groups]

    def group(self, column: str) -> Group:
        """The grouping column named ``column``.

        Parameters
        ----------
        column : str
            A grouping column (``"country"``).

        Returns
        -------
        Group
            With its ``levels`` (in codebook order), ``labels`` and ``optional``.

        Raises
        ------
        SurveyDataError
            If the codebook has no grouping column ``column``.

        Examples
        --------
        >>> load_codebook("uk_panels_2011").group("area").levels
        ('LB', 'MB', 'LT', 'RA')
        """
        for g in self.groups:
            if g.column == column:
                return g
        raise SurveyDataError(
            f"codebook {self.name!r} has no grouping column {column!r}; "
            f"it has {self.group_columns}"
        )

    def items_of(self, construct: str, area: str | None = None) -> list[Item]:
        """The items of one construct (optionally of one policy area), in codebook order.

        Parameters
        ----------
        construct : str
            A construct of the codebook.
        area : str, optional
            Only the items of this policy area (an unknown area gives no items).

        Returns
        -------
        list of Item

        Raises
        ------
        SurveyDataError
            If ``construct`` is not a construct of the codebook.

        Examples
        --------
        >>> [it.column for it in load_codebook("eu5_2008").items_of("collective", "health")]
        ['collective_health_1', 'collective_health_2']
        """
        if construct not in self.constructs:
            raise SurveyDataError(
                f"codebook {self.name!r} has no construct {construct!r}; "
                f"it has {sorted(self.constructs)}"
            )
        return [
            it
            for it in self.items
            if it.construct == construct and (area is None or it.area == area)
        ]

    def item(self, column: str) -> Item:
        """The item whose column is ``column``.

        Parameters
        ----------
        column : str
            An item column.

        Returns
        -------
        Item
            With its construct, scale, area, label, reverse keying and harmonise mapping.

        Raises
        ------
        SurveyDataError
            If no item has that column.

        Examples
        --------
        >>> it = load_codebook("eu5_2008").item("efficacy_safety")
        >>> it.construct, it.area, it.scale.codes
        ('efficacy', 'safety', (0, 1, 2, 3))
        """
        for it in self.items:
            if it.column == column:
                return it
        raise SurveyDataError(f"codebook {self.name!r} has no item column {column!r}")

    @property
    def columns(self) -> list[str]:
        """Every column the codebook names: id, groups, weight, treatments, demographics,
        items."""
        cols = [self.id, *self.group_columns]
        if self.weight:
            cols.append(self.weight)
        return cols + self.treatment_columns + self.demographic_columns + self.item_columns


def builtin_codebooks() -> list[str]:
    """Names of the codebooks shipped with the package."""
    folder = resources.files("coprod_bayes.survey") / "data"
    return sorted(
        p.name[: -len(".yaml")]
        for p in folder.iterdir()
        if p.name.endswith(".yaml") and not p.name.endswith("_design.yaml")
        and not p.name.endswith("_params.yaml")
    )


def _read_yaml(source: str | Path | dict) -> tuple[dict, str]:
    if isinstance(source, dict):
        return copy.deepcopy(source), "<dict>"
    text_source = str(source)
    if text_source in builtin_codebooks():
        res = resources.files("coprod_bayes.survey") / "data" / f"{text_source}.yaml"
        return yaml.safe_load(res.read_text(encoding="utf-8")), f"built-in {text_source!r}"
    path = Path(source)
    if not path.exists():
        raise SurveyDataError(
            f"codebook {text_source!r} is neither a built-in codebook "
            f"({', '.join(builtin_codebooks())}) nor an existing YAML file"
        )
    # Duplicate keys would silently overwrite each other in PyYAML: detect them.
    text = path.read_text(encoding="utf-8")
    _check_duplicate_keys(text, str(path))
    return yaml.safe_load(text), str(path)


class _DupLoader(yaml.SafeLoader):
    pass


def _no_dup_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise SurveyDataError(
                f"codebook names {key!r} twice (lines {seen[key] + 1} and "
                f"{key_node.start_mark.line + 1}); each column, scale, group or construct "
                "may appear once"
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_DupLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_dup_mapping)


def _check_duplicate_keys(text: str, where: str) -> None:
    try:
        yaml.load(text, Loader=_DupLoader)  # noqa: S506 - SafeLoader subclass
    except SurveyDataError as err:
        raise SurveyDataError(f"{where}: {err}") from None


def _missing_map(raw: Any, where: str) -> dict[int, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SurveyDataError(f"{where}: 'missing' must map codes to reasons, got {raw!r}")
    return {int(k): str(v) for k, v in raw.items()}


def _composite_indexes(raw: dict, constructs: dict, where: str) -> dict[str, tuple[str, ...]]:
    out = {}
    for name, spec in (raw.get("indexes") or {}).items():
        members = tuple((spec or {}).get("constructs") or ())
        unknown = [m for m in members if m not in constructs]
        if not members or unknown:
            raise SurveyDataError(
                f"codebook {where}: index {name!r} must list known constructs; "
                f"unknown: {unknown}, known: {sorted(constructs)}"
            )
        if name in constructs:
            raise SurveyDataError(f"codebook {where}: index {name!r} has a construct's name")
        out[str(name)] = members
    return out


def _harmonise(raw: Any, own: Scale, scales: dict[str, Scale], where: str) -> Harmonise | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("scale") not in scales or not isinstance(
            raw.get("codes"), dict):
        raise SurveyDataError(f"{where}: 'harmonise' needs a defined 'scale' (one of "
                              f"{sorted(scales)}) and a 'codes' mapping; got {raw!r}")
    target = scales[raw["scale"]]
    codes = {int(k): int(v) for k, v in raw["codes"].items()}
    unmapped = [c for c in own.codes if c not in codes]
    outside = sorted({v for v in codes.values() if v not in target.codes})
    stray = sorted(set(codes) - set(own.codes))
    if unmapped or outside or stray:
        raise SurveyDataError(
            f"{where}: 'harmonise' must map every code of scale {own.name!r} {list(own.codes)} "
            f"to a code of {target.name!r} {list(target.codes)}; unmapped {unmapped}, targets "
            f"outside {outside}, unknown source codes {stray}")
    return Harmonise(target, codes)


def load_codebook(source: str | Path | dict | Codebook) -> Codebook:
    """Read and validate a codebook.

    Parameters
    ----------
    source : str, Path, dict or Codebook
        The name of a built-in codebook (``"eu5_2008"``), a path to a YAML file, or the parsed
        mapping. A :class:`Codebook` is returned unchanged.

    Returns
    -------
    Codebook

    Raises
    ------
    SurveyDataError
        If a column is named twice, a scale is empty or unknown, an item names an unknown
        construct or area, or a required key is missing.

    Examples
    --------
    >>> cb = load_codebook("eu5_2008")
    >>> cb.group("country").levels
    ('CZ', 'DK', 'DE', 'FR', 'GB')
    """
    if isinstance(source, Codebook):
        return source
    raw, where = _read_yaml(source)
    if not isinstance(raw, dict):
        raise SurveyDataError(f"codebook {where}: expected a mapping at top level")
    for key in ("name", "id", "scales", "items"):
        if key not in raw:
            raise SurveyDataError(f"codebook {where}: required key {key!r} is missing")

    scales: dict[str, Scale] = {}
    for sname, s in (raw.get("scales") or {}).items():
        codes = list((s or {}).get("codes") or [])
        if len(codes) < 2:
            raise SurveyDataError(
                f"codebook {where}: scale {sname!r} has {len(codes)} code(s) {codes}; "
                "a response scale needs at least two ordered codes"
            )
        # An explicit empty list is a mismatch, not "use the codes as labels".
        labels = s.get("labels")
        labels = [str(c) for c in codes] if labels is None else list(labels)
        if len(labels) != len(codes):
            raise SurveyDataError(
                f"codebook {where}: scale {sname!r} has {len(codes)} codes but "
                f"{len(labels)} labels"
            )
        if sorted(codes) != codes or len(set(codes)) != len(codes):
            raise SurveyDataError(
                f"codebook {where}: scale {sname!r} codes {codes} must be distinct and increasing"
            )
        missing = _missing_map(s.get("missing"), f"codebook {where}: scale {sname!r}")
        clash = sorted(set(missing) & set(codes))
        if clash:
            raise SurveyDataError(
                f"codebook {where}: scale {sname!r} uses {clash} both as a response and as a "
                "missing-value code"
            )
        scales[sname] = Scale(sname, tuple(int(c) for c in codes), tuple(map(str, labels)),
                              missing)

    areas = tuple(raw.get("areas") or ())
    constructs = {str(k): dict(v or {}) for k, v in (raw.get("constructs") or {}).items()}

    groups = []
    for gname, g in (raw.get("groups") or {}).items():
        levels = tuple(str(x) for x in ((g or {}).get("levels") or ()))
        if not levels:
            raise SurveyDataError(f"codebook {where}: group {gname!r} lists no levels")
        groups.append(Group(str(gname), levels, dict((g or {}).get("labels") or {}),
                            bool((g or {}).get("optional", False))))

    treatments = []
    for tname, t in (raw.get("treatments") or {}).items():
        treatments.append(Treatment(str(tname), str((t or {}).get("label", "")),
                                    bool((t or {}).get("optional", False))))
    constants = {str(k): str(v) for k, v in (raw.get("constants") or {}).items()}

    demographics = []
    for dname, d in (raw.get("demographics") or {}).items():
        d = d or {}
        dtype = d.get("type", "numeric")
        if dtype not in ("numeric", "binary"):
            raise SurveyDataError(
                f"codebook {where}: demographic {dname!r} has type {dtype!r}; "
                "use 'numeric' or 'binary'"
            )
        demographics.append(
            Demographic(str(dname), dtype, str(d.get("label", "")), d.get("min"), d.get("max"),
                        _missing_map(d.get("missing"), f"codebook {where}: {dname!r}"))
        )

    items = []
    raw_items = raw.get("items") or {}
    if not raw_items:
        raise SurveyDataError(f"codebook {where}: lists no items")
    for col, it in raw_items.items():
        it = it or {}
        construct = it.get("construct")
        if construct is None:
            raise SurveyDataError(f"codebook {where}: item {col!r} names no construct")
        if construct not in constructs:
            constructs[construct] = {"label": construct}
        sname = it.get("scale")
        if sname not in scales:
            raise SurveyDataError(
                f"codebook {where}: item {col!r} uses scale {sname!r}, which is not defined; "
                f"defined scales: {sorted(scales)}"
            )
        area = it.get("area")
        if area is not None and area not in areas:
            raise SurveyDataError(
                f"codebook {where}: item {col!r} is in area {area!r}, not among the "
                f"codebook's areas {list(areas)}"
            )
        items.append(Item(str(col), str(construct), scales[sname], area,
                          str(it.get("label", "")), bool(it.get("reverse", False)),
                          _harmonise(it.get("harmonise"), scales[sname], scales,
                                     f"codebook {where}: item {col!r}")))

    cb = Codebook(
        name=str(raw["name"]), title=str(raw.get("title", raw["name"])), id=str(raw["id"]),
        weight=raw.get("weight"), wave=None if raw.get("wave") is None else str(raw["wave"]),
        groups=tuple(groups), areas=areas, scales=scales, constructs=constructs,
        demographics=tuple(demographics), items=tuple(items), raw=raw,
        indexes=_composite_indexes(raw, constructs, where), treatments=tuple(treatments),
        constants=constants,
    )
    names = cb.columns
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise SurveyDataError(
            f"codebook {where}: column(s) {dup} are named more than once (as id, group, weight, "
            "demographic or item); each column may appear once"
        )
    return cb
