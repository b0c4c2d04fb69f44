from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from agents.models import Role


def unread(request: HttpRequest) -> dict:
    """Agents see how many scored evaluations they have not read yet (the QA nav badge);
    counted only when a page shows the badge."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.role != Role.AGENT:
        return {}
    from qa.selectors.evaluations import unread_count

    return {"qa_unread": SimpleLazyObject(lambda: unread_count(user))}
