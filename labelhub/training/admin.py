from django.contrib import admin

from labelhub.training.models import RewardModel, Run


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["id", "campaign", "kind", "state", "created_by", "created_at", "finished_at"]
    list_filter = ["kind", "state"]
    list_select_related = ["campaign", "created_by"]
    readonly_fields = ["job_id", "run_dir", "exit_code", "error_tail", "summary", "heartbeat_at"]


@admin.register(RewardModel)
class RewardModelAdmin(admin.ModelAdmin):
    list_display = ["name", "campaign", "base_model", "held_out_accuracy", "created_at"]
    list_select_related = ["campaign"]
