"""Several survey waves as one :class:`Survey` with a ``wave`` grouping column.

Items are matched by column name: the same name in two codebooks is the same question. Each
wave keeps its own codebook (``survey.waves``); the combined codebook has every item, the
demographics, groups and treatments of every wave, and ``wave``. What one wave did not ask
is missing for its respondents, with the reason ``not_asked``; nothing is recoded except by
a mapping a codebook states (``harmonise``), and every such recoding is listed in
``survey.harmonised``.
"""

from __future__ import annotations

import pandas as pd

from ..errors import SurveyDataError
from .codebook import Scale, load_codebook
from .survey import Survey
from .validate import validate_frame

__all__ = ["combine"]


def _same_scale(a: Scale, b: Scale) -> bool:
    return a.codes == b.codes and a.labels == b.labels


def _scale_dict(s: Scale) -> dict:
    return {"codes": list(s.codes), "labels": list(s.labels),
            "missing": {int(k): v for k, v in s.missing.items()}}


def combine(*surveys: Survey, wave_column: str = "wave") -> Survey:
    """Stack survey waves into one :class:`Survey` with a ``wave`` column.

    Parameters
    ----------
    *surveys : Survey
        Two or more waves (e.g. ``cb.simulate()`` and ``cb.simulate("uk_panels_2011")``),
        each with a distinct wave label (its codebook's ``wave`` or its ``wave`` column).
    wave_column : str, default "wave"
        The name of the new grouping column holding each respondent's wave label.

    Returns
    -------
    Survey
        Its codebook (named ``"eu5_2008+uk_panels_2011"`` ...) has every wave's items
        (shared items once), demographics, treatments and groups, plus ``wave``; a group,
        treatment, demographic or item a wave lacks is missing for that wave's respondents
        (reason ``not_asked``), a codebook ``constants`` entry (the 2011 panels'
        ``country: GB``) fills its column instead. Waves without survey weights get weight 1
        (each respondent stands for one). ``waves`` holds each wave's codebook; ``truth``
        each simulated wave's truth by wave label; ``harmonised`` lists the items recoded by
        a codebook's ``harmonise`` mapping (wave, item, mapping, responses recoded).

    Raises
    ------
    SurveyDataError
        When the waves cannot be combined: fewer than two, one without a wave label, two
        with the same wave label, a wave with a grouping column named ``wave_column``, the
        same respondent id in two waves, an item whose construct, policy area or scale
        differs between waves without a ``harmonise`` mapping, a construct asked in two waves
        with no item in common (nothing links its scale), a demographic of different types.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> both = cb.combine(cb.simulate(n_per_country=40, seed=1),
    ...                   cb.simulate("uk_panels_2011", n_per_area=40, seed=1,
    ...                               truth_population=1000))
    >>> both.levels("wave"), both.n_respondents
    (['2008', '2011'], 360)
    """
    if len(surveys) < 2:
        raise SurveyDataError(f"combine needs two or more surveys, got {len(surveys)}")
    labels = [s.wave for s in surveys]
    if any(lb is None for lb in labels):
        which = [i for i, lb in enumerate(labels) if lb is None]
        raise SurveyDataError(f"combine: survey(s) {which} have no wave label (codebook "
                              "'wave' or a single-valued 'wave' column)")
    dup = sorted({lb for lb in labels if labels.count(lb) > 1})
    if dup:
        raise SurveyDataError(f"combine: wave label(s) {dup} given twice; each wave once")
    cbs = [s.codebook for s in surveys]
    idc = cbs[0].id

    # respondent ids unique across waves
    seen: dict = {}
    clashes = []
    for s, lb in zip(surveys, labels, strict=True):
        for v in s.frame[s.codebook.id].tolist():
            if v in seen and seen[v] != lb:
                clashes.append((v, seen[v], lb))
            seen.setdefault(v, lb)
    if clashes:
        shown = ", ".join(f"{v!r} ({a} and {b})" for v, a, b in clashes[:5])
        raise SurveyDataError(
            f"combine: {len(clashes)} respondent id(s) occur in two waves: {shown}"
            f"{' ...' if len(clashes) > 5 else ''}. A respondent id must identify one "
            "respondent; give each wave its own ids (e.g. prefix them with the wave)")

    # items: shared by name; same construct and area; same scale or a harmonise mapping
    items: dict[str, dict] = {}
    recode: dict[tuple[str, str], dict[int, int]] = {}   # (wave, item) -> code map
    owner: dict[str, str] = {}
    for cbk, lb in zip(cbs, labels, strict=True):
        for it in cbk.items:
            if it.column not in items:
                items[it.column] = {"construct": it.construct, "area": it.area,
                                    "scale": it.scale, "label": it.label,
                                    "reverse": it.reverse, "harmonise": it.harmonise}
                owner[it.column] = lb
                continue
            first = items[it.column]
            where = f"combine: item {it.column!r} (waves {owner[it.column]} and {lb})"
            if (first["construct"], first["area"]) != (it.construct, it.area):
                raise SurveyDataError(
                    f"{where} measures {first['construct']!r} in area {first['area']!r} in one "
                    f"wave and {it.construct!r} in area {it.area!r} in the other; a shared "
                    "column name must be the same question")
            if first["reverse"] != it.reverse:
                raise SurveyDataError(f"{where} is reverse-keyed in one wave only")
            if _same_scale(first["scale"], it.scale):
                continue
            if it.harmonise is not None and _same_scale(it.harmonise.scale, first["scale"]):
                recode[(lb, it.column)] = it.harmonise.codes
            elif (first["harmonise"] is not None
                  and _same_scale(first["harmonise"].scale, it.scale)):
                recode[(owner[it.column], it.column)] = first["harmonise"].codes
                first["scale"] = it.scale
            else:
                raise SurveyDataError(
                    f"{where} was asked on scale {first['scale'].name!r} "
                    f"{list(first['scale'].labels)} in one wave and {it.scale.name!r} "
                    f"{list(it.scale.labels)} in the other, and neither codebook maps one onto "
                    "the other; add `harmonise: {scale: ..., codes: {...}}` to the item in the "
                    "codebook whose scale differs")

    # a construct asked in two or more waves must share an item
    for con in dict.fromkeys(c for cbk in cbs for c in cbk.constructs):
        having = [(lb, {it.column for it in cbk.items if it.construct == con})
                  for cbk, lb in zip(cbs, labels, strict=True)
                  if any(it.construct == con for it in cbk.items)]
        if len(having) > 1 and not set.intersection(*(cols for _, cols in having)):
            detail = "; ".join(f"{lb}: {sorted(cols)}" for lb, cols in having)
            raise SurveyDataError(
                f"combine: construct {con!r} has no item shared by the waves that ask it "
                f"({detail}); with no common item nothing links its scale across waves. "
                "Name the same question alike in both codebooks, or rename the construct in "
                "one of them")

    # demographics, treatments, groups
    demos: dict[str, dict] = {}
    for cbk in cbs:
        for d in cbk.demographics:
            if d.column in demos and demos[d.column]["type"] != d.type:
                raise SurveyDataError(f"combine: demographic {d.column!r} is "
                                      f"{demos[d.column]['type']} in one wave and {d.type} in "
                                      "another")
            entry = demos.setdefault(d.column, {"type": d.type, "label": d.label, "min": d.min,
                                                "max": d.max, "missing": {}})
            entry["missing"].update(d.missing)
    treat = {t.column: t.label for cbk in cbs for t in cbk.treatments}
    groups: dict[str, dict] = {}
    for cbk in cbs:
        for g in cbk.groups:
            e = groups.setdefault(g.column, {"levels": [], "labels": {}})
            e["levels"] += [lv for lv in g.levels if lv not in e["levels"]]
            e["labels"].update(g.labels)
    for cbk in cbs:
        for col, val in cbk.constants.items():
            if col in groups and val not in groups[col]["levels"]:
                groups[col]["levels"].append(val)
    if wave_column in groups:
        raise SurveyDataError(f"combine: a wave already has a group column {wave_column!r}")
    weighted = any(cbk.weight for cbk in cbs)
    wcol = next((cbk.weight for cbk in cbs if cbk.weight), None)

    # frames
    frames, reasons = [], []
    harmonised = []
    for s, cbk, lb in zip(surveys, cbs, labels, strict=True):
        f = s.frame.copy()
        if cbk.id != idc:
            f = f.rename(columns={cbk.id: idc})
        if cbk.weight and cbk.weight != wcol:
            f = f.rename(columns={cbk.weight: wcol})
        r = s.missing_reasons.copy()
        for (w, col), mapping in recode.items():
            if w == lb:
                before = f[col]
                f[col] = before.map(lambda v, m=mapping: m.get(int(v)) if pd.notna(v) else v)
                harmonised.append({"wave": lb, "item": col, "mapping": dict(mapping),
                                   "recoded": int((before.notna() & (before != f[col])).sum())})
        for col, val in cbk.constants.items():
            f[col] = val
        if weighted and not cbk.weight:
            f[wcol] = 1.0
        f[wave_column] = lb
        not_asked = [c for c in [*items, *demos, *treat] if c not in f.columns]
        for c in not_asked:
            f[c] = float("nan")
            r[c] = pd.Series("not_asked", index=f.index, dtype="string")
        for g in groups:
            if g not in f.columns:
                f[g] = None
        frames.append(f)
        reasons.append(r)
    frame = pd.concat(frames, ignore_index=True)
    reasons = pd.concat(reasons, ignore_index=True)
    reasons = reasons.astype("string")

    complete_groups = {g for g in groups if frame[g].notna().all()}
    raw_scales = {}
    raw_items = {}
    for col, spec in items.items():
        name = spec["scale"].name
        if name in raw_scales and raw_scales[name] != _scale_dict(spec["scale"]):
            name = f"{name}_{col}"
        raw_scales[name] = _scale_dict(spec["scale"])
        raw_items[col] = {"construct": spec["construct"], "area": spec["area"], "scale": name,
                          "label": spec["label"], "reverse": spec["reverse"]}
    constructs = {}
    for cbk in cbs:
        for k, v in cbk.constructs.items():
            constructs.setdefault(k, v)
    indexes = {}
    for cbk in cbs:
        for k, v in cbk.indexes.items():
            indexes.setdefault(k, {"constructs": list(v)})
    areas = list(dict.fromkeys(a for cbk in cbs for a in cbk.areas))
    raw = {
        "name": "+".join(cbk.name for cbk in cbs),
        "title": " + ".join(cbk.title for cbk in cbs),
        "id": idc, "weight": wcol if weighted else None, "wave": None,
        "groups": {wave_column: {"levels": labels},
                   **{g: {"levels": e["levels"], "labels": e["labels"],
                          "optional": g not in complete_groups} for g, e in groups.items()}},
        "treatments": {t: {"label": lab, "optional": frame[t].isna().any()}
                       for t, lab in treat.items()},
        "areas": areas, "scales": raw_scales, "constructs": constructs,
        "demographics": {d: {k: v for k, v in e.items() if v is not None}
                         for d, e in demos.items()},
        "items": raw_items, "indexes": indexes,
    }
    cbk = load_codebook(raw)
    valid, _ = validate_frame(frame, cbk)
    truth = {lb: s.truth for s, lb in zip(surveys, labels, strict=True) if s.truth is not None}
    return Survey(valid.reset_index(drop=True), cbk, reasons, truth or None,
                  source="combined (" + ", ".join(s.source or lb for s, lb in
                                                  zip(surveys, labels, strict=True)) + ")",
                  waves={lb: c for lb, c in zip(labels, cbs, strict=True)},
                  harmonised=harmonised)

