"""How every form (Sangdam's pages and the admin) renders: settings.FORM_RENDERER."""

from __future__ import annotations

from django.db.models.fields import BLANK_CHOICE_DASH
from django.forms.renderers import DjangoTemplates
from django.utils.translation import gettext as _

# Django's label for "nothing chosen" in a model field's choices and a ModelChoiceField.
_DASHES = BLANK_CHOICE_DASH[0][1]


class FormRenderer(DjangoTemplates):
    """Django's renderer, except that an empty choice Django labels "---------" reads
    "선택" (Choose): one place for every select in Sangdam and the admin, instead of an
    empty_label on each field. A label a field sets itself ("전체") is kept."""

    def render(self, template_name, context, request=None):
        widget = context.get("widget")
        if isinstance(widget, dict) and "optgroups" in widget:
            for _group, options, _index in widget["optgroups"]:
                for option in options:
                    if option["label"] == _DASHES and option["value"] in ("", None):
                        option["label"] = _("Choose")
        return super().render(template_name, context, request=request)
