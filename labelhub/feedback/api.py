"""Snapshots, the leaderboard and pair imports over the API."""

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from labelhub.campaigns import import_jobs
from labelhub.campaigns.api import IMPORT_REJECTED, CampaignChildViewSet, queued, upload_or_reject
from labelhub.campaigns.imports import ImportRejected
from labelhub.campaigns.models import Role
from labelhub.campaigns.selectors import CONTENT_READERS
from labelhub.campaigns.serializers import ImportSerializer
from labelhub.core.downloads import file_download, folder_zip_download
from labelhub.core.errors import BadRequest, Conflict
from labelhub.core.inputs import FormParser, MultiPartParser
from labelhub.feedback import dashboard, selectors, services
from labelhub.feedback import leaderboard as leaderboard_lib
from labelhub.feedback.alarms import Thresholds
from labelhub.feedback.imports import pairs_import, pairs_import_queue, unpacked
from labelhub.feedback.models import Snapshot
from labelhub.feedback.serializers import (
    AgreementQuerySerializer,
    AlarmQuerySerializer,
    CompletionScoresSerializer,
    DisagreementQuerySerializer,
    PairImportSerializer,
    PromoteSerializer,
    ReviewListQuerySerializer,
    ReviewQueueQuerySerializer,
    ReviewSerializer,
    RewardDisagreementQuerySerializer,
    SendBackSerializer,
    SnapshotSerializer,
    leaderboard_payload,
)
from labelhub.feedback.tasks import build_snapshot
from labelhub.labeling import selectors as labeling_selectors
from labelhub.labeling import services as labeling_services

BUILDERS = {Role.LEAD, Role.ENGINEER}
#: Who reviews judgments and works the disagreement queue (docs/quality.md).
REVIEWERS = {Role.LEAD, Role.REVIEWER}


class SnapshotViewSet(CampaignChildViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    """Frozen exports of the campaign's judgments. Creating one queues the export job."""

    serializer_class = SnapshotSerializer
    role_rules = {"list": CONTENT_READERS, "retrieve": CONTENT_READERS, "download": CONTENT_READERS,
                  "archive": CONTENT_READERS, "*": BUILDERS}

    def campaign_queryset(self):
        return Snapshot.objects.filter(campaign=self._campaign).order_by("-version")

    def create(self, request, campaign_slug=None):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        options = {k: v for k, v in serializer.validated_data.items()
                   if k in {"kind", "aggregation", "keep_ties", "filters", "strength_margins"}}
        try:
            snapshot = snapshot_create_and_queue(campaign=self._campaign, user=request.user, **options)
        except services.SnapshotInvalid as exc:
            raise BadRequest("Invalid snapshot options.", exc.errors) from None
        return Response(SnapshotSerializer(snapshot).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/jsonl"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request, campaign_slug=None, pk=None):
        """The snapshot's data.jsonl (TRL format with provenance columns)."""
        snapshot = self.get_object()
        if snapshot.state != Snapshot.State.READY:
            raise Conflict(f"The snapshot is {snapshot.state}.")
        name = f"{self._campaign.slug}-v{snapshot.version}-{snapshot.kind}.jsonl"
        return file_download(snapshot.jsonl_path, filename=name, content_type="application/jsonl")

    @extend_schema(responses={(200, "application/zip"): bytes})
    @action(detail=True, methods=["get"])
    def archive(self, request, campaign_slug=None, pk=None):
        """The snapshot's whole folder (data.jsonl and anything written beside it) as a zip, streamed."""
        snapshot = self.get_object()
        if snapshot.state != Snapshot.State.READY:
            raise Conflict(f"The snapshot is {snapshot.state}.")
        name = f"{self._campaign.slug}-v{snapshot.version}-{snapshot.kind}.zip"
        try:
            return folder_zip_download(snapshot.path, filename=name)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"Snapshot v{snapshot.version}'s folder is no longer on the server.") from None


def snapshot_create_and_queue(*, campaign, user, **options) -> Snapshot:
    with transaction.atomic():
        snapshot = services.snapshot_create(campaign=campaign, user=user, **options)
        transaction.on_commit(lambda: build_snapshot.defer(snapshot_id=snapshot.pk))
    return snapshot


class LeaderboardViewSet(CampaignChildViewSet):
    """Bradley–Terry standings of policy versions from human judgments; the promotion gate."""

    role_rules = {"list": CONTENT_READERS, "*": BUILDERS}
    serializer_class = PromoteSerializer  # OPTIONS describes the promote body

    @extend_schema(responses={200: None})
    def list(self, request, campaign_slug=None):
        return Response(leaderboard_payload(leaderboard_lib.leaderboard(campaign=self._campaign)))

    @extend_schema(request=PromoteSerializer, responses={
        200: None, 400: OpenApiResponse(description="Bad request (e.g. an override without a note)."),
        409: OpenApiResponse(description="Refused: the interval does not clear the best, or the version is flagged "
                                         "by its guards (then 'flagged' and 'reasons')."),
    })
    @action(detail=False, methods=["post"])
    def promote(self, request, campaign_slug=None):
        """Make a policy the best version — only if its 95% lower bound beats the current best, and,
        for a version whose run broke a guard, only with ``{"override": true, "note": "why"}``."""
        params = PromoteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        policy = self._campaign.policies.filter(pk=params.validated_data["policy"]).first()
        if policy is None:
            raise BadRequest("Invalid input: policy.", {"policy": "Not a policy of this campaign."})
        try:
            standing = leaderboard_lib.policy_promote(
                campaign=self._campaign, policy=policy, user=request.user,
                override=params.validated_data["override"], note=params.validated_data["note"])
        except leaderboard_lib.PromotionFlagged as exc:
            raise Conflict(str(exc), flagged=True, reasons=exc.reasons,
                           override='send {"override": true, "note": "why"} to promote it anyway') from None
        except leaderboard_lib.PromotionRefused as exc:
            raise Conflict(str(exc)) from None
        except leaderboard_lib.PromotionInvalid as exc:
            raise BadRequest("Invalid input: note.", {"note": str(exc)}) from None
        return Response({"promoted": policy.name, "strength": standing.strength, "low": standing.low, "high": standing.high,
                         "override": policy.flagged, "note": params.validated_data["note"]})


class AgreementViewSet(CampaignChildViewSet):
    """Agreement between labelers on the tasks they share (docs/quality.md)."""

    role_rules = {"*": CONTENT_READERS}
    serializer_class = AgreementQuerySerializer

    @extend_schema(parameters=[AgreementQuerySerializer], responses={200: None})
    def list(self, request, campaign_slug=None):
        """Krippendorff's α (ordinal), pairwise agreement and Kendall's τ-b: for the campaign, per
        labeler (against the others and the majority), per pair of labelers, per pair of policies
        and per period."""
        params = AgreementQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        return Response(selectors.campaign_agreement(campaign=self._campaign, period=params.validated_data["period"]))


class AlarmViewSet(CampaignChildViewSet):
    """Bias alarms per labeler (docs/quality.md)."""

    role_rules = {"*": CONTENT_READERS}
    serializer_class = AlarmQuerySerializer

    @extend_schema(parameters=[AlarmQuerySerializer], responses={200: None})
    def list(self, request, campaign_slug=None):
        """Position bias, length bias, speed and straight-lining of each labeler, each with its
        statistic, p-value and status (alarm, ok, or too_few judgments to tell)."""
        params = AlarmQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        v = params.validated_data
        thresholds = Thresholds(p_value=v["p_value"], min_judgments=v["min_judgments"], speed_floor_seconds=v["speed_floor"])
        return Response(selectors.campaign_alarms(campaign=self._campaign, thresholds=thresholds))


class DashboardViewSet(CampaignChildViewSet):
    """The live dashboard's figures, as its WebSocket sends them (docs/quality.md): leads and reviewers."""

    role_rules = {"*": dashboard.WATCHERS}
    serializer_class = AgreementQuerySerializer

    @extend_schema(parameters=[AgreementQuerySerializer], responses={200: None})
    def list(self, request, campaign_slug=None):
        """``counts`` (progress, judgments per hour, per labeler: judgments and gold answers) and
        ``quality`` (agreement with its series per ``period``, each labeler's agreement and alarms)."""
        params = AgreementQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        return Response({
            "counts": selectors.dashboard_counts(campaign=self._campaign),
            "quality": selectors.dashboard_quality(campaign=self._campaign, period=params.validated_data["period"]),
        })


class PairImportViewSet(CampaignChildViewSet):
    """Import pre-judged pairs (HH-RLHF format) as judgments from the "imported" source."""

    parser_classes = [MultiPartParser, FormParser]
    serializer_class = PairImportSerializer
    role_rules = {"*": {Role.LEAD}}

    @extend_schema(request=PairImportSerializer, responses={
        201: None, 202: OpenApiResponse(ImportSerializer, description="A large file: queued for the import job."),
        400: None})
    def create(self, request, campaign_slug=None):
        """201 with the counts; for a file over ``LABELHUB_IMPORT_JOB_BYTES`` (a gzip file by its
        content) 202 with the import, which ``GET …/imports/<id>/`` follows."""
        upload = upload_or_reject(PairImportSerializer(data=request.data))
        try:
            import_jobs.size_check(upload.size)
            data = upload.read()
            if import_jobs.needs_job(len(unpacked(data))):
                return queued(request, pairs_import_queue(campaign=self._campaign, user=request.user,
                                                          upload=upload, data=data))
            result = pairs_import(campaign=self._campaign, data=data)
        except ImportRejected as rejected:
            raise BadRequest(IMPORT_REJECTED, [e.as_dict() for e in rejected.errors]) from None
        return Response(result, status=status.HTTP_201_CREATED)


class ReviewQueueViewSet(CampaignChildViewSet):
    """Judgments waiting for a review, from one source (docs/quality.md, "Reviews")."""

    role_rules = {"*": REVIEWERS}
    serializer_class = ReviewQueueQuerySerializer

    @extend_schema(parameters=[ReviewQueueQuerySerializer], responses={200: None})
    def list(self, request, campaign_slug=None):
        """The first ``limit`` unreviewed judgments of ``source`` (a random sample, the flagged
        ones…), each with its task, completions as the labeler saw them, and current review."""
        params = ReviewQueueQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        return Response(selectors.review_queue(campaign=self._campaign, **params.validated_data))


class ReviewViewSet(CampaignChildViewSet):
    """Reviews of judgments: append-only verdicts (accept / reject with a note)."""

    role_rules = {"*": REVIEWERS}
    serializer_class = ReviewSerializer

    @extend_schema(parameters=[ReviewListQuerySerializer], responses={200: None})
    def list(self, request, campaign_slug=None):
        """The campaign's reviews newest first, or one judgment's history (``?judgment=``)."""
        params = ReviewListQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        v = params.validated_data
        reviews = selectors.review_list(campaign=self._campaign, judgment_id=v.get("judgment"))[:v["limit"]]
        return Response([selectors.review_payload(r) | {"current": r.current} for r in reviews])

    @extend_schema(request=ReviewSerializer, responses={201: None, 400: None})
    def create(self, request, campaign_slug=None):
        """Accept or reject a judgment. A new review of a judgment supersedes its current one."""
        params = ReviewSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        v = params.validated_data
        try:
            review = services.review_record(campaign=self._campaign, reviewer=request.user, judgment_id=v["judgment"],
                                            verdict=v["verdict"], note=v["note"], source=v["source"])
        except services.ReviewInvalid as exc:
            raise BadRequest("Invalid review.", exc.errors) from None
        return Response(selectors.review_payload(review) | {"current": True}, status=status.HTTP_201_CREATED)


class DisagreementViewSet(CampaignChildViewSet):
    """The disagreement queue: tasks labelers disagree on, and pairs where a reward model and
    the human majority disagree; either can be sent back to labeling with more overlap."""

    role_rules = {"*": REVIEWERS}
    serializer_class = DisagreementQuerySerializer

    @extend_schema(parameters=[DisagreementQuerySerializer], responses={200: None})
    def list(self, request, campaign_slug=None):
        """Tasks whose pairwise agreement is below ``threshold``, least agreement first."""
        params = DisagreementQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        return Response(selectors.disagreement_tasks(campaign=self._campaign, **params.validated_data))

    @extend_schema(parameters=[RewardDisagreementQuerySerializer], responses={200: None, 400: None})
    @action(detail=False, methods=["get"])
    def reward(self, request, campaign_slug=None):
        """Reward-hacking candidates: the scorer's favourite of two completions is the one the
        human majority ranks worse. Largest score gap first."""
        params = RewardDisagreementQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        result = selectors.reward_candidates(campaign=self._campaign, **params.validated_data)
        if "scorer" in params.validated_data and result["scorer"] not in {s["scorer"] for s in result["scorers"]}:
            raise BadRequest("Invalid input: scorer.", {"scorer": "no completion of this campaign has a score from it"})
        return Response(result)

    @extend_schema(request=SendBackSerializer, responses={200: None, 400: None})
    @action(detail=False, methods=["post"], url_path="send-back")
    def send_back(self, request, campaign_slug=None):
        """Add ``extra`` judgments to a task's overlap, so the queue hands it out again."""
        params = SendBackSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        v = params.validated_data
        try:
            task = labeling_services.task_send_back(campaign=self._campaign, task_id=v["task"], extra=v["extra"],
                                                    priority=v.get("priority"))
        except labeling_services.SendBackInvalid as exc:
            raise BadRequest("Not sent back.", exc.errors) from None
        return Response({"task": task.pk, "overlap": task.overlap, "judgment_count": task.judgment_count,
                         "priority": task.priority, "labelers_left": labeling_selectors.labelers_left(task=task)})


class CompletionScoreViewSet(CampaignChildViewSet):
    """Machine scores of completions (a reward model's), which the disagreement queue compares
    with the human majority. Leads and engineers record them; reviewers read them there."""

    role_rules = {"*": BUILDERS}
    serializer_class = CompletionScoresSerializer

    @extend_schema(request=CompletionScoresSerializer, responses={201: None, 400: None})
    def create(self, request, campaign_slug=None):
        """Record ``scores`` from ``scorer``; a completion it scored before gets the new score."""
        params = CompletionScoresSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        v = params.validated_data
        try:
            n = services.completion_scores_record(campaign=self._campaign, scorer=v["scorer"],
                                                  scores=[(s["completion"], s["score"]) for s in v["scores"]])
        except services.ReviewInvalid as exc:
            raise BadRequest("Invalid scores: nothing was recorded.", exc.errors) from None
        return Response({"scorer": v["scorer"], "recorded": n}, status=status.HTTP_201_CREATED)
