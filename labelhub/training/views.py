"""Pages: a campaign's runs with "start a run" forms (``forms.py``), and the Run page (live over a WebSocket)."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from labelhub.campaigns import selectors as campaign_selectors
from labelhub.core.inputs import whole_number
from labelhub.core.pages import render_part, requested_part
from labelhub.training import kinds, loop, planning, selectors, services
from labelhub.training.forms import PREFIX, RunStartForm, plan_inputs, start_forms
from labelhub.training.selectors import RUN_READERS, RUN_STARTERS


def _campaign_and_roles(request, slug, allowed):
    return campaign_selectors.campaign_with_role(user=request.user, slug=slug, allowed=allowed)


LIST_PARTS = {"runs": "training/_run_table.html"}
DETAIL_PARTS = {"results": "training/_run_results.html"}


@login_required
def run_list(request, slug):
    campaign, roles = _campaign_and_roles(request, slug, RUN_READERS)
    if part := requested_part(request, LIST_PARTS):
        return render_part(request, part, {"campaign": campaign, "runs": selectors.run_list(campaign=campaign)[:100]})
    return _render_list(request, campaign, roles)


def _render_list(request, campaign, roles, errors=None, posted=None, status=200):
    context = {"campaign": campaign, "runs": selectors.run_list(campaign=campaign)[:100],
               "reward_models": selectors.reward_model_list(campaign=campaign),
               "can_start": bool(roles & RUN_STARTERS)}
    if context["can_start"]:
        open_kind = request.GET.get("kind", "") if posted is None else ""
        context["start_forms"] = start_forms(campaign, posted=posted, errors=errors, open_kind=open_kind)
        if errors and posted.get("kind") not in kinds.KINDS:  # no form of that kind to show them in
            context["errors"] = errors
    return render(request, "training/run_list.html", context, status=status)


@login_required
@require_POST
def run_start(request, slug):
    campaign, roles = _campaign_and_roles(request, slug, RUN_STARTERS)
    form = RunStartForm(request.POST, campaign=campaign)
    if not form.is_valid():
        errors = {field: " ".join(messages_) for field, messages_ in form.errors.items()}
        return _render_list(request, campaign, roles, errors, request.POST, status=400)
    try:
        run = services.run_create(campaign=campaign, user=request.user, **form.cleaned_data)
    except services.RunInvalid as exc:
        return _render_list(request, campaign, roles, exc.errors, request.POST, status=400)
    messages.success(request, f"Run {run.pk} ({run.kind}) is queued.")
    return redirect("training:detail", slug=campaign.slug, pk=run.pk)


@login_required
def run_detail(request, slug, pk):
    """The Run page; ``?part=results`` is what it shows once the run has ended (follow.js
    asks for it when the run's WebSocket says so, and while a loop round is generating)."""
    campaign, roles = _campaign_and_roles(request, slug, RUN_READERS)
    run = selectors.run_get(campaign=campaign, pk=pk)
    context = _results_context(run, roles) | {"campaign": campaign}
    if part := requested_part(request, DETAIL_PARTS):
        return render_part(request, part, context)
    return render(request, "training/run_detail.html", context | {
        "can_cancel": bool(roles & RUN_STARTERS) and not run.is_final and not run.cancel_requested,
        "resume": _resume_offer(run, roles),
        "config_json": json.dumps(run.config, indent=2, ensure_ascii=False),
        "lineage": selectors.lineage(run=run), "compare_with": selectors.comparable_runs(run=run),
        "shows_curves": run.draws_curves and (not run.is_final or selectors.has_metrics(run=run)),
    })


def _resume_offer(run, roles) -> dict | None:
    """For a cancelled or failed run of a kind that saves checkpoints, shown to those who may
    start runs: whether it can be resumed now, and if not, why (the button stays off)."""
    if not roles & RUN_STARTERS or not run.is_final or run.state == run.State.SUCCEEDED or not services.resumable(run.kind):
        return None
    return {"refusal": services.resume_refusal(run)}


def _results_context(run, roles) -> dict:
    loop_rounds = selectors.loop_rounds_of(run=run)
    sent = any(r.state != r.State.FAILED for r in loop_rounds)
    artifacts = selectors.artifact_list(run=run)
    return {
        "run": run, "guards": run.guards, "loop_rounds": loop_rounds,
        "can_send": bool(roles & RUN_STARTERS) and run.produced_policy_id is not None and not sent,
        "summary_rows": selectors.summary_rows(summary=_summary_shown(run)) if isinstance(run.summary, dict) else [],
        "artifacts": artifacts, "artifact_folders": sorted({a["path"].split("/")[0] for a in artifacts if "/" in a["path"]}),
        "run_download_url": reverse("campaign-run-download", args=[run.campaign.slug, run.pk]),
        "completions": selectors.generated_completions(run=run),
        "lab": selectors.prompt_lab_results(run=run), "can_adopt": bool(roles & RUN_STARTERS),
    }


def _summary_shown(run) -> dict:
    """The summary as its table shows it: a prompt lab's variants have a table of their own."""
    if run.kind == run.Kind.PROMPT_LAB:
        return {k: v for k, v in run.summary.items() if k != "variants"}
    return run.summary


@login_required
@require_POST
def run_cancel(request, slug, pk):
    campaign, _ = _campaign_and_roles(request, slug, RUN_STARTERS)
    run = selectors.run_get(campaign=campaign, pk=pk)
    try:
        services.run_cancel(run=run)
    except services.RunFinished as exc:
        messages.info(request, str(exc))
    else:
        messages.success(request, f"Run {run.pk}: cancel requested.")
    return redirect("training:detail", slug=campaign.slug, pk=run.pk)


@login_required
@require_POST
def run_resume(request, slug, pk):
    campaign, _ = _campaign_and_roles(request, slug, RUN_STARTERS)
    run = selectors.run_get(campaign=campaign, pk=pk)
    try:
        resumed = services.run_resume(run=run, user=request.user)
    except services.RunNotResumable as exc:
        messages.error(request, f"Not resumed: {exc}.")
    except services.RunInvalid as exc:
        messages.error(request, "Not resumed: " + "; ".join(f"{k}: {v}" for k, v in exc.errors.items()) + ".")
    else:
        messages.success(request, f"Run {resumed.pk} continues run {run.pk} from its newest checkpoint.")
        return redirect("training:detail", slug=campaign.slug, pk=resumed.pk)
    return redirect("training:detail", slug=campaign.slug, pk=run.pk)


@login_required
@require_POST
def adopt_variant(request, slug, pk):
    """A prompt lab variant becomes a policy (then "send to labeling" like any other version)."""
    campaign, _ = _campaign_and_roles(request, slug, RUN_STARTERS)
    run = selectors.run_get(campaign=campaign, pk=pk)
    try:
        policy = services.policy_from_variant(run=run, variant=request.POST.get("variant", ""),
                                              name=request.POST.get("name", ""))
    except services.RunInvalid as exc:
        messages.error(request, "No policy made: " + "; ".join(f"{k}: {v}" for k, v in exc.errors.items()) + ".")
    else:
        messages.success(request, f"Policy {policy.name} made from variant {request.POST.get('variant')}: "
                                  "send it to labeling to compare it with the policy it came from.")
    return redirect("training:detail", slug=campaign.slug, pk=run.pk)


@require_POST
@login_required
def send_to_labeling(request, slug):
    """One click: the policy's completions on the held-out prompts go to the labelers."""
    campaign, _ = _campaign_and_roles(request, slug, RUN_STARTERS)
    policy = campaign.policies.filter(pk=whole_number(request.POST.get("policy"))).first()
    if policy is None:
        messages.error(request, "No such policy.")
    else:
        try:
            loop_round = loop.send_to_labeling(policy=policy, user=request.user)
        except (loop.LoopInvalid, services.RunInvalid) as exc:
            messages.error(request, str(exc))
        else:
            waiting = loop_round.generation_runs.count()
            messages.success(request, f"{policy.name} is going to labeling" + (
                f" once {waiting} generation run{'s' if waiting != 1 else ''} finish." if waiting else "."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = f"/campaigns/{campaign.slug}/runs/"
    return redirect(target)


@login_required
def planner(request):
    """The compute planner page: a GET form of ``trainer plan``'s fields and, once asked, its
    figures (or the errors under their fields). Arithmetic only; any signed-in user."""
    asked = {name: request.GET.getlist(PREFIX + name)[-1].strip() for name in planning.FIELDS
             if request.GET.getlist(PREFIX + name)}
    values = {name: text for name, text in asked.items() if text != ""}
    result, errors = None, {}
    if values:
        try:
            result = planning.estimate(values)
        except planning.ConfigError as exc:
            errors = {field or "model": message for field, message in reversed(exc.problems)}
    return render(request, "training/plan.html", {
        "groups": plan_inputs(kinds.method_schema("plan"), values=asked, errors=errors), "errors": errors,
        "result": result, "rows": planning.result_rows(result) if result else [],
    }, status=400 if errors else 200)
