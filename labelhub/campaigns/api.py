"""REST API for campaigns and their content. Views parse, call a selector or service, serialize."""

from django.db.models import ProtectedError
from django.utils.functional import cached_property
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse

from labelhub.campaigns import import_jobs, selectors, services
from labelhub.campaigns.imports import ImportRejected
from labelhub.campaigns.models import RETRIEVAL_K_MAX, Role, content_hash
from labelhub.campaigns.permissions import ANY_MEMBER, HasCampaignRole
from labelhub.campaigns.selectors import CONTENT_READERS
from labelhub.campaigns.serializers import (
    CampaignSerializer,
    CompletionSerializer,
    GuidelinesPreviewAnswerSerializer,
    GuidelinesPreviewSerializer,
    GuidelineVersionSerializer,
    ImportSerializer,
    ImportUploadSerializer,
    InvitationAnsweredSerializer,
    InvitationSerializer,
    MyInvitationSerializer,
    PassageSerializer,
    PassageUploadSerializer,
    PolicySerializer,
    PromptSerializer,
    invitation_answered,
)
from labelhub.campaigns.templatetags.markdown import render_markdown
from labelhub.core.errors import BadRequest, Conflict
from labelhub.core.inputs import FormParser, MultiPartParser, query_int, query_text

LEAD = {Role.LEAD}


def delete_unless_protected(delete, what: str) -> None:
    """Run ``delete()``; rows that protect the object (judgments, tasks…) make it a 409."""
    try:
        delete()
    except ProtectedError as exc:
        kinds = sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects})
        raise Conflict(f"{what} still has {', '.join(kinds)}; it cannot be deleted.") from None


class CampaignViewSet(viewsets.ModelViewSet):
    """Campaigns you are a member of. Anyone signed in may create one and becomes its lead."""

    serializer_class = CampaignSerializer
    permission_classes = [IsAuthenticated, HasCampaignRole]
    lookup_field = "slug"
    role_rules = {"retrieve": ANY_MEMBER, "*": LEAD}

    def get_queryset(self):
        return selectors.campaign_list(user=self.request.user)

    def get_campaign(self):
        if "slug" not in self.kwargs:
            return None
        return self._campaign

    @cached_property
    def _campaign(self):
        return selectors.campaign_get(user=self.request.user, slug=self.kwargs["slug"])

    def get_roles(self):
        return self._campaign.roles_of(self.request.user)

    def get_object(self):
        return self._campaign

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action == "list" and self.request.user.is_authenticated:
            context["roles_by_campaign"] = selectors.roles_by_campaign(user=self.request.user)
        return context

    @extend_schema(request=GuidelinesPreviewSerializer, responses=GuidelinesPreviewAnswerSerializer)
    @action(detail=True, methods=["post"], url_path="guidelines/preview")
    def guidelines_preview(self, request, slug=None):
        """Leads: guidelines rendered with the labeling page's renderer and sanitiser, unsaved."""
        params = GuidelinesPreviewSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return Response({"html": render_markdown(params.validated_data["text"])})

    def perform_create(self, serializer):
        serializer.instance = services.campaign_create(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        services.campaign_update(campaign=serializer.instance, user=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        delete_unless_protected(lambda: services.campaign_delete(campaign=instance), "This campaign")


class CampaignChildViewSet(viewsets.GenericViewSet):
    """Base for endpoints under ``/api/campaigns/<slug>/…``: non-members get 404."""

    permission_classes = [IsAuthenticated, HasCampaignRole]

    def get_campaign(self):
        return self._campaign

    @cached_property
    def _campaign(self):
        if getattr(self, "swagger_fake_view", False):
            return None
        return selectors.campaign_get(user=self.request.user, slug=self.kwargs["campaign_slug"])

    def get_roles(self):
        return self._campaign.roles_of(self.request.user)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request user
            return self.get_serializer_class().Meta.model.objects.none()
        return self.campaign_queryset()

    def campaign_queryset(self):
        raise NotImplementedError

    def get_serializer_context(self):
        return super().get_serializer_context() | {"campaign": self._campaign}


class GuidelineVersionViewSet(CampaignChildViewSet, mixins.ListModelMixin):
    """The campaign's guideline versions, newest first, each with its change note (any member:
    labelers read what changed since the version they last read)."""

    serializer_class = GuidelineVersionSerializer
    role_rules = {"*": ANY_MEMBER}

    def campaign_queryset(self):
        return selectors.guideline_versions(campaign=self._campaign)


class InvitationViewSet(CampaignChildViewSet, mixins.ListModelMixin, mixins.DestroyModelMixin):
    """A campaign's invitations (leads). DELETE revokes a pending one; the row stays, revoked.
    Invite with ``POST …/members/``."""

    serializer_class = InvitationSerializer
    role_rules = {"*": LEAD}

    def campaign_queryset(self):
        return selectors.invitation_list(campaign=self._campaign)

    def perform_destroy(self, instance):
        try:
            services.invitation_revoke(invitation=instance)
        except services.InvitationClosed as exc:
            raise Conflict(str(exc)) from None


class MyInvitationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Invitations waiting for your answer. Accepting one makes you a member with its role."""

    serializer_class = MyInvitationSerializer
    permission_classes = [IsAuthenticated]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors.invitations_pending(user=self.request.user)

    def get_object(self):
        return selectors.invitation_pending_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(request=None, responses={200: InvitationAnsweredSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Join the campaign with the invited role."""
        invitation = self.get_object()
        try:
            services.invitation_accept(invitation=invitation, user=request.user)
        except services.InvitationClosed as exc:
            raise Conflict(str(exc)) from None
        return Response(invitation_answered(invitation, "accepted"))

    @extend_schema(request=None, responses={200: InvitationAnsweredSerializer})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """Say no; the campaign's leads see the invitation as declined."""
        invitation = self.get_object()
        try:
            services.invitation_decline(invitation=invitation, user=request.user)
        except services.InvitationClosed as exc:
            raise Conflict(str(exc)) from None
        return Response(invitation_answered(invitation, "declined"))


class PromptViewSet(
    CampaignChildViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin
):
    """Prompts of a campaign (filter with ``?split=`` and ``?search=``). Add them by import."""

    serializer_class = PromptSerializer
    role_rules = {"list": CONTENT_READERS, "retrieve": CONTENT_READERS, "*": LEAD}

    def campaign_queryset(self):
        params = self.request.query_params
        return selectors.prompt_list(
            campaign=self._campaign, split=query_text(params, "split"), search=query_text(params, "search")
        )

    def perform_destroy(self, instance):
        delete_unless_protected(instance.delete, "This prompt")


class PolicyViewSet(CampaignChildViewSet, viewsets.ModelViewSet):
    """Policies (model versions) of a campaign."""

    serializer_class = PolicySerializer
    role_rules = {"list": CONTENT_READERS, "retrieve": CONTENT_READERS, "*": {Role.LEAD, Role.ENGINEER}}

    def campaign_queryset(self):
        return selectors.policy_list(campaign=self._campaign)

    def perform_create(self, serializer):
        services.policy_save(serializer=serializer, campaign=self._campaign)

    def perform_update(self, serializer):
        services.policy_save(serializer=serializer, campaign=self._campaign)

    def perform_destroy(self, instance):
        delete_unless_protected(instance.delete, f"Policy {instance.name!r}")


class CompletionViewSet(
    CampaignChildViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Completions of a campaign's prompts (filter with ``?prompt=`` and ``?policy=``)."""

    serializer_class = CompletionSerializer
    role_rules = {"list": CONTENT_READERS, "retrieve": CONTENT_READERS, "*": {Role.LEAD, Role.ENGINEER}}

    def campaign_queryset(self):
        params = self.request.query_params
        return selectors.completion_list(
            campaign=self._campaign,
            prompt_id=query_int(params, "prompt"),
            policy_id=query_int(params, "policy"),
        )

    def perform_create(self, serializer):
        serializer.save(content_hash=content_hash(serializer.validated_data["text"]))


class ImportViewSet(CampaignChildViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Upload prompts and completions as JSONL or CSV; all-or-nothing. A file over
    ``LABELHUB_IMPORT_JOB_BYTES`` is imported by a job: 202 with the import, whose state and
    progress ``GET …/imports/<id>/`` follows. Only leads import and see imports."""

    parser_classes = [MultiPartParser, FormParser]
    serializer_class = ImportSerializer
    role_rules = {"*": LEAD}

    def campaign_queryset(self):
        return selectors.import_list(campaign=self._campaign)

    @extend_schema(
        request=ImportUploadSerializer,
        responses={
            201: ImportSerializer,
            202: OpenApiResponse(ImportSerializer, description="A large file: queued for the import job."),
            400: OpenApiResponse(description="Nothing was written; each error names its line and field."),
        },
    )
    def create(self, request, campaign_slug=None):
        upload = upload_or_reject(ImportUploadSerializer(data=request.data))
        try:
            if import_jobs.needs_job(upload.size):
                batch = services.prompts_import_queue(campaign=self._campaign, user=request.user, upload=upload)
                return queued(request, batch)
            result = services.prompts_import_upload(campaign=self._campaign, user=request.user, upload=upload)
        except ImportRejected as rejected:
            raise BadRequest(IMPORT_REJECTED, [e.as_dict() for e in rejected.errors]) from None
        return Response(ImportSerializer(result.batch).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ImportUploadSerializer, responses={
        200: OpenApiResponse(description="The dry run: ok, prompts, completions, first_rows, errors (line, field, message)."),
        400: OpenApiResponse(description="No file, an unknown format, or a file over the size limit.")})
    @action(detail=False, methods=["post"])
    def preview(self, request, campaign_slug=None):
        """Check an upload by the import's rules and show its first rows; nothing is written.
        A file the import would refuse is still a 200, with ``ok: false`` and the errors."""
        upload = upload_or_reject(ImportUploadSerializer(data=request.data))
        try:
            return Response(services.prompts_import_preview(upload=upload))
        except ImportRejected as rejected:
            raise BadRequest(IMPORT_REJECTED, [e.as_dict() for e in rejected.errors]) from None


class PassageViewSet(CampaignChildViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The campaign's document collection, which retrieval-augmented policies search. ``?q=``
    lists the passages retrieval would pick for that text, best first (``?k=``, default 5),
    each with its ``rank``. Add passages with ``POST …/passages/import/`` (.txt, .md or .jsonl;
    all-or-nothing)."""

    serializer_class = PassageSerializer
    role_rules = {"list": CONTENT_READERS, "retrieve": CONTENT_READERS, "*": {Role.LEAD, Role.ENGINEER}}

    def campaign_queryset(self):
        return selectors.passage_list(campaign=self._campaign)

    def list(self, request, *args, **kwargs):
        query = query_text(request.query_params, "q")
        if not query:
            return super().list(request, *args, **kwargs)
        k = query_int(request.query_params, "k", minimum=1, maximum=RETRIEVAL_K_MAX) or DEFAULT_K
        found = selectors.passages_retrieve(campaign_id=self._campaign.id, text=query, k=k)
        return Response(PassageSerializer(found, many=True).data)

    @extend_schema(request=PassageUploadSerializer, responses={
        201: OpenApiResponse(description="created, skipped (passages already in the collection or repeated)."),
        400: OpenApiResponse(description="Nothing was written; each error names its line and field.")})
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FormParser])
    def import_file(self, request, campaign_slug=None):
        upload = upload_or_reject(PassageUploadSerializer(data=request.data))
        try:
            result = services.passages_import_upload(campaign=self._campaign, upload=upload)
        except ImportRejected as rejected:
            raise BadRequest(IMPORT_REJECTED, [e.as_dict() for e in rejected.errors]) from None
        return Response({"created": result.created, "skipped": result.skipped}, status=status.HTTP_201_CREATED)


#: Passages ``GET …/passages/?q=`` returns when ``k`` is not given.
DEFAULT_K = 5


def queued(request, batch) -> Response:
    """202 with the queued import, and where to follow it."""
    location = reverse("campaign-import-detail", kwargs={"campaign_slug": batch.campaign.slug, "pk": batch.pk},
                       request=request)
    return Response(ImportSerializer(batch).data, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


IMPORT_REJECTED = "Import rejected; nothing was written."


def upload_or_reject(serializer):
    """The uploaded file, or a 400 in the import's shape (an empty or missing file too)."""
    if not serializer.is_valid():
        raise BadRequest(IMPORT_REJECTED, [{"line": None, "field": field, "message": str(message)}
                                           for field, messages in serializer.errors.items() for message in messages])
    return serializer.validated_data["file"]
