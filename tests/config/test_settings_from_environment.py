"""Settings come from the environment in one module, and the trainer subprocess gets the
platform's models folder, so LABELHUB_VAR_DIR moves the tiny-model cache with everything else."""

import json
import subprocess
import sys

from django.conf import settings as django_settings

from labelhub.training import runner

READ_SETTINGS = """
import json
from labelhub.config import settings as s
print(json.dumps({name: str(getattr(s, name)) if "DIR" in name else getattr(s, name) for name in (
    "LABELHUB_DATA_DIR", "LABELHUB_MODELS_DIR", "LABELHUB_TRAINER_COMMAND", "LABELHUB_TRAINER_THREADS",
    "LABELHUB_RUN_CANCEL_GRACE_SECONDS", "LABELHUB_RUN_LOST_AFTER_SECONDS", "LABELHUB_RUN_WATCH_SECONDS")}))
"""
MODELS_DIR_OF_THE_TRAINER = "from trainer.tiny import models_dir; print(models_dir())"


def run_python(code, env, cwd):
    child = subprocess.run([sys.executable, "-c", code], env={"PATH": "/usr/bin:/bin", "DEBUG": "1", **env},
                           cwd=cwd, capture_output=True, text=True, timeout=60)
    assert child.returncode == 0, child.stderr
    return child.stdout.strip().splitlines()[-1]


def test_it_reads_every_training_setting_from_the_environment(tmp_path):
    env = {
        "LABELHUB_VAR_DIR": str(tmp_path / "var"),
        "LABELHUB_TRAINER_COMMAND": "accelerate launch --num_processes 2 -m trainer",
        "LABELHUB_TRAINER_THREADS": "3",
        "LABELHUB_RUN_CANCEL_GRACE_SECONDS": "5",
        "LABELHUB_RUN_LOST_AFTER_SECONDS": "20",
        "LABELHUB_RUN_WATCH_SECONDS": "4",
    }
    values = json.loads(run_python(READ_SETTINGS, env, django_settings.BASE_DIR))
    assert values == {
        "LABELHUB_DATA_DIR": str(tmp_path / "var" / "data"),
        "LABELHUB_MODELS_DIR": str(tmp_path / "var" / "models"),
        "LABELHUB_TRAINER_COMMAND": ["accelerate", "launch", "--num_processes", "2", "-m", "trainer"],
        "LABELHUB_TRAINER_THREADS": 3,
        "LABELHUB_RUN_CANCEL_GRACE_SECONDS": 5.0,
        "LABELHUB_RUN_LOST_AFTER_SECONDS": 20.0,
        "LABELHUB_RUN_WATCH_SECONDS": 4.0,
    }


def test_it_starts_the_trainer_with_this_python_by_default(tmp_path):
    values = json.loads(run_python(READ_SETTINGS, {"LABELHUB_VAR_DIR": str(tmp_path)}, django_settings.BASE_DIR))
    assert values["LABELHUB_TRAINER_COMMAND"] == [sys.executable, "-m", "trainer"]
    assert values["LABELHUB_MODELS_DIR"] == str(tmp_path / "models")


def test_it_gives_the_trainer_the_platforms_models_folder(settings, tmp_path):
    settings.LABELHUB_MODELS_DIR = tmp_path / "models"
    env = runner.trainer_env()
    assert env["LABELHUB_MODELS_DIR"] == str(tmp_path / "models")
    assert run_python(MODELS_DIR_OF_THE_TRAINER, env, django_settings.BASE_DIR) == str(tmp_path / "models")


def test_it_moves_the_trainers_models_folder_with_the_var_dir(tmp_path):
    """`python -m trainer` run by hand, with no LABELHUB_MODELS_DIR: the same folder as the platform's."""
    env = {"LABELHUB_VAR_DIR": str(tmp_path / "var")}
    platform = json.loads(run_python(READ_SETTINGS, env, django_settings.BASE_DIR))["LABELHUB_MODELS_DIR"]
    assert run_python(MODELS_DIR_OF_THE_TRAINER, env, django_settings.BASE_DIR) == platform == str(tmp_path / "var" / "models")
