"""REST API of the labeling loop: next task, submit, skip; tasks and judgments for leads."""

from django.db import transaction
from django.utils.functional import cached_property
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action, api_view
from rest_framework.exceptions import NotFound as HttpNotFound
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from labelhub.campaigns import selectors as campaign_selectors
from labelhub.campaigns import services as campaign_services
from labelhub.campaigns.api import IMPORT_REJECTED, CampaignChildViewSet, upload_or_reject
from labelhub.campaigns.imports import ImportRejected
from labelhub.campaigns.models import Role
from labelhub.campaigns.permissions import ANY_MEMBER
from labelhub.campaigns.selectors import CONTENT_READERS
from labelhub.campaigns.serializers import (
    ImportUploadSerializer,
    InviteAnswerSerializer,
    InviteSerializer,
    MemberRoleSerializer,
    MembershipSerializer,
    invite_answer,
)
from labelhub.core.errors import BadRequest, Conflict, error_body
from labelhub.core.inputs import FormParser, MultiPartParser, query_int, query_text, whole_number
from labelhub.labeling import selectors, services
from labelhub.labeling.gold import GoldInvalid
from labelhub.labeling.selectors import ACCURACY_READERS
from labelhub.labeling.serializers import (
    AssignmentSerializer,
    GoldImportedSerializer,
    JudgmentInputSerializer,
    JudgmentSerializer,
    LeaseSerializer,
    ReinstateSerializer,
    SkipReadSerializer,
    SkipSerializer,
    TaskGenerateSerializer,
    TaskSerializer,
    TasksMadeSerializer,
    assignment_payload,
    lease_payload,
    pause_event_payload,
)
from labelhub.labeling.validation import JudgmentInvalid


def _invalid(exc: JudgmentInvalid) -> BadRequest:
    return BadRequest("Invalid judgment.", exc.errors)


class NextTaskView(APIView):
    """Lease the next task (or get the live lease you hold). 204 when nothing is left."""

    @extend_schema(
        request=None,
        parameters=[
            OpenApiParameter("campaign", str, description="Only this campaign (slug)."),
            OpenApiParameter("after", int, description="The task on screen: return a different one (prefetch)."),
        ],
        responses={200: LeaseSerializer, 204: OpenApiResponse(description="Nothing left for you.")},
    )
    def post(self, request):
        slug = query_text(request.query_params, "campaign", max_length=80)
        holding = query_int(request.query_params, "after", minimum=1)
        assignment = services.next_task(labeler=request.user, campaign=slug or None, holding=holding)
        if assignment is None:
            campaign = None
            if slug:  # a campaign you may not see is a 404, not "nothing left"
                campaign = campaign_selectors.campaign_get(user=request.user, slug=slug)
            if stop := selectors.queue_standing(user=request.user, campaign=campaign):
                # paused, or not (yet) qualified: the queue says why it stops (docs/quality.md)
                return Response(error_body(stop["detail"], stop["code"], campaign=stop["campaign"]),
                                status=status.HTTP_403_FORBIDDEN)
            return Response(status=status.HTTP_204_NO_CONTENT)
        payload = lease_payload(selectors.lease_for_display(assignment=assignment))
        payload["qualification"] = (selectors.qualification_progress(user=request.user, task_id=assignment.task_id)
                                    if assignment.in_qualification else None)
        return Response(payload)


@extend_schema(responses={200: AssignmentSerializer})
@api_view(["GET"])
def assignment(request, assignment_id: int):
    """One of your leases as the labeling page shows it, with your judgment on it that counts
    (``judgment``, the latest correction; null when not judged) and whether it can still be
    changed (``correctable``: judged and the lease still lasts; send the change to submit/ with
    ``corrects``). The page's "undo the last submit" reopens a task this way."""
    found = selectors.assignment_with_judgment(user=request.user, assignment_id=assignment_id)
    if found is None:
        raise HttpNotFound("No such assignment for you.")
    lease, judgment = found
    return Response(assignment_payload(lease, judgment, selectors.lease_for_display(assignment=lease)))


@extend_schema(request=JudgmentInputSerializer, responses={201: JudgmentSerializer, 200: JudgmentSerializer})
@api_view(["POST"])
def submit(request, assignment_id: int):
    """Submit a judgment for your lease. Retrying with the same idempotency key returns the first one."""
    serializer = JudgmentInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        judgment, created = services.judgment_submit(
            labeler=request.user, assignment_id=assignment_id, data=serializer.validated_data
        )
    except JudgmentInvalid as exc:
        raise _invalid(exc) from None
    except services.NotFound as exc:
        raise HttpNotFound(str(exc)) from None
    except services.NotALabeler as exc:
        raise PermissionDenied(str(exc)) from None
    except services.LabelingConflict as exc:
        raise Conflict(str(exc)) from None
    # ``qualification``: the result when this answer ended a qualification attempt (else null);
    # ``stopped``: why the queue stops, when this answer paused the labeler (else null)
    stopped = None
    if getattr(judgment, "paused", None) is not None:
        stopped = selectors.queue_standing(user=request.user, campaign=judgment.campaign)
    body = {**JudgmentSerializer(judgment).data, "qualification": getattr(judgment, "qualification", None),
            "stopped": stopped}
    return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@extend_schema(request=SkipSerializer, responses={200: None})
@api_view(["POST"])
def skip(request, assignment_id: int):
    """Give a task back with a reason; you will not be offered it again."""
    params = SkipSerializer(data=request.data)
    params.is_valid(raise_exception=True)
    try:
        services.assignment_skip(labeler=request.user, assignment_id=assignment_id, reason=params.validated_data["reason"])
    except JudgmentInvalid as exc:
        raise _invalid(exc) from None
    except services.NotFound as exc:
        raise HttpNotFound(str(exc)) from None
    except services.NotALabeler as exc:
        raise PermissionDenied(str(exc)) from None
    except services.LabelingConflict as exc:
        raise Conflict(str(exc)) from None
    return Response({"skipped": assignment_id})


@extend_schema(responses={200: None})
@api_view(["GET"])
def home(request):
    """Your campaigns as a labeler: tasks left for you, your judgments today and overall."""
    return Response([
        {"slug": row["campaign"].slug, "name": row["campaign"].name, "status": row["campaign"].status,
         "tasks_left": row["tasks_left"], "judged_today": row["judged_today"], "judged_total": row["judged_total"]}
        for row in selectors.labeler_home(user=request.user)
    ])


GOLD_REJECTED = "Gold answer rejected; nothing was changed."


class TaskViewSet(CampaignChildViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin):
    """A campaign's tasks. Leads generate them, set priority and gold answers."""

    serializer_class = TaskSerializer
    role_rules = {"list": CONTENT_READERS, "retrieve": CONTENT_READERS, "progress": ANY_MEMBER, "*": {Role.LEAD}}

    def campaign_queryset(self):
        return selectors.task_list(campaign=self._campaign)

    @transaction.atomic  # a refused gold answer leaves the priority unchanged too
    def perform_update(self, serializer):
        """Priority as given; a gold answer is checked as a labeler's answer would be. ``is_gold:
        false`` (or ``gold_answer: null``) makes the task ordinary again."""
        data, task = serializer.validated_data, serializer.instance
        if "priority" in data:
            services.task_update(task=task, priority=data["priority"])
        if not {"gold_answer", "is_gold", "is_qualification"} & set(data):
            return
        answer = data.get("gold_answer", task.gold_answer)
        if data.get("is_gold") is False:
            answer = None
        elif answer is None and (data.get("is_gold") or data.get("is_qualification")):
            raise BadRequest(GOLD_REJECTED, {"gold_answer": "required: a gold task needs its expected answer"})
        try:
            services.task_gold_set(task=task, answer=answer, qualification=data.get("is_qualification"))
        except GoldInvalid as invalid:
            raise BadRequest(GOLD_REJECTED, invalid.errors) from None

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={200: GoldImportedSerializer,
                   400: OpenApiResponse(description="Nothing was written; each error names its line and field.")},
    )
    @action(detail=False, methods=["post"], url_path="gold", parser_classes=[MultiPartParser, FormParser])
    def gold(self, request, campaign_slug=None):
        """Leads: set gold answers from a JSONL file, one ``{"task": id, "gold_answer": {…} | null}``
        a line. All or nothing: one bad line refuses the file, with every bad line named."""
        upload = upload_or_reject(ImportUploadSerializer(data=request.data))
        try:
            updated = services.gold_import(campaign=self._campaign, upload=upload)
        except ImportRejected as rejected:
            raise BadRequest(IMPORT_REJECTED, [e.as_dict() for e in rejected.errors]) from None
        return Response({"updated": updated})

    @extend_schema(request=TaskGenerateSerializer, responses={201: TasksMadeSerializer})
    @action(detail=False, methods=["post"])
    def generate(self, request, campaign_slug=None):
        """Make tasks from the campaign's completions (K per prompt, or pairs)."""
        params = TaskGenerateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        made = services.tasks_create(
            campaign=self._campaign, policy_ids=data.get("policies"), split=data.get("split"),
            priority=data["priority"], seed=data["seed"],
        )
        return Response({"created": made.made, **made.as_dict(), "message": made.message()}, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: None})
    @action(detail=False, methods=["get"])
    def progress(self, request, campaign_slug=None):
        """Tasks done / total and judgments."""
        return Response(selectors.campaign_progress(campaign_id=self._campaign.pk))


class SkipViewSet(CampaignChildViewSet, mixins.ListModelMixin):
    """Tasks labelers skipped and why, newest first: leads, reviewers and engineers (labelers
    see their own skips on no list — a skip is the labeler telling the lead)."""

    serializer_class = SkipReadSerializer
    role_rules = {"*": CONTENT_READERS}

    def campaign_queryset(self):
        return selectors.skip_list(campaign=self._campaign)


class JudgmentViewSet(CampaignChildViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Judgments of a campaign. Labelers see only their own."""

    serializer_class = JudgmentSerializer
    role_rules = {"*": ANY_MEMBER}

    @cached_property
    def _roles(self):
        return self.get_roles()

    def campaign_queryset(self):
        return selectors.judgment_list(campaign=self._campaign, user=self.request.user, roles=self._roles)


class MemberViewSet(
    CampaignChildViewSet, mixins.ListModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin
):
    """Members of a campaign, one row per role, with their judgments and last activity.

    Leads invite (POST: the person joins when they accept), change a role (PATCH) and remove a
    role (DELETE); reviewers and engineers may read the list. A member left without the
    labeler role loses their live leases at once.
    """

    serializer_class = MembershipSerializer
    role_rules = {"list": {Role.LEAD, Role.REVIEWER, Role.ENGINEER}, "*": {Role.LEAD}}
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def campaign_queryset(self):
        return campaign_selectors.member_list(campaign=self._campaign)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action == "list":
            context["activity"] = selectors.member_activity(campaign=self._campaign)
        return context

    @extend_schema(
        request=InviteSerializer,
        responses={202: OpenApiResponse(InviteAnswerSerializer, description=(
            "The invitation is recorded; the same answer whether or not an account has that name."))},
    )
    def create(self, request, campaign_slug=None):
        """Invite someone by `username` or `email` to take `role`; they join when they accept."""
        params = InviteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        campaign_services.invitation_create(campaign=self._campaign, invited_by=request.user, **params.validated_data)
        return Response(invite_answer(**params.validated_data), status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=MemberRoleSerializer, responses={200: MembershipSerializer})
    def partial_update(self, request, campaign_slug=None, pk=None):
        """Give this member another role in place of this one (`role`)."""
        params = MemberRoleSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            holder = services.member_role_change(membership=self.get_object(), role=params.validated_data["role"])
        except campaign_services.LastLead as exc:
            raise Conflict(str(exc)) from None
        return Response(self.get_serializer(holder).data)

    def perform_destroy(self, instance):
        try:
            services.member_remove(membership=instance)
        except campaign_services.LastLead as exc:
            raise Conflict(str(exc)) from None


class LabelerQualityViewSet(CampaignChildViewSet):
    """Each labeler's gold accuracy (with its Wilson interval), pauses and qualification:
    leads and reviewers read them; only leads reinstate a paused labeler."""

    role_rules = {"list": ACCURACY_READERS, "pauses": ACCURACY_READERS, "reinstate": {Role.LEAD}}
    lookup_value_regex = "[0-9]+"

    @extend_schema(responses={200: None})
    def list(self, request, campaign_slug=None):
        """Per labeler: gold answers, right, accuracy and its 95% Wilson interval (``low``,
        ``high``), the same since their last reinstatement, paused or not, qualification attempts."""
        campaign = self._campaign
        return Response({
            "settings": {"gold_rate": campaign.gold_rate, "gold_min_answers": campaign.gold_min_answers,
                         "gold_accuracy_threshold": campaign.gold_accuracy_threshold,
                         "qualification_size": campaign.qualification_size,
                         "qualification_threshold": campaign.qualification_threshold,
                         "qualification_max_attempts": campaign.qualification_max_attempts},
            "labelers": selectors.gold_accuracy(campaign=campaign),
        })

    @extend_schema(responses={200: None})
    @action(detail=False, methods=["get"])
    def pauses(self, request, campaign_slug=None):
        """Every pause and reinstatement, newest first: who, when, why, by whom (null: automatic)."""
        return Response([pause_event_payload(e) for e in selectors.pause_history(campaign=self._campaign)[:500]])

    @extend_schema(request=ReinstateSerializer, responses={201: None}, parameters=[
        OpenApiParameter("id", int, OpenApiParameter.PATH, description="The labeler's user id.")])
    @action(detail=True, methods=["post"])
    def reinstate(self, request, campaign_slug=None, pk=None):
        """Let a paused labeler label again (``pk``: their user id); 409 when they are not paused."""
        params = ReinstateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        labeler = selectors.labeler_get(campaign=self._campaign, user_id=whole_number(pk, minimum=1))
        try:
            event = services.labeler_reinstate(campaign=self._campaign, labeler=labeler, by=request.user,
                                               note=params.validated_data.get("note", ""))
        except services.NotPaused as exc:
            raise Conflict(str(exc)) from None
        return Response(pause_event_payload(event), status=status.HTTP_201_CREATED)
