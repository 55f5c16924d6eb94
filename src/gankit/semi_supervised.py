"""The semi-supervised GAN's test accuracy: the one place that reads a run's test split
(:mod:`gankit.methods.ssgan` trains and validates on the training split only).

    >>> from gankit.semi_supervised import test_accuracy
    >>> test_accuracy("runs/ssgan")            # doctest: +SKIP
    {'test_acc': 0.79, 'step': 3000, 'checkpoint': 'best'}

Call it once per final run, after every hyperparameter was chosen on ``val_acc``.
"""

from __future__ import annotations

from pathlib import Path

from gankit.data import load_dataset
from gankit.errors import UserError
from gankit.train.checkpoint import load_checkpoint
from gankit.train.restore import load_method


def test_accuracy(run_dir: str | Path, checkpoint: str = "best", device: str = "cpu") -> dict:
    """Accuracy of an ``ssgan`` run's classifier on its dataset's test split.

    Args:
        run_dir: the run directory.
        checkpoint: ``best``: the weights with the best ``val_acc`` (``<run>/best``, kept when ``eval.eval_every``
            is set; chosen on validation only), falling back to ``last``: the newest checkpoint.
        device: where to classify.

    Returns:
        ``test_acc``, the ``step`` of the weights used and which ``checkpoint`` they came from.
    """
    method, cfg = load_method(run_dir, device)
    if cfg.method != "ssgan":
        raise UserError(f"{run_dir}: a {cfg.method} run; test accuracy is for method ssgan")
    step, which = None, "last"
    best = Path(run_dir) / "best"
    if checkpoint == "best" and (best / "best.json").is_file():
        ckpt = load_checkpoint(best / (best / "latest").read_text().strip())  # BestKeeper: best/step_N/
        for name, module in method.modules.items():
            if any(k.startswith(name + ".") for k in ckpt.weights):
                module.load_state_dict(ckpt.module_state(name))
        step, which = ckpt.step, "best"
    else:
        step = load_checkpoint(run_dir).step
    d = cfg.data
    test = load_dataset(d.name, split="test", root=d.root, img_size=d.img_size, channels=d.channels)
    acc = float((method.classify(test.x) == test.y).float().mean())
    return {"test_acc": acc, "step": step, "checkpoint": which}
