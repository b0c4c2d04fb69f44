from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.reach import people_visible_to


class PeopleListApi(APIView):
    class PersonOutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        display_name = serializers.CharField()
        role = serializers.CharField()
        team_id = serializers.IntegerField(allow_null=True)
        state = serializers.CharField(source="status.state", default="offline")

    @extend_schema(responses=PersonOutputSerializer(many=True))
    def get(self, request):
        people = people_visible_to(request.user).select_related("status").order_by("id")
        return Response(self.PersonOutputSerializer(people, many=True).data)
