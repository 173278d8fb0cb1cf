"""Pages: a campaign's runs with "start a run" forms, and the Run page (live over a WebSocket)."""

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
from labelhub.feedback.models import Snapshot
from labelhub.training import kinds, loop, selectors, services
from labelhub.training.forms import RunStartForm
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
               "can_start": bool(roles & RUN_STARTERS), "errors": errors or {}, "posted": posted or {}}
    if context["can_start"]:
        context["start_forms"] = _start_forms(campaign, posted or {})
    return render(request, "training/run_list.html", context, status=status)


def _start_forms(campaign, posted):
    snapshots = list(campaign.snapshots.filter(state=Snapshot.State.READY).order_by("-version"))
    inputs = {
        "snapshot": snapshots,
        "policy": list(campaign.policies.exclude(base_model="").order_by("-id")),
        "reward_model": list(campaign.reward_models.order_by("-id")),
    }
    forms = []
    for kind in kinds.KINDS.values():
        config = posted.get("config") if posted.get("kind") == kind.name else None
        choices = {name: inputs[name] for name in ("snapshot", "policy", "reward_model") if name in kind.uses}
        if "snapshot" in choices:
            choices["snapshot"] = [s for s in snapshots if s.kind == kind.snapshot]
        forms.append({"kind": kind.name, "label": kind.label, "method": kind.method, "inputs": choices,
                      "prompt_split": kind.prompts, "fields": config_field_rows(kind.config_schema()),
                      "config": config or json.dumps(kind.default_config(), indent=2)})
    return forms


def config_field_rows(schema: dict) -> list[dict]:
    """The config fields of a kind for the form's table: name, type, default, what is allowed, help."""
    rows = []
    for name, prop in schema["properties"].items():
        kind = prop["type"] if isinstance(prop["type"], str) else " or ".join(prop["type"])
        if prop.get("items", {}).get("type"):
            kind += f" of {prop['items']['type']}"
        rows.append({"name": name, "type": kind, "default": json.dumps(prop.get("default")),
                     "allowed": _allowed(prop.get("items") or prop, prop.get("maxItems")), "help": prop["description"]})
    return rows


def _allowed(prop: dict, max_items: int | None) -> str:
    parts = []
    if "enum" in prop:
        parts.append(", ".join("none" if v is None else str(v) for v in prop["enum"]))
    low = next(((op, prop[key]) for key, op in (("minimum", "≥"), ("exclusiveMinimum", ">")) if key in prop), None)
    high = next(((op, prop[key]) for key, op in (("maximum", "≤"), ("exclusiveMaximum", "<")) if key in prop), None)
    parts += [f"{op} {value:,}" if isinstance(value, int) else f"{op} {value:g}" for op, value in filter(None, (low, high))]
    if "maxLength" in prop:
        parts.append(f"at most {prop['maxLength']:,} characters")
    if max_items is not None:
        parts.append(f"at most {max_items} items")
    return "; ".join(parts)


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
        "summary_rows": selectors.summary_rows(summary=run.summary) if isinstance(run.summary, dict) else [],
        "artifacts": artifacts, "artifact_folders": sorted({a["path"].split("/")[0] for a in artifacts if "/" in a["path"]}),
        "run_download_url": reverse("campaign-run-download", args=[run.campaign.slug, run.pk]),
        "completions": selectors.generated_completions(run=run),
    }


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
