"""The OpenAPI schema says what the API answers when things go wrong, not only when they go
right: every operation documents its errors (schemathesis holds the API to this, see
tests/callcenter/test_api_conformance.py and `make api-check`)."""

from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers


class ErrorOutputSerializer(serializers.Serializer):
    """DRF's answer for 401, 403, 404, 405 and 415."""

    detail = serializers.CharField()

    class Meta:
        ref_name = "Error"


BODY_METHODS = {"POST", "PUT", "PATCH"}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, with the error answers every operation can give: 400 where
    there is input to reject (query parameters or a body; DRF's errors by field), 401/403
    for a missing or refused sign-in, 404 where the path names a record, 415 for a body in
    another format. A view documents more (e.g. 422) with extend_schema."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)

        def add(code: str, serializer, description: str) -> None:
            if code not in responses:
                response = self._get_response_for_code(serializer, code, direction=direction)
                response["description"] = description
                responses[code] = response

        has_body = self.method in BODY_METHODS
        has_query = any(p.get("in") == "query" for p in self._get_parameters())
        if has_body or has_query:
            add("400", OpenApiTypes.OBJECT, "Invalid input: the problems, by field.")
        add("401", ErrorOutputSerializer, "Not signed in.")
        add("403", ErrorOutputSerializer, "Not allowed.")
        if "{" in self.path:
            add("404", ErrorOutputSerializer, "No such record, or not one you may see.")
        if has_body:
            add("415", ErrorOutputSerializer, "The body is not in a supported format.")
        return responses
