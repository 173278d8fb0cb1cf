"""Run several trainer command lines one after another in one process:
``python -m tests.trainer.launch_methods ARGV_FILE`` (a JSON list of argument lists, each as
given to ``python -m trainer``). Each goes through ``trainer.cli.main``, the code that
``python -m trainer`` runs, so under ``accelerate launch`` every rank runs every method as
``accelerate launch -m trainer <method> …`` would, importing torch, transformers and TRL once
instead of once per method (about 5 s a process on the 2-core build machine).

Exits with the first non-zero exit code, after running them all.
"""

import json
import sys
from pathlib import Path


def main(path: str) -> int:
    from trainer.cli import main as trainer_main

    codes = [trainer_main(list(argv)) for argv in json.loads(Path(path).read_text("utf-8"))]
    return next((code for code in codes if code), 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
