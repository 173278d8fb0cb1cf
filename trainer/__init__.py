"""LabelHub's trainer: turns human judgments into models. Never imports Django or labelhub.

Entry point: ``python -m trainer <method> --config file.yaml --out RUN_DIR [--field value ...]``.
"""

import os

# Telemetry off before huggingface_hub reads its constants (it does so once, at import).
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
