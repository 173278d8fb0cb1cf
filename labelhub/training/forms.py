from django import forms

from labelhub.training.kinds import KINDS


class RunStartForm(forms.Form):
    """The "start a run" form of the runs page; inputs are limited to the campaign's rows. The
    kinds and their config checks come from ``kinds`` (``services.run_create`` applies them)."""

    kind = forms.ChoiceField(choices=[(kind.name, kind.label) for kind in KINDS.values()])
    snapshot = forms.ModelChoiceField(queryset=None, required=False)
    policy = forms.ModelChoiceField(queryset=None, required=False)
    reward_model = forms.ModelChoiceField(queryset=None, required=False)
    prompt_split = forms.ChoiceField(choices=[("", "default"), ("train", "train"), ("held_out", "held-out")], required=False)
    config = forms.JSONField(required=False, help_text="Trainer config fields (JSON object).")

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["snapshot"].queryset = campaign.snapshots.all()
        self.fields["policy"].queryset = campaign.policies.all()
        self.fields["reward_model"].queryset = campaign.reward_models.all()

    def clean_config(self):
        return self.cleaned_data["config"] or {}
