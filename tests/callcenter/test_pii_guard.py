"""callcenter.pii.pii_guard: the one guard services call before they store free text."""

import pytest

from callcenter.pii import PiiBlocked, pii_guard, pii_list

RRN = "주민번호 900101-1234567 확인"


def test_a_finding_without_confirmation_blocks_and_says_what_was_found():
    with pytest.raises(PiiBlocked) as blocked:
        pii_guard({"note": RRN, "subject": "요금"}, confirmed=False)
    assert [(field, f.kind) for field, f in blocked.value.findings] == [("note", "rrn")]
    assert blocked.value.code == "pii"
    listed = pii_list(blocked.value.findings, {"note": "메모"})
    assert listed[0]["field"] == "메모" and listed[0]["masked"] == "900101-1******"


def test_confirmed_text_comes_back_masked_with_the_log_of_what_was_found():
    guarded = pii_guard({"note": RRN, "subject": "요금"}, confirmed=True)
    assert guarded.texts == {"note": "주민번호 900101-1****** 확인", "subject": "요금"}
    assert guarded.found() == [("note", "rrn", "900101-1******")]


def test_clean_text_passes_unchanged_and_the_customers_own_number_is_not_a_leak():
    guarded = pii_guard(
        {"note": "010-1234-5678로 다시 연락", "empty": None},
        confirmed=False,
        own_phone="+821012345678",
    )
    assert guarded.texts == {"note": "010-1234-5678로 다시 연락", "empty": ""}
    assert guarded.findings == []
