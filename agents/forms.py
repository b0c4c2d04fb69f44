from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from agents.models import AgentState, NotReadyReason, Person, Role
from agents.reach import people_visible_to, skill_queue_departments, teams_visible_to
from agents.roles import roles_assignable_by, roles_that
from agents.services.people import person_check, person_supervisor_resolve


class StateForm(forms.Form):
    state = forms.ChoiceField(
        choices=[
            (s, s.label) for s in (AgentState.AVAILABLE, AgentState.NOT_READY, AgentState.OFFLINE)
        ]
    )
    reason = forms.ChoiceField(choices=[("", "—"), *NotReadyReason.choices], required=False)

    def clean(self):
        data = super().clean()
        # The desktop sends its reason picker with every button; only Not ready uses it.
        if data.get("state") != AgentState.NOT_READY:
            data["reason"] = ""
        return data


class RosterFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    role = forms.ChoiceField(
        label=_("Role"), choices=[("", _("All roles")), *Role.choices], required=False
    )
    team = forms.TypedChoiceField(label=_("Team"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", _("All teams"))] + [(t.pk, str(t)) for t in teams]


WEEKDAYS = [
    (0, _("Mon")),
    (1, _("Tue")),
    (2, _("Wed")),
    (3, _("Thu")),
    (4, _("Fri")),
    (5, _("Sat")),
    (6, _("Sun")),
]


class WorkingHoursForm(forms.Form):
    person = forms.ModelChoiceField(queryset=None, label=_("Agent"))
    weekdays = forms.MultipleChoiceField(
        label=_("Days"), choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple
    )
    starts = forms.TimeField(label=_("Starts"), widget=forms.TimeInput(attrs={"type": "time"}))
    ends = forms.TimeField(label=_("Ends"), widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people


class BreakSlotForm(forms.Form):
    person = forms.ModelChoiceField(queryset=None, label=_("Agent"))
    starts_at = forms.DateTimeField(
        label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    minutes = forms.IntegerField(label=_("Minutes"), min_value=5, max_value=120, initial=15)
    reason = forms.ChoiceField(label=_("Reason"), choices=NotReadyReason.choices)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people


class PersonForm(forms.Form):
    """One form to add or edit a person, on the roster (센터장, 매니저) and in the admin: name,
    employee number, role, team, supervisor and a level per queue. The choices are what
    the editor may reach; agents.services.people.person_check has the rules."""

    display_name = forms.CharField(label=_("Name"), max_length=100)
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("For signing in; cannot be changed later."),
    )
    employee_no = forms.CharField(label=_("Employee no."), max_length=20, required=False)
    role = forms.ChoiceField(label=_("Role"))
    team = forms.ModelChoiceField(label=_("Team"), queryset=None, required=False)
    reports_to = forms.TypedChoiceField(
        label=_("Supervisor"), coerce=int, required=False, empty_value=None
    )
    SKILL_PREFIX = "skill_"

    def __init__(self, *args, editor: Person, person: Person | None = None, **kwargs):
        self.editor, self.person = editor, person
        if person is not None:
            kwargs.setdefault("initial", {}).update(
                display_name=person.display_name,
                username=person.username,
                employee_no=person.employee_no,
                role=person.role,
                team=person.team_id,
                reports_to=person.reports_to_id,
                **{f"{self.SKILL_PREFIX}{m.queue_id}": m.proficiency for m in person.skills.all()},
            )
        super().__init__(*args, **kwargs)
        if person is not None:
            self.fields["username"].disabled = True
            self.fields["username"].help_text = ""
        else:
            self.fields["display_name"].widget.attrs["autofocus"] = True
        self.fields["role"].choices = [(r, Role(r).label) for r in roles_assignable_by(editor)]
        teams = teams_visible_to(editor).order_by("department_id", "name")
        self.fields["team"].queryset = teams
        self.fields["team"].label_from_instance = lambda t: f"{t.department.name} · {t.name}"
        self.fields["team"].empty_label = _("No team")
        self.supervisors = {
            p.pk: p
            for p in people_visible_to(editor)
            .filter(role__in=roles_that("supervise"))
            .select_related("team__department")
            .order_by("team__department_id", "team_id", "display_name")
        }
        self.fields["reports_to"].choices = self._supervisor_choices()
        self.queues = [d.queue for d in skill_queue_departments(editor)]
        for queue in self.queues:
            self.fields[f"{self.SKILL_PREFIX}{queue.pk}"] = forms.IntegerField(
                label=queue.name,
                required=False,
                min_value=1,
                max_value=10,
                widget=forms.NumberInput(attrs={"class": "skill-level", "placeholder": "–"}),
            )

    def _supervisor_choices(self) -> list:
        """Grouped by team (team leads) and then managers and the director, so the 실장 of
        the chosen team is easy to find; none chosen = the team's 실장."""
        groups: dict[str, list] = {}
        for p in self.supervisors.values():
            group = (
                f"{p.team.department.name} · {p.team.name}"
                if p.role == Role.TEAM_LEAD and p.team_id
                else str(Role(p.role).label)
            )
            groups.setdefault(group, []).append((p.pk, p.display_name))
        return [("", _("The team's lead (automatic)")), *groups.items()]

    def skill_fields(self) -> list:
        return [self[f"{self.SKILL_PREFIX}{q.pk}"] for q in self.queues]

    def org_fields(self) -> list:
        return [self[n] for n in ("display_name", "username", "employee_no", "role", "team")]

    def clean_reports_to(self):
        pk = self.cleaned_data["reports_to"]
        return self.supervisors.get(pk) if pk is not None else None

    def clean(self):
        """The services' rules, so that every mistake shows at once (the service checks
        them again when it writes)."""
        data = super().clean()
        if "role" in self.errors or "team" in self.errors:
            return data
        role, team = data.get("role"), data.get("team")
        try:
            person_check(
                by=self.editor,
                person=self.person,
                username=(data.get("username") or "").strip(),
                role=role,
                team=team,
                reports_to=person_supervisor_resolve(
                    person=self.person, role=role, team=team, reports_to=data.get("reports_to")
                ),
                employee_no=(data.get("employee_no") or "").strip(),
            )
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                if field not in self.errors:
                    self.add_error(field if field in self.fields else None, errors)
        return data

    def service_kwargs(self) -> dict:
        """What the services take: person_create (with the username) and person_update."""
        d = self.cleaned_data
        kwargs = {
            "display_name": d["display_name"],
            "employee_no": d["employee_no"],
            "role": d["role"],
            "team": d["team"],
            "reports_to": d["reports_to"],
            "skills": {q.pk: d.get(f"{self.SKILL_PREFIX}{q.pk}") for q in self.queues},
        }
        if self.person is None:
            kwargs["username"] = d["username"]
        return kwargs

    def add_service_error(self, exc: ValidationError) -> None:
        """The service's field errors on their fields (its `skills` on the form as a whole)."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for field, errors in exc.error_dict.items():
            self.add_error(field if field in self.fields else NON_FIELD_ERRORS, errors)
