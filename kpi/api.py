from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from kpi.selectors import day_bounds, kpi_rows_for


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

    @extend_schema(responses=KpiRowOutputSerializer(many=True))
    def get(self, request):
        start, end = day_bounds()
        return Response(
            self.KpiRowOutputSerializer(
                kpi_rows_for(request.user, start=start, end=end), many=True
            ).data
        )
