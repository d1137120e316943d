from dataclasses import replace
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from deployments.selectors import seeded_weights_sha256
from feedback.selectors import feedback_agreement
from model_card.serializers import ReanalysedSerializer, ReanalyseSerializer, ShadowComparisonSerializer
from model_card.shadow_comparison import shadow_comparison
from studies.card_serializers import AnalyserCardSerializer, ModelAgreementSerializer, ModelCardSerializer
from studies.inference import active_model_card, analyser_cards
from studies.services import studies_reanalyse


def shown_model_card() -> dict[str, Any]:
    """The active card with the digest the studies' cards carry: an untrained model's card has none
    until its weights are drawn, and the model page said "None" where the study page showed one."""
    card = active_model_card()
    if card.weights_sha256 is None:
        card = replace(card, weights_sha256=seeded_weights_sha256(card.input_channels, len(card.labels)))
    return card.to_dict()


class ActiveModelView(APIView):
    @extend_schema(responses=ModelCardSerializer, summary="The active model's card")
    def get(self, request: Request) -> Response:
        return Response(ModelCardSerializer(shown_model_card()).data)


class AnalysersView(APIView):
    @extend_schema(
        responses=AnalyserCardSerializer(many=True),
        summary="The analysers beside the classifier (segmentation, screener), each with its own card",
    )
    def get(self, request: Request) -> Response:
        return Response(AnalyserCardSerializer(analyser_cards(), many=True).data)


class ModelAgreementView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        responses=ModelAgreementSerializer,
        summary="How often clinicians agreed with each finding of the active model (admins)",
    )
    def get(self, request: Request) -> Response:
        card = active_model_card()
        findings = feedback_agreement(
            labels=list(card.labels), model_name=card.name, model_version=card.version
        )
        return Response(
            ModelAgreementSerializer({"name": card.name, "version": card.version, "findings": findings}).data
        )


class ShadowComparisonView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        responses=ShadowComparisonSerializer(many=True),
        summary="Each shadow candidate against the active model and clinicians' verdicts (admins)",
    )
    def get(self, request: Request) -> Response:
        return Response(ShadowComparisonSerializer(shadow_comparison(), many=True).data)


class ReanalyseView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        request=ReanalyseSerializer,
        responses={202: ReanalysedSerializer},
        summary="Analyse finished studies again with the active model (an explicit choice)",
    )
    def post(self, request: Request) -> Response:
        serializer = ReanalyseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        queued = studies_reanalyse(study_ids=serializer.validated_data["study_ids"], request=request)
        return Response(ReanalysedSerializer({"queued": queued}).data, status=status.HTTP_202_ACCEPTED)
