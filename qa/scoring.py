"""The QA scoring formula (DOMAIN.md "QA scoring"); one copy, used by the evaluation page's
live total, submission, disputes, reports and the API.

Item score = earned / max. Section = Σ(weight × item score) / Σ weight over its items not N/A.
Overall (0–100) = 100 × Σ(section weight × section) / Σ section weight over sections with
something scored, plus bonus points, capped at 100. A bonus item is outside its section: it
adds `weight × earned / max` points to the overall. An auto-fail (critical) item *fails* when
it earns less than half its maximum (a yes/no item answered "no"): the whole score is 0, or,
with the section-only option, its section is 0. All items N/A → no score (None), never 0.
Compliance sub-score: 100 × Σ(weight × item score) / Σ weight over the compliance-tagged
items not N/A; None when there are none.

Calibration alignment: per item 1 − |score − benchmark| / max; per evaluator the items are
weighted by their max, i.e. 1 − Σ|score − benchmark| / Σ max. An item one side marked N/A and
the other scored counts as fully misaligned; both N/A is left out. An item is flagged when
the evaluators' (benchmark included) highest and lowest scores differ by more than 10 % of max.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

AUTO_FAIL_OVERALL = "overall"
AUTO_FAIL_SECTION = "section"
SPREAD_FLAG_SHARE = 0.10


@dataclass(frozen=True)
class ItemSpec:
    id: int
    max_points: float
    weight: float = 1.0
    auto_fail: bool = False
    bonus: bool = False
    compliance: str = ""
    allow_na: bool = False


@dataclass(frozen=True)
class SectionSpec:
    id: int
    weight: float
    items: tuple[ItemSpec, ...]


@dataclass(frozen=True)
class Mark:
    """An answer: `value` earned (0…max), or not applicable."""

    value: float | None = None
    not_applicable: bool = False


NA = Mark(not_applicable=True)


@dataclass
class ScoreResult:
    overall: float | None
    sections: dict[int, float | None] = field(default_factory=dict)
    compliance: float | None = None
    auto_failed: bool = False
    bonus: float = 0.0
    missing: list[int] = field(default_factory=list)  # items with no answer yet


def item_failed(item: ItemSpec, mark: Mark) -> bool:
    return not mark.not_applicable and mark.value is not None and mark.value < item.max_points / 2


def _item_score(item: ItemSpec, mark: Mark) -> float:
    return max(0.0, min(float(mark.value), item.max_points)) / item.max_points


def score(
    sections: Iterable[SectionSpec],
    marks: Mapping[int, Mark],
    *,
    auto_fail_mode: str = AUTO_FAIL_OVERALL,
) -> ScoreResult:
    """The evaluation's scores from its answers (`marks` by item id). Items without an answer
    are listed in `missing` and left out, so a draft shows the total of what is scored so far."""
    result = ScoreResult(overall=None)
    weighted = total_weight = 0.0
    compliance_sum = compliance_weight = 0.0
    for section in sections:
        s_sum = s_weight = 0.0
        section_failed = False
        for item in section.items:
            mark = marks.get(item.id)
            if mark is None or (mark.value is None and not mark.not_applicable):
                result.missing.append(item.id)
                continue
            if mark.not_applicable:
                continue
            value = _item_score(item, mark)
            if item.auto_fail and item_failed(item, mark):
                section_failed = True
            if item.compliance:
                compliance_sum += item.weight * value
                compliance_weight += item.weight
            if item.bonus:
                result.bonus += item.weight * value
                continue
            s_sum += item.weight * value
            s_weight += item.weight
        if s_weight == 0:
            # Nothing scored (all N/A, or only zero-weight items): left out, never 0.
            result.sections[section.id] = None
            if section_failed:
                result.auto_failed = True
            continue
        section_score = s_sum / s_weight
        if section_failed:
            result.auto_failed = True
            if auto_fail_mode == AUTO_FAIL_SECTION:
                section_score = 0.0
        result.sections[section.id] = 100 * section_score
        weighted += section.weight * section_score
        total_weight += section.weight
    if compliance_weight:
        result.compliance = 100 * compliance_sum / compliance_weight
    if total_weight == 0:
        if result.bonus == 0 and not result.auto_failed:
            return result
        base = 0.0
    else:
        base = 100 * weighted / total_weight
    if result.auto_failed and auto_fail_mode == AUTO_FAIL_OVERALL:
        result.overall = 0.0
    else:
        result.overall = min(100.0, base + result.bonus)
    return result


# --- Calibration ---------------------------------------------------------------------------


@dataclass
class ItemAlignment:
    item_id: int
    max_points: float
    benchmark: Mark | None
    marks: dict[int, Mark]  # by evaluator id
    alignment: float | None  # mean over evaluators, 0–1
    spread: float | None  # highest − lowest score (benchmark included), in points
    flagged: bool


def item_alignment(item_max: float, mark: Mark, benchmark: Mark) -> float | None:
    """1 − |score − benchmark| / max; None when both are N/A; 0 when only one is."""
    if mark.not_applicable and benchmark.not_applicable:
        return None
    if mark.not_applicable or benchmark.not_applicable:
        return 0.0
    if mark.value is None or benchmark.value is None:
        return None
    return 1 - abs(mark.value - benchmark.value) / item_max


def evaluator_alignment(
    items: Iterable[ItemSpec], marks: Mapping[int, Mark], benchmark: Mapping[int, Mark]
) -> float | None:
    """Alignment of one evaluator with the benchmark, items weighted by their max (0–1)."""
    num = den = 0.0
    for item in items:
        mark, bench = marks.get(item.id), benchmark.get(item.id)
        if mark is None or bench is None:
            continue
        a = item_alignment(item.max_points, mark, bench)
        if a is None:
            continue
        num += item.max_points * a
        den += item.max_points
    return num / den if den else None


def items_alignment(
    items: Iterable[ItemSpec],
    by_evaluator: Mapping[int, Mapping[int, Mark]],
    benchmark: Mapping[int, Mark],
) -> list[ItemAlignment]:
    rows = []
    for item in items:
        marks = {ev: m[item.id] for ev, m in by_evaluator.items() if item.id in m}
        bench = benchmark.get(item.id)
        aligns = [
            a
            for a in (item_alignment(item.max_points, m, bench) for m in marks.values())
            if bench is not None and a is not None
        ]
        values = [
            m.value
            for m in [*marks.values(), *([bench] if bench else [])]
            if not m.not_applicable and m.value is not None
        ]
        spread = (max(values) - min(values)) if values else None
        # A split between N/A and a score is a disagreement too.
        na_split = len({m.not_applicable for m in [*marks.values(), *([bench] if bench else [])]})
        flagged = (spread is not None and spread > SPREAD_FLAG_SHARE * item.max_points) or (
            na_split > 1
        )
        rows.append(
            ItemAlignment(
                item_id=item.id,
                max_points=item.max_points,
                benchmark=bench,
                marks=marks,
                alignment=sum(aligns) / len(aligns) if aligns else None,
                spread=spread,
                flagged=flagged,
            )
        )
    return rows
