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

__all__ = [
    "cas",
    "evaluate",
    "interpolate",
    "invert",
    "load_config",
    "load_generator",
    "resume",
    "run_config",
    "sample",
    "save_samples",
    "train",
    "__version__",
]
