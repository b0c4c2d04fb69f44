"""QA REST API: scorecards, evaluations, disputes (same scoping and rules as the pages)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from callcenter.api_schema import ErrorOutputSerializer
from callcenter.pii import PiiBlocked
from qa.models import Dispute
from qa.scoring import Mark
from qa.selectors.evaluations import evaluation_get_for, evaluations_visible_to
from qa.selectors.scorecards import scorecard_get_for, scorecards_visible_to
from qa.services.disputes import dispute_open, dispute_resolve
from tickets.api import PiiErrorOutputSerializer
from tickets.forms import PII_API_MESSAGE


def _api_error(exc: ValidationError) -> ApiValidationError:
    return ApiValidationError({"detail": exc.messages})


PII_ACTION = serializers.ChoiceField(
    choices=["", "mask"],
    required=False,
    default="",
    help_text="Send `mask` to save text in which personal data was found, masked.",
)


def _pii_confirmed(request) -> bool:
    return (request.data.get("pii_action") or "") == "mask"


def _pii_response(blocked: PiiBlocked) -> Response:
    """Like the tickets API: what was found (masked), nothing saved."""
    return Response(
        {
            "detail": PII_API_MESSAGE,
            "pii": [{"field": f, "kind": x.kind, "masked": x.masked} for f, x in blocked.findings],
        },
        status=status.HTTP_422_UNPROCESSABLE_ENTITY,
    )


class ItemOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    kind = serializers.CharField()
    max_points = serializers.FloatField()
    weight = serializers.FloatField()
    allow_na = serializers.BooleanField()
    auto_fail = serializers.BooleanField()
    bonus = serializers.BooleanField()
    compliance = serializers.CharField()


class SectionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    weight = serializers.FloatField()
    items = ItemOutputSerializer(many=True, source="items.all")


class ScorecardOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    family = serializers.CharField()
    version = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    department_id = serializers.IntegerField(allow_null=True)
    queue_id = serializers.IntegerField(allow_null=True)
    auto_fail_mode = serializers.CharField()
    published_at = serializers.DateTimeField(allow_null=True)


class ScorecardDetailOutputSerializer(ScorecardOutputSerializer):
    sections = SectionOutputSerializer(many=True, source="sections.all")


class ScorecardListApi(APIView):
    @extend_schema(responses=ScorecardOutputSerializer(many=True))
    def get(self, request):
        cards = scorecards_visible_to(request.user).order_by("family", "-version")
        return Response(ScorecardOutputSerializer(cards, many=True).data)


class ScorecardDetailApi(APIView):
    @extend_schema(responses=ScorecardDetailOutputSerializer)
    def get(self, request, scorecard_id: int):
        card = scorecard_get_for(request.user, scorecard_id)
        return Response(ScorecardDetailOutputSerializer(card).data)


class AnswerOutputSerializer(serializers.Serializer):
    item_id = serializers.IntegerField()
    value = serializers.FloatField(allow_null=True)
    not_applicable = serializers.BooleanField()
    note = serializers.CharField()


class CommentOutputSerializer(serializers.Serializer):
    at_seconds = serializers.FloatField()
    body = serializers.CharField()
    author_id = serializers.IntegerField()


class EvaluationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    call_id = serializers.IntegerField()
    scorecard_id = serializers.IntegerField()
    agent_id = serializers.IntegerField()
    evaluator_id = serializers.IntegerField()
    team_id = serializers.IntegerField(allow_null=True)
    department_id = serializers.IntegerField()
    month = serializers.DateField()
    reason = serializers.CharField()
    status = serializers.CharField()
    due_date = serializers.DateField(allow_null=True)
    score = serializers.FloatField(allow_null=True)
    compliance_score = serializers.FloatField(allow_null=True)
    auto_failed = serializers.BooleanField()
    submitted_at = serializers.DateTimeField(allow_null=True)


class EvaluationDetailOutputSerializer(EvaluationOutputSerializer):
    feedback = serializers.CharField()
    answers = AnswerOutputSerializer(many=True, source="answers.all")
    comments = CommentOutputSerializer(many=True, source="comments.all")


class EvaluationListApi(APIView):
    """Evaluations you may see (not calibration scores), newest first, at most 500."""

    @extend_schema(responses=EvaluationOutputSerializer(many=True))
    def get(self, request):
        qs = (
            evaluations_visible_to(request.user)
            .filter(calibration__isnull=True)
            .order_by("-created_at")[:500]
        )
        return Response(EvaluationOutputSerializer(qs, many=True).data)


class EvaluationDetailApi(APIView):
    @extend_schema(responses=EvaluationDetailOutputSerializer)
    def get(self, request, evaluation_id: int):
        evaluation = evaluation_get_for(request.user, evaluation_id)
        return Response(EvaluationDetailOutputSerializer(evaluation).data)


class DisputeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    evaluation_id = serializers.IntegerField()
    raised_by_id = serializers.IntegerField()
    reviewer_id = serializers.IntegerField()
    reason = serializers.CharField()
    status = serializers.CharField()
    resolution = serializers.CharField()
    score_before = serializers.FloatField(allow_null=True)
    score_after = serializers.FloatField(allow_null=True)
    raised_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class DisputeListApi(APIView):
    class InputSerializer(serializers.Serializer):
        evaluation_id = serializers.IntegerField()
        reason = serializers.CharField(max_length=4000)
        pii_action = PII_ACTION

        class Meta:
            ref_name = "DisputeOpenInput"

    @extend_schema(responses=DisputeOutputSerializer(many=True))
    def get(self, request):
        """Disputes on evaluations you may see, and those you are to review."""
        visible = evaluations_visible_to(request.user).values("pk")
        qs = Dispute.objects.filter(Q(evaluation__in=visible) | Q(reviewer=request.user)).order_by(
            "-raised_at"
        )[:500]
        return Response(DisputeOutputSerializer(qs, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: DisputeOutputSerializer,
            404: OpenApiResponse(ErrorOutputSerializer, "No such evaluation you may see."),
            422: PiiErrorOutputSerializer,
        },
    )
    def post(self, request):
        """The agent disputes their own scored evaluation."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        evaluation = evaluation_get_for(request.user, data.validated_data["evaluation_id"])
        try:
            dispute = dispute_open(
                evaluation=evaluation,
                actor=request.user,
                reason=data.validated_data["reason"],
                pii_confirmed=_pii_confirmed(request),
            )
        except PiiBlocked as blocked:
            return _pii_response(blocked)
        except ValidationError as exc:
            raise _api_error(exc) from exc
        return Response(DisputeOutputSerializer(dispute).data, status=status.HTTP_201_CREATED)


class DisputeAnswerInputSerializer(serializers.Serializer):
    item_id = serializers.IntegerField()
    value = serializers.FloatField(required=False, allow_null=True)
    not_applicable = serializers.BooleanField(default=False)


class DisputeResolveApi(APIView):
    class InputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(choices=["uphold", "change"])
        resolution = serializers.CharField(max_length=4000)
        answers = DisputeAnswerInputSerializer(
            many=True,
            required=False,
            help_text="With `change`: one answer per criterion of the scorecard.",
        )
        pii_action = PII_ACTION

        class Meta:
            ref_name = "DisputeResolveInput"

    @extend_schema(
        request=InputSerializer,
        responses={200: DisputeOutputSerializer, 422: PiiErrorOutputSerializer},
    )
    def post(self, request, dispute_id: int):
        """The reviewer (never the evaluator) upholds the score or changes it with new
        answers for every criterion."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = Dispute.objects.filter(pk=dispute_id).first()
        if dispute is None:
            raise Http404
        evaluation_get_for(request.user, dispute.evaluation_id)  # 404 unless visible
        marks = None
        if data.validated_data["decision"] == "change":
            marks = {
                a["item_id"]: Mark(value=a.get("value"), not_applicable=a["not_applicable"])
                for a in data.validated_data.get("answers") or []
            }
        try:
            dispute = dispute_resolve(
                dispute=dispute,
                actor=request.user,
                resolution=data.validated_data["resolution"],
                marks=marks,
                pii_confirmed=_pii_confirmed(request),
            )
        except PiiBlocked as blocked:
            return _pii_response(blocked)
        except ValidationError as exc:
            raise _api_error(exc) from exc
        return Response(DisputeOutputSerializer(dispute).data)
