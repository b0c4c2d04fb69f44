"""callcenter.inputs: the shared parsing that keeps bad input a 4xx (issue 17, item 8)."""

from datetime import date

import pytest

from callcenter.inputs import INT_MAX, IntegerField, parse_id, parse_month


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        ("0042", 42),
        (str(2**63 - 1), 2**63 - 1),
        (str(2**63), None),
        ("9" * 400, None),
        ("0", None),
        ("-1", None),
        ("²", None),
        ("①", None),
        ("٣", None),
        ("１", None),
        (" 1", None),
        ("", None),
        (None, None),
        (["1"], None),
    ],
)
def test_parse_id(raw, expected):
    assert parse_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-12", date(2026, 12, 1)),
        ("1900-01", date(1900, 1, 1)),
        ("0000-01", None),
        ("9999-12", None),
        ("9999-99", None),
        ("2026-13", None),
        ("2026-00", None),
        ("２０２６-１２", None),
        ("2026-1", None),
        ("2026-12-01", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_month(raw, expected):
    assert parse_month(raw) == expected


def test_the_integer_field_is_bounded_to_an_integer_column():
    field = IntegerField(required=False)
    assert field.clean(str(INT_MAX)) == INT_MAX
    for raw in (str(INT_MAX + 1), str(2**63), "-" + str(2**31 + 1), "²"):
        with pytest.raises(Exception) as error:
            field.clean(raw)
        assert error.type.__name__ == "ValidationError"


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("get", {"path": "/login/?next=%00"}),
        ("get", {"path": "/login/?a%00=1"}),
        ("post", {"path": "/login/", "data": {"username": "a\x00", "password": "x"}}),
        (
            "post",
            {
                "path": "/login/",
                "data": '{"username": "a\\u0000"}',
                "content_type": "application/json",
            },
        ),
    ],
)
def test_a_nul_character_is_a_400_before_any_view(client, method, kwargs):
    response = getattr(client, method)(**kwargs)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_a_nul_character_in_an_api_request_is_a_json_400(client, org):
    client.force_login(org.agent1)
    response = client.post(
        "/api/tickets/", data='{"subject": "a\\u0000"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "NUL" in response.json()["detail"]
    assert client.get("/api/tickets/?q=%00")["Content-Type"] == "application/json"


def test_ordinary_requests_pass(client):
    assert client.get("/login/?next=/tickets/").status_code == 200
