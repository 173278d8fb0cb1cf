"""REST API for runs and reward models under ``/api/campaigns/<slug>/``."""

from pathlib import Path

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from labelhub.campaigns.api import CampaignChildViewSet
from labelhub.campaigns.serializers import PolicySerializer
from labelhub.core.downloads import path_download
from labelhub.core.errors import BadRequest, Conflict
from labelhub.core.inputs import id_field, query_int
from labelhub.core.paths import PathRefused
from labelhub.training import kinds, loop, planning, selectors, services
from labelhub.training.models import LoopRound
from labelhub.training.selectors import RUN_READERS, RUN_STARTERS
from labelhub.training.serializers import (
    RewardModelSerializer,
    RunCreateSerializer,
    RunKindSerializer,
    RunMetricSerializer,
    RunSerializer,
)


class AdoptVariantSerializer(serializers.Serializer):
    variant = serializers.CharField(max_length=80, help_text="The variant's name in the lab's summary.")
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="",
                                 help_text="The new policy's name (default: '<policy> · <variant>').")


class RunViewSet(CampaignChildViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Training runs: start one, follow it, cancel it. Curves come from ``metrics/``."""

    serializer_class = RunSerializer
    role_rules = {"list": RUN_READERS, "retrieve": RUN_READERS, "metrics": RUN_READERS, "download": RUN_READERS,
                  "*": RUN_STARTERS}

    def campaign_queryset(self):
        return selectors.run_list(campaign=self._campaign)

    @extend_schema(
        request=RunCreateSerializer,
        responses={201: RunSerializer, 400: OpenApiResponse(description="Nothing was started; errors per field.")},
    )
    def create(self, request, campaign_slug=None):
        serializer = RunCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        try:
            run = services.run_create(campaign=self._campaign, user=request.user, **serializer.validated_data)
        except services.RunInvalid as exc:
            raise BadRequest("The run was not started.", exc.errors) from None
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: RunSerializer, 409: OpenApiResponse(description="Already finished.")})
    @action(detail=True, methods=["post"])
    def cancel(self, request, campaign_slug=None, pk=None):
        """Cancel: a queued run at once; a running one is stopped (SIGTERM, then SIGKILL)."""
        try:
            run = services.run_cancel(run=self.get_object())
        except services.RunFinished as exc:
            raise Conflict(str(exc)) from None
        return Response(RunSerializer(run).data)

    @extend_schema(request=None, responses={
        201: RunSerializer,
        409: OpenApiResponse(description="Not resumable: its kind saves no checkpoints, it is not cancelled or failed, "
                                         "it saved no checkpoint, or it was resumed already."),
        400: OpenApiResponse(description="Its inputs no longer allow a run (errors per field).")})
    @action(detail=True, methods=["post"])
    def resume(self, request, campaign_slug=None, pk=None):
        """Continue a cancelled or failed run from its newest checkpoint, as a new run
        (``resumed_from`` names this one) with the same inputs and config and ``resume`` on."""
        try:
            run = services.run_resume(run=self.get_object(), user=request.user)
        except services.RunNotResumable as exc:
            raise Conflict(str(exc)) from None
        except services.RunInvalid as exc:
            raise BadRequest("The run was not resumed.", exc.errors) from None
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AdoptVariantSerializer, responses={
        201: PolicySerializer,
        400: OpenApiResponse(description="Not a finished prompt lab, no such variant, or the name is taken.")})
    @action(detail=True, methods=["post"])
    def adopt(self, request, campaign_slug=None, pk=None):
        """A prompt lab variant becomes a policy: the lab's policy (base, adapter) with the
        variant's template and generation settings, the lab's policy its parent. Send it to
        labeling (``POST …/loop-rounds/``) to have it compared like any other version."""
        params = AdoptVariantSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            policy = services.policy_from_variant(run=self.get_object(), **params.validated_data)
        except services.RunInvalid as exc:
            raise BadRequest("No policy was made.", exc.errors) from None
        return Response(PolicySerializer(policy).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("after", int, description="Only rows with a larger id (for polling).")],
        responses={200: RunMetricSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def metrics(self, request, campaign_slug=None, pk=None):
        """The run's metrics time series, one row per logged step, oldest first."""
        run = self.get_object()
        rows = selectors.metric_list(run=run, after=query_int(request.query_params, "after") or 0)
        return Response(RunMetricSerializer(rows, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("path", str, description="A file or folder inside the run folder "
                                     "(adapter, metrics.jsonl, samples.jsonl…); none: the whole folder.")],
        responses={(200, "application/octet-stream"): bytes,
                   400: OpenApiResponse(description="The path is outside the run folder or names nothing."),
                   404: OpenApiResponse(description="The run has no folder yet.")},
    )
    @action(detail=True, methods=["get"])
    def download(self, request, campaign_slug=None, pk=None):
        """A file of the run folder as it is, a folder of it (``?path=adapter``) or the whole
        folder as a zip, streamed."""
        run = self.get_object()
        path = request.query_params.get("path", "")
        try:
            target = selectors.run_file(run=run, path=path)
        except FileNotFoundError as exc:
            raise NotFound(str(exc)) from None
        except PathRefused as exc:
            raise BadRequest("Nothing to download at that path.", {"path": str(exc)}) from None
        name = f"{self._campaign.slug}-run{run.pk}" + ("" if target == Path(run.run_dir).resolve() else f"-{target.name}")
        return path_download(target, zip_name=f"{name}.zip")


class RunKindViewSet(viewsets.ViewSet):
    """The run kinds: each one's trainer method, inputs, what it registers, and the JSON Schema
    of its config (fields, defaults, bounds — the trainer's own). Any signed-in user may read
    them; what a run may use is checked when it is started."""

    lookup_field = "name"
    lookup_value_regex = "[a-z_-]+"

    @extend_schema(responses={200: RunKindSerializer(many=True)})
    def list(self, request):
        return Response(RunKindSerializer(kinds.KINDS.values(), many=True).data)

    @extend_schema(responses={200: RunKindSerializer})
    def retrieve(self, request, name=None):
        kind = kinds.KINDS.get(name)
        if kind is None:
            raise NotFound(f"No run kind {name!r}.")
        return Response(RunKindSerializer(kind).data)


class RewardModelViewSet(CampaignChildViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Reward models trained by the campaign's reward runs."""

    serializer_class = RewardModelSerializer
    role_rules = {"*": RUN_READERS}

    def campaign_queryset(self):
        return selectors.reward_model_list(campaign=self._campaign)


class LoopRoundSerializer(serializers.ModelSerializer):
    policy_name = serializers.CharField(source="policy.name", read_only=True)
    against = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    generation_runs = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = LoopRound
        fields = ["id", "policy", "policy_name", "against", "state", "generation_runs", "tasks_created", "error", "created_at"]
        read_only_fields = ["state", "tasks_created", "error", "created_at"]


class LoopRoundCreateSerializer(serializers.Serializer):
    policy = id_field(help_text="The policy version to send to labeling.")


class LoopRoundViewSet(CampaignChildViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    """Send a policy version to labeling (``{"policy": id}``): generate, then queue comparison tasks."""

    serializer_class = LoopRoundSerializer
    role_rules = {"list": RUN_READERS, "retrieve": RUN_READERS, "*": RUN_STARTERS}

    def campaign_queryset(self):
        return LoopRound.objects.filter(campaign=self._campaign).select_related("policy").prefetch_related(
            "against", "generation_runs")

    @extend_schema(request=LoopRoundCreateSerializer, responses={201: LoopRoundSerializer})
    def create(self, request, campaign_slug=None):
        params = LoopRoundCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        policy = self._campaign.policies.filter(pk=params.validated_data["policy"]).first()
        if policy is None:
            raise BadRequest("Invalid input: policy.", {"policy": "Not a policy of this campaign."})
        try:
            loop_round = loop.send_to_labeling(policy=policy, user=request.user)
        except (loop.LoopInvalid, services.RunInvalid) as exc:
            raise Conflict(str(exc)) from None
        return Response(LoopRoundSerializer(loop_round).data, status=status.HTTP_201_CREATED)



class PlanView(APIView):
    """The compute planner (``python -m trainer plan``'s figures): compute-optimal tokens and size
    (Chinchilla), training FLOPs and time, training and inference memory. Any signed-in user may
    ask with params and/or the shape; ``policy`` (an id) reads that policy's model config.json and
    needs a role that reads the policy's runs (404 otherwise)."""

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiResponse(description="No estimate; errors per field."),
                   404: OpenApiResponse(description="No such policy (or not one you may read).")},
    )
    def post(self, request):
        body = request.data.dict() if hasattr(request.data, "dict") else request.data
        if not isinstance(body, dict):
            raise BadRequest("The body must be a JSON object of planner fields.", [{"field": None, "message": "must be an object"}])
        values = dict(body)
        policy = None
        if "policy" in values:
            policy_id = values.pop("policy")
            if isinstance(policy_id, str) and policy_id.isdigit():
                policy_id = int(policy_id)
            if not isinstance(policy_id, int) or isinstance(policy_id, bool) or not 1 <= policy_id < 2**63:
                raise BadRequest("Invalid input: policy.", {"policy": "must be a policy id"})
            policy = selectors.policy_for_run_reader(user=request.user, pk=policy_id)
        try:
            result = planning.estimate(values, policy=policy)
        except planning.ConfigError as exc:
            raise BadRequest("No estimate: " + "; ".join(f or "request" for f, _ in exc.problems) + ".",
                             [{"field": f, "message": m} for f, m in exc.problems]) from None
        return Response(result)
