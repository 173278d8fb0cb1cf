"""Every environment variable the settings read is in the README's configuration table, and no
module reads a setting with a fallback of its own (each setting has its value in settings.py)."""

import re

from django.conf import settings

READS = re.compile(r"""(?:os\.environ\.get|env_bool|env_list)\(\s*["']([A-Z0-9_]+)["']""")


def configuration_table() -> str:
    readme = (settings.BASE_DIR / "README.md").read_text(encoding="utf-8")
    return readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]


def test_it_lists_every_variable_the_settings_read_in_the_readme():
    config = settings.BASE_DIR / "labelhub" / "config"
    read = set(READS.findall((config / "settings.py").read_text(encoding="utf-8")))
    read |= set(READS.findall((config / "embedded_db.py").read_text(encoding="utf-8")))  # LABELHUB_VAR_DIR
    assert {"LABELHUB_TRAINER_COMMAND", "LABELHUB_MODELS_DIR", "SECURE_HSTS_PRELOAD", "LABELHUB_VAR_DIR"} <= read
    table = configuration_table()
    assert sorted(name for name in read if f"`{name}`" not in table) == []


def test_it_reads_no_setting_with_a_fallback_outside_settings():
    offenders = [
        f"{path.relative_to(settings.BASE_DIR)}:{number}"
        for root in ("labelhub", "trainer")
        for path in (settings.BASE_DIR / root).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "getattr(settings," in line
    ]
    assert offenders == []
