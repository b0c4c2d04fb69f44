from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from callcenter.clock import day_bounds
from kpi.selectors.rows import kpi_rows_for


class KpiTodayApi(APIView):
    class KpiRowOutputSerializer(serializers.Serializer):
        kind = serializers.CharField(source="scope.kind")
        id = serializers.IntegerField(source="scope.id")
        label = serializers.CharField(source="scope.label")
        handled = serializers.IntegerField()
        answered = serializers.IntegerField()
        offered = serializers.IntegerField()
        aht_seconds = serializers.FloatField(source="aht", allow_null=True)
        asa_seconds = serializers.FloatField(source="asa", allow_null=True)
        talk_seconds_mean = serializers.FloatField(source="talk_mean", allow_null=True)
        hold_seconds_mean = serializers.FloatField(source="hold_mean", allow_null=True)
        wrapup_seconds_mean = serializers.FloatField(source="acw_mean", allow_null=True)
        abandoned = serializers.IntegerField()
        short_abandoned = serializers.IntegerField()
        abandon_rate = serializers.FloatField(allow_null=True)
        answer_rate = serializers.FloatField(allow_null=True)
        service_level = serializers.FloatField(allow_null=True)
        fcr = serializers.FloatField(allow_null=True)
        survey_fcr = serializers.FloatField(allow_null=True)
        csat = serializers.FloatField(allow_null=True)
        csat_responses = serializers.IntegerField()
        occupancy = serializers.FloatField(allow_null=True)
        utilisation = serializers.FloatField(allow_null=True)
        calls_per_agent_day = serializers.FloatField(allow_null=True)
        calls_per_hour = serializers.FloatField(allow_null=True)
        transfer_rate = serializers.FloatField(allow_null=True)
        escalation_rate = serializers.FloatField(allow_null=True)
        main_task_rate = serializers.FloatField(allow_null=True)
        pii_detections = serializers.IntegerField()
        qa_average = serializers.FloatField(allow_null=True)
        below_target = serializers.ListField(child=serializers.CharField())

    @extend_schema(responses=KpiRowOutputSerializer(many=True))
    def get(self, request):
        start, end = day_bounds()
        return Response(
            self.KpiRowOutputSerializer(
                kpi_rows_for(request.user, start=start, end=end), many=True
            ).data
        )
