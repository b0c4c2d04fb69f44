from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.scoping import ticket_get_for, tickets_visible_to


class TicketOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.CharField()
    customer_id = serializers.IntegerField()
    department_id = serializers.IntegerField()
    team_id = serializers.IntegerField(allow_null=True)
    assignee_id = serializers.IntegerField(allow_null=True)
    updated_at = serializers.DateTimeField()


class TicketListApi(APIView):
    @extend_schema(responses=TicketOutputSerializer(many=True))
    def get(self, request):
        tickets = tickets_visible_to(request.user).order_by("-updated_at")[:200]
        return Response(TicketOutputSerializer(tickets, many=True).data)


class TicketDetailApi(APIView):
    @extend_schema(responses=TicketOutputSerializer)
    def get(self, request, ticket_id: int):
        return Response(TicketOutputSerializer(ticket_get_for(request.user, ticket_id)).data)
