"""REST API for customers, tickets and notes: the same scoping and services as the pages.
Writes go through the PII guard: findings come back as 422 with what was found, unless the
client sends `pii_action: "mask"` to save them masked."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from callcenter.pii import PiiBlocked
from tickets import selectors
from tickets.forms import PII_API_MESSAGE, NoteForm, TicketUpdateForm
from tickets.models import Priority, Severity, TicketStatus
from tickets.selectors import customer_get_for, own_numbers, ticket_get_for
from tickets.services.tickets import ticket_note_add, ticket_update


class TicketOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.CharField()
    priority = serializers.CharField()
    severity = serializers.CharField()
    category_id = serializers.IntegerField(allow_null=True)
    customer_id = serializers.IntegerField()
    department_id = serializers.IntegerField()
    team_id = serializers.IntegerField(allow_null=True)
    assignee_id = serializers.IntegerField(allow_null=True)
    merged_into_id = serializers.IntegerField(allow_null=True)
    sla_state = serializers.CharField()
    sla_due_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class TicketListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(required=False, max_length=100)
        status = serializers.ChoiceField(required=False, choices=["active", *TicketStatus.values])
        priority = serializers.ChoiceField(required=False, choices=Priority.values)
        sla = serializers.ChoiceField(required=False, choices=["warning", "breached", "paused"])
        mine = serializers.BooleanField(required=False)
        team = serializers.BooleanField(required=False)

    @extend_schema(parameters=[FilterSerializer], responses=TicketOutputSerializer(many=True))
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        tickets = selectors.ticket_search(request.user, filters.validated_data)[:200]
        return Response(TicketOutputSerializer(tickets, many=True).data)


class PiiFindingOutputSerializer(serializers.Serializer):
    field = serializers.CharField()
    kind = serializers.CharField()
    masked = serializers.CharField()


class PiiErrorOutputSerializer(serializers.Serializer):
    """422: personal data was found in the text; nothing was saved. Send it again with
    `pii_action: "mask"` to save it masked."""

    detail = serializers.CharField()
    pii = PiiFindingOutputSerializer(many=True)
    errors = serializers.DictField(required=False)

    class Meta:
        ref_name = "PiiError"


def _pii_error(form) -> Response:
    return Response(
        {
            "detail": PII_API_MESSAGE,
            "pii": [{"field": f, "kind": k, "masked": m} for f, k, m in form.pii_found()],
            "errors": form.errors.get_json_data(),
        },
        status=status.HTTP_422_UNPROCESSABLE_ENTITY,
    )


PATCH_FIELDS = {
    "subject": "subject",
    "status": "status",
    "priority": "priority",
    "severity": "severity",
    "category_id": "category",
    "assignee_id": "assignee",
}


class TicketDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        subject = serializers.CharField(required=False, max_length=200)
        status = serializers.ChoiceField(
            required=False, choices=[s for s in TicketStatus.values if s != "merged"]
        )
        priority = serializers.ChoiceField(required=False, choices=Priority.values)
        severity = serializers.ChoiceField(required=False, choices=Severity.values)
        category_id = serializers.IntegerField(required=False, allow_null=True)
        assignee_id = serializers.IntegerField(required=False, allow_null=True)
        pii_action = serializers.ChoiceField(required=False, choices=["mask"])

        class Meta:
            ref_name = "TicketUpdateInput"

    @extend_schema(responses=TicketOutputSerializer)
    def get(self, request, ticket_id: int):
        return Response(TicketOutputSerializer(ticket_get_for(request.user, ticket_id)).data)

    @extend_schema(
        request=InputSerializer,
        responses={200: TicketOutputSerializer, 422: PiiErrorOutputSerializer},
    )
    def patch(self, request, ticket_id: int):
        ticket = ticket_get_for(request.user, ticket_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        # PATCH: only the fields given change (read under the service's lock, so a field
        # left out is never written back from a stale copy); nothing given is a 400.
        sent = {
            name: ("" if given[key] is None else given[key])
            for key, name in PATCH_FIELDS.items()
            if key in given
        }
        sent["pii_action"] = given.get("pii_action", "")
        form = TicketUpdateForm(sent, ticket=ticket, person=request.user)
        if not form.is_valid():
            if form.pii_findings:
                return _pii_error(form)
            return Response(form.errors.get_json_data(), status=status.HTTP_400_BAD_REQUEST)
        try:
            ticket = ticket_update(
                actor=request.user,
                ticket_id=ticket.pk,
                changes=form.changes(),
                pii_confirmed=form.pii_confirmed,
            )
        except PiiBlocked as exc:
            form.pii_findings = exc.findings
            return _pii_error(form)
        except ValidationError as exc:
            return Response({"detail": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
        return Response(TicketOutputSerializer(ticket).data)


class NoteOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ticket_id = serializers.IntegerField()
    author_id = serializers.IntegerField()
    parent_id = serializers.IntegerField(allow_null=True)
    body = serializers.CharField()
    is_public = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class TicketNotesApi(APIView):
    class InputSerializer(serializers.Serializer):
        body = serializers.CharField(max_length=4000)
        parent_id = serializers.IntegerField(required=False, allow_null=True)
        is_public = serializers.BooleanField(required=False, default=False)
        pii_action = serializers.ChoiceField(required=False, choices=["mask"])

        class Meta:
            ref_name = "TicketNoteInput"

    @extend_schema(responses=NoteOutputSerializer(many=True))
    def get(self, request, ticket_id: int):
        ticket = ticket_get_for(request.user, ticket_id)
        return Response(NoteOutputSerializer(ticket.notes.all(), many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: NoteOutputSerializer, 422: PiiErrorOutputSerializer},
    )
    def post(self, request, ticket_id: int):
        ticket = ticket_get_for(request.user, ticket_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        form = NoteForm(
            {
                "body": v["body"],
                "parent": v.get("parent_id") or "",
                "is_public": "on" if v.get("is_public") else "",
                "pii_action": v.get("pii_action", ""),
            },
            own_phone=own_numbers(ticket.customer),
        )
        if not form.is_valid():
            if form.pii_findings:
                return _pii_error(form)
            return Response(form.errors.get_json_data(), status=status.HTTP_400_BAD_REQUEST)
        try:
            note = ticket_note_add(
                actor=request.user,
                ticket=ticket,
                body=form.pii_raw["body"],
                parent_id=form.cleaned_data["parent"],
                is_public=form.cleaned_data["is_public"],
                pii_confirmed=form.pii_confirmed,
            )
        except PiiBlocked as exc:
            form.pii_findings = exc.findings
            return _pii_error(form)
        except ValidationError as exc:
            return Response({"detail": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
        return Response(NoteOutputSerializer(note).data, status=status.HTTP_201_CREATED)


class CustomerOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField()
    is_vip = serializers.BooleanField()
    merged_into_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class CustomerListApi(APIView):
    """Customers the caller may see, searched by name, phone (any of theirs) or e-mail.
    Identifiers are not in the payload: viewing them is audited on the customer page."""

    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(max_length=100)

    @extend_schema(parameters=[FilterSerializer], responses=CustomerOutputSerializer(many=True))
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        customers = selectors.customer_search_for(request.user, filters.validated_data["q"])
        return Response(CustomerOutputSerializer(customers, many=True).data)


class CustomerDetailApi(APIView):
    @extend_schema(responses=CustomerOutputSerializer)
    def get(self, request, customer_id: int):
        return Response(CustomerOutputSerializer(customer_get_for(request.user, customer_id)).data)
