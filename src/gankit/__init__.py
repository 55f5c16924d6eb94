"""gankit: a PyTorch toolkit for adversarial generative modelling."""

__version__ = "0.1.0"

from gankit.api import (
    cas,
    evaluate,
    interpolate,
    invert,
    load_config,
    load_generator,
    resume,
    run_config,
    sample,
    save_samples,
    train,
)  # noqa: E402
from gankit.pretrained import from_pretrained, save_pretrained

__all__ = [
    "cas",
    "evaluate",
    "from_pretrained",
    "interpolate",
    "invert",
    "load_config",
    "load_generator",
    "resume",
    "run_config",
    "sample",
    "save_pretrained",
    "save_samples",
    "train",
    "__version__",
]
