"""Training: the loop, the run directory and checkpoints. Nothing here knows a particular method."""

from gankit.train.checkpoint import Checkpoint, find_checkpoint, load_checkpoint, save_checkpoint
from gankit.train.loop import TrainResult, train_run
from gankit.train.rundir import MetricsLog, RunDir

__all__ = [
    "Checkpoint",
    "MetricsLog",
    "RunDir",
    "TrainResult",
    "find_checkpoint",
    "load_checkpoint",
    "save_checkpoint",
    "train_run",
]
