"""The PII guard's detection table: what must be found, what must not trigger."""

import pytest

from callcenter.pii import pii_mask, pii_scan

OWN = "+821012345678"


@pytest.mark.parametrize(
    ("text", "kind", "masked"),
    [
        ("주민번호 900101-1234567 확인", "rrn", "900101-1******"),
        ("주민번호 9001011234567", "rrn", "900101-1******"),
        ("외국인 021231-5123456", "rrn", "021231-5******"),
        ("2000년 이후 출생 050505-4123456", "rrn", "050505-4******"),
        ("카드 4111 1111 1111 1111 결제", "card", "4111 11** **** 1111"),
        ("카드 5500-0000-0000-0004", "card", "5500-00**-****-0004"),
        ("다른 번호 010-9876-5432 로 연락", "phone", "***-****-5432"),
        ("집 전화 02-555-0199", "phone", "**-***-0199"),
        ("+82 10 9876 5432 로", "phone", "+** ** **** 5432"),
        ("메일 hong.gildong@example.com 으로", "email", "h***********@example.com"),
        # Korean particles and words glued to the identifier (Hangul is no boundary)
        ("900101-1234567입니다", "rrn", "900101-1******"),
        ("주민번호900101-1234567", "rrn", "900101-1******"),
        ("카드 4111111111111111로", "card", "411111******1111"),
        ("카드번호는 4111 1111 1111 1111이고", "card", "4111 11** **** 1111"),
        ("hong@example.com으로 보내 주세요", "email", "h***@example.com"),
        ("메일hong@example.com", "email", "h***@example.com"),
        ("다른 번호 010-9876-5432로 연락", "phone", "***-****-5432"),
    ],
)
def test_it_finds_and_masks(text, kind, masked):
    findings = pii_scan(text, own_phone=OWN)
    assert [f.kind for f in findings] == [kind]
    assert findings[0].masked == masked
    assert masked in pii_mask(text, findings)
    assert findings[0].text not in pii_mask(text, findings)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-22 방문 예정",  # a date
        "요금 45,000원 환불",  # an amount
        "주문번호 ORD-20261122-0001",  # an order number
        "주문 2026112200012 건",  # 13 bare digits (passes Luhn, but no card is written so)
        "고객 본인 번호 010-1234-5678 로 회신",  # the customer's own number on record
        "계약 12개월, 3회차",  # small numbers
        "T-000123 티켓 참조",  # a ticket number
        "대표번호 1588-1234로 안내",  # a company's service number, not the customer's phone
        "1577-0000 으로 문의하시라고 안내",
        "수신거부 080-123-4567",  # toll-free: a company's number
    ],
)
def test_it_does_not_trigger_on_ordinary_notes(text):
    assert pii_scan(text, own_phone=OWN) == []


def test_several_findings_are_masked_together_in_order():
    text = "카드 4111111111111111, 연락처 010-9876-5432"
    findings = pii_scan(text, own_phone=OWN)
    assert [f.kind for f in findings] == ["card", "phone"]
    assert pii_mask(text, findings) == "카드 411111******1111, 연락처 ***-****-5432"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("환불 계좌 110-123-456789 로", "***-***-**6789"),
        ("카카오뱅크 3333-01-1234567", "****-**-***4567"),
        ("계좌번호 12345678901234 입니다", "**********1234"),
        ("account 10021234567890", "**********7890"),
        ("계좌 110-123-456789로", "***-***-**6789"),
        ("환불계좌12345678901234로", "**********1234"),
        ("계좌 1234-5678-9012 로 환불", "****-****-9012"),  # said to be an account
    ],
)
def test_it_finds_account_numbers(text, masked):
    findings = pii_scan(text, own_phone=OWN)
    assert [(f.kind, f.masked) for f in findings] == [("account", masked)]


@pytest.mark.parametrize(
    "text",
    [
        "사업자번호 123-45-67890 확인",  # a company's public registration number
        "2026-11-22-0930 예약",  # a date and time
        "주문 20261122-01 건 12,500원",  # an order number and an amount
        "고객 본인 번호 010-1234-5678",  # the customer's own number is no account either
        "주문번호 1234-5678-9012",  # an order number
        "1234-5678-9012 건 배송 조회",  # evenly grouped: no bank writes accounts so
        "예약번호 2026-1122-0930",  # a date and time
        "주문번호 1234-5678-9012로 재발송",
    ],
)
def test_account_numbers_do_not_trigger_on_ordinary_notes(text):
    assert [f.kind for f in pii_scan(text, own_phone=OWN)] == []
