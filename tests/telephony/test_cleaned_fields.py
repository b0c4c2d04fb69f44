"""telephony.forms.cleaned_fields answers exactly what the bound form would."""

from __future__ import annotations

import pytest
from django import forms
from django.http import QueryDict
from hypothesis import given
from hypothesis import strategies as st

from telephony.forms import IncomingCallForm, _field_by_field, cleaned_fields

SID = "CA" + "a" * 32
VALUES = st.one_of(
    st.just(SID),
    st.just("+821012345678"),
    st.just(""),
    st.just("x" * 33),
    st.text(max_size=40),
)


@given(sid=st.none() | VALUES, frm=st.none() | VALUES, to=st.none() | VALUES)
def test_the_same_answer_as_the_bound_form(sid, frm, to):
    data = QueryDict(mutable=True)
    for name, value in (("CallSid", sid), ("From", frm), ("To", to)):
        if value is not None:
            data[name] = value
    form = IncomingCallForm(data)
    expected = form.cleaned_data if form.is_valid() else None
    assert cleaned_fields(IncomingCallForm, data) == expected


def test_a_form_that_validates_across_fields_is_refused():
    class Across(forms.Form):
        a = forms.CharField()

        def clean(self):
            return super().clean()

    class PerField(forms.Form):
        a = forms.CharField()

        def clean_a(self):
            return self.cleaned_data["a"]

    for form_class in (Across, PerField):
        with pytest.raises(TypeError):
            _field_by_field(form_class)
