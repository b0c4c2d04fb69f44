"""The guard matches after normalising, and reports findings in the original text's
positions even where normalising changed the length."""

import pytest

from callcenter.pii import normalise, pii_mask, pii_redact, pii_scan


def test_findings_map_back_onto_the_original_when_normalising_changes_its_length():
    # ㈜ and ㎖ become three and two characters under NFKC, the zero-width space none.
    text = "㈜상담 ㎖ 주민 ９００１０１\u200b－１２３４５６７ 끝 ㈜ 카드 ４５３９ １４８８ ０３４３ ６４６７."
    findings = pii_scan(text)
    assert [f.kind for f in findings] == ["rrn", "card"]
    assert findings[0].text == "９００１０１\u200b－１２３４５６７"
    assert findings[1].text == "４５３９ １４８８ ０３４３ ６４６７"
    assert (
        pii_mask(text, findings) == "㈜상담 ㎖ 주민 900101-1****** 끝 ㈜ 카드 4539 14** **** 6467."
    )


def test_the_index_map_points_every_normalised_character_at_its_source():
    norm = normalise("ａ㈜\u00ad１")
    assert norm.text == "a(주)1"
    assert norm.starts == [0, 1, 1, 1, 3]
    assert norm.original_span(1, 4) == (1, 2)


@pytest.mark.parametrize(
    "text",
    [
        "2026.11.22 방문 예정",
        "２０２６－１１－２２ 방문",
        "요금 ４５,０００원 환불",
        "T－000123 티켓 참조",
        "사업자번호 １２３－４５－６７８９０",
        "2026.12.07 16:11:48 통화",
        "예약 2026 11 22 0930",
        "금액 1,234,567원 3회",
        "주문 2026112200012 건",
    ],
)
def test_normalised_dates_amounts_and_numbers_do_not_trigger(text):
    assert pii_scan(text) == []


def test_redact_masks_without_asking():
    assert (
        pii_redact("제 주민번호는 900101 1234567 이에요") == "제 주민번호는 900101-1****** 이에요"
    )
    assert pii_redact("010-9876-5432", kinds=("rrn",)) == "010-9876-5432"
