from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from telephony.selectors import calls_visible_to
from tickets.templatetags.phone import phone_masked


class MaskedPhoneField(serializers.CharField):
    """A caller's number as the pages show it (all but the last four digits hidden): only
    the live screen pop and the audited Show give it whole."""

    def to_representation(self, value) -> str:
        return phone_masked(value)


class CallListApi(APIView):
    class CallOutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        sid = serializers.CharField()
        from_number = MaskedPhoneField()
        department_id = serializers.IntegerField()
        agent_id = serializers.IntegerField(allow_null=True)
        phase = serializers.CharField()
        enqueued_at = serializers.DateTimeField()
        answered_at = serializers.DateTimeField(allow_null=True)
        queue_wait_seconds = serializers.FloatField(allow_null=True)
        talk_seconds = serializers.FloatField(allow_null=True)
        acw_seconds = serializers.FloatField(allow_null=True)
        ticket_id = serializers.IntegerField(allow_null=True)

    @extend_schema(responses=CallOutputSerializer(many=True))
    def get(self, request):
        calls = calls_visible_to(request.user).order_by("-enqueued_at")[:200]
        return Response(self.CallOutputSerializer(calls, many=True).data)
