"""One English word, two meanings: the Korean catalog keeps them apart with contexts
(pgettext), so an action never reads as a status or a noun as the opposite action."""

import pytest
from django.utils import translation

CASES = [
    # (context, English, Korean with the context, Korean without it)
    ("action: score an evaluation", "Score", "채점", "점수"),
    ("action: open a page", "Open", "열기", "진행 중"),
    ("noun: a phone call", "Call", "통화", "전화 걸기"),
    ("deadline", "Due", "기한", None),
]


@pytest.mark.parametrize(("context", "english", "with_context", "plain"), CASES)
def test_contexts_keep_the_meanings_apart(context, english, with_context, plain):
    with translation.override("ko"):
        assert translation.pgettext(context, english) == with_context
        if plain is not None:
            assert translation.gettext(english) == plain


def test_the_qa_scoring_queue_shows_a_deadline_column(client, org):
    client.force_login(org.lead1)
    body = client.get("/qa/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "<th>기한</th>" in body and "<th>예정</th>" not in body
