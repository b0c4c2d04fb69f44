"""The QA scoring formula (DOMAIN.md "QA scoring"), pinned as a table."""

import pytest

from qa.scoring import (
    NA,
    ItemSpec,
    Mark,
    SectionSpec,
    evaluator_alignment,
    items_alignment,
    score,
)

# Section 1 (weight 2): yes/no (w1), scale 0–5 (w3), N/A-able yes/no (w1, compliance).
# Section 2 (weight 1): points 0–10 (w1), critical yes/no (w1, compliance), bonus 0–5 (w5 points).
CARD = (
    SectionSpec(
        1,
        2.0,
        (
            ItemSpec(11, 1, 1),
            ItemSpec(12, 5, 3),
            ItemSpec(13, 1, 1, allow_na=True, compliance="recording_notice"),
        ),
    ),
    SectionSpec(
        2,
        1.0,
        (
            ItemSpec(21, 10, 1),
            ItemSpec(22, 1, 1, auto_fail=True, compliance="identity_verified"),
            ItemSpec(23, 5, 5, bonus=True),
        ),
    ),
)


def m(v):
    return Mark(value=v)


PERFECT = {11: m(1), 12: m(5), 13: m(1), 21: m(10), 22: m(1), 23: m(0)}

# (case, marks, auto-fail mode, overall, section 1, section 2, compliance, auto_failed)
TABLE = [
    ("all full marks", PERFECT, "overall", 100.0, 100.0, 100.0, 100.0, False),
    # S1 = (1·1 + 3·0.6 + 1·1)/5 = 0.76; S2 = (0.5 + 1)/2 = 0.75;
    # overall = (2·0.76 + 0.75)/3 = 0.756666…
    (
        "weights",
        {**PERFECT, 12: m(3), 21: m(5)},
        "overall",
        75.6667,
        76.0,
        75.0,
        100.0,
        False,
    ),
    # N/A leaves item 13 out of S1's weights: S1 = (1 + 3·0.6)/4 = 0.7
    # overall = (2·0.7 + 1)/3 = 0.8; compliance only from item 22.
    ("N/A is left out", {**PERFECT, 12: m(3), 13: NA}, "overall", 80.0, 70.0, 100.0, 100.0, False),
    # Critical item 22 answered no: whole score 0, sections still shown.
    ("auto-fail, whole score", {**PERFECT, 22: m(0)}, "overall", 0.0, 100.0, 50.0, 50.0, True),
    # Section-only variant: S2 = 0, overall = (2·1 + 0)/3.
    (
        "auto-fail, section only",
        {**PERFECT, 22: m(0)},
        "section",
        66.6667,
        100.0,
        0.0,
        50.0,
        True,
    ),
    # Bonus item 23 at 3/5 adds 5·0.6 = 3 points: (2·0.76 + 1)/3 = 84 → 87.
    (
        "bonus adds points",
        {**PERFECT, 12: m(3), 23: m(3)},
        "overall",
        87.0,
        76.0,
        100.0,
        100.0,
        False,
    ),
    ("bonus is capped at 100", {**PERFECT, 23: m(5)}, "overall", 100.0, 100.0, 100.0, 100.0, False),
    # Auto-fail beats the bonus.
    (
        "auto-fail beats bonus",
        {**PERFECT, 22: m(0), 23: m(5)},
        "overall",
        0.0,
        100.0,
        50.0,
        50.0,
        True,
    ),
    # A section whose items are all N/A leaves the section out of the overall.
    (
        "section all N/A",
        {11: NA, 12: NA, 13: NA, 21: m(5), 22: m(1), 23: m(0)},
        "overall",
        75.0,
        None,
        75.0,
        100.0,
        False,
    ),
    # Everything N/A: no score (not 0), no compliance score.
    (
        "all N/A → no score",
        {11: NA, 12: NA, 13: NA, 21: NA, 22: NA, 23: NA},
        "overall",
        None,
        None,
        None,
        None,
        False,
    ),
]


@pytest.mark.parametrize(
    "marks,mode,overall,s1,s2,compliance,failed",
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_the_scoring_formula_table(marks, mode, overall, s1, s2, compliance, failed):
    result = score(CARD, marks, auto_fail_mode=mode)
    assert result.overall == (pytest.approx(overall, abs=1e-3) if overall is not None else None)
    assert result.sections[1] == (pytest.approx(s1) if s1 is not None else None)
    assert result.sections[2] == (pytest.approx(s2) if s2 is not None else None)
    assert result.compliance == (pytest.approx(compliance) if compliance is not None else None)
    assert result.auto_failed is failed
    assert result.missing == []


def test_a_draft_scores_what_is_answered_and_lists_the_rest():
    result = score(CARD, {11: m(1), 12: m(5)})
    assert result.missing == [13, 21, 22, 23]
    assert result.overall == pytest.approx(100.0)  # only S1 has something scored


def test_a_critical_scale_item_fails_below_half_its_maximum():
    card = (SectionSpec(1, 1, (ItemSpec(1, 5, 1, auto_fail=True), ItemSpec(2, 1, 1))),)
    assert score(card, {1: m(2), 2: m(1)}).overall == 0.0
    assert score(card, {1: m(3), 2: m(1)}).overall == pytest.approx(80.0)


ITEMS = (ItemSpec(1, 1), ItemSpec(2, 5), ItemSpec(3, 10))
BENCH = {1: m(1), 2: m(4), 3: m(10)}


def test_calibration_alignment_per_evaluator_is_weighted_by_max():
    # |1−1| + |2−4| + |7−10| = 5 over Σmax 16 → 1 − 5/16
    assert evaluator_alignment(ITEMS, {1: m(1), 2: m(2), 3: m(7)}, BENCH) == pytest.approx(
        1 - 5 / 16
    )
    assert evaluator_alignment(ITEMS, BENCH, BENCH) == 1.0
    # N/A against a score is fully misaligned on that item: 1 − 1/16·… item 1 counts 0.
    assert evaluator_alignment(ITEMS, {1: NA, 2: m(4), 3: m(10)}, BENCH) == pytest.approx(15 / 16)


def test_calibration_flags_items_whose_spread_is_over_ten_percent_of_max():
    rows = items_alignment(
        ITEMS,
        {7: {1: m(1), 2: m(4), 3: m(9)}, 8: {1: m(1), 2: m(3), 3: m(10)}},
        BENCH,
    )
    by_item = {r.item_id: r for r in rows}
    assert by_item[1].spread == 0 and not by_item[1].flagged
    # item 2: 3…4 is 1 point of 5 = 20 % > 10 %
    assert by_item[2].spread == 1 and by_item[2].flagged
    assert by_item[2].alignment == pytest.approx((1 + (1 - 1 / 5)) / 2)
    # item 3: 9…10 is exactly 10 % of 10: not more than 10 %, not flagged
    assert by_item[3].spread == 1 and not by_item[3].flagged
    assert by_item[3].alignment == pytest.approx((0.9 + 1) / 2)
