from django.contrib import admin

from labelhub.campaigns.models import Campaign, Completion, ImportBatch, Membership, Policy, Prompt


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "task_kind", "completions_per_task", "overlap", "status", "created_at"]
    list_filter = ["status", "task_kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ["id", "campaign", "split", "__str__", "created_at"]
    list_filter = ["split", "campaign"]
    search_fields = ["text", "content_hash"]
    list_select_related = ["campaign"]
    readonly_fields = ["content_hash"]


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "campaign", "base_model", "adapter_path", "parent", "created_at"]
    list_filter = ["campaign"]
    list_select_related = ["campaign", "parent"]
    search_fields = ["name", "base_model"]


@admin.register(Completion)
class CompletionAdmin(admin.ModelAdmin):
    list_display = ["id", "prompt", "policy", "token_count", "created_at"]
    list_filter = ["policy__campaign"]
    list_select_related = ["prompt", "policy"]
    raw_id_fields = ["prompt", "policy"]
    search_fields = ["text"]


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["filename", "campaign", "kind", "state", "uploaded_by", "prompts_created", "prompts_skipped",
                    "completions_created", "completions_skipped", "judgments_created", "created_at"]
    list_filter = ["kind", "state"]
    list_select_related = ["campaign", "uploaded_by"]
