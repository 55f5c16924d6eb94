"""Export a run's generator, so that it samples without gankit: TorchScript (``torch.jit.load``) or ONNX
(any ONNX runtime).

The exported graph is the run's own sampler, ``method.sample``: the EMA copy of G when the run kept one, in eval
mode (batch norm with its running statistics), so it maps the same latents to the same samples as
:func:`gankit.sample`. Its inputs are ``z`` (N x z_dim, float32) and, for a class-conditional run, ``y`` (N class
indices, int64); its output ``x`` (N x C x H x W in [-1, 1], or N x D toy points). The batch size is free.

    gankit export --run runs/demo --format onnx --out generator.onnx

    import onnxruntime as ort
    x = ort.InferenceSession("generator.onnx").run(None, {"z": z.numpy()})[0]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from gankit.errors import UserError
from gankit.train.restore import load_generator

FORMATS = ("torchscript", "onnx")
Format = Literal["torchscript", "onnx"]


class Sampler(nn.Module):
    """A trained generator's ``sample`` as one module: ``z`` (and ``y`` for a class-conditional run) -> ``x``."""

    def __init__(self, method: Any):
        super().__init__()
        self.method = method  # not registered: its networks enter the traced graph as constants
        self.conditional = bool(getattr(method, "classes", None))
        self.z_dim = int(method.z_dim)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.method.sample(z, y)

    def example_inputs(self, n: int = 2) -> tuple[torch.Tensor, ...]:
        z = torch.randn(n, self.z_dim, generator=torch.Generator().manual_seed(0))
        return (z, torch.arange(n) % len(self.method.classes)) if self.conditional else (z,)


def sampler(run_dir: str | Path) -> Sampler:
    """The generator of the run in ``run_dir`` as a :class:`Sampler` on the CPU, frozen (no gradients)."""
    method, _ = load_generator(run_dir, "cpu")
    for module in method.modules.values():
        module.eval().requires_grad_(False)
    return Sampler(method).eval()


def export_generator(run_dir: str | Path, out: str | Path, format: Format = "torchscript") -> Path:
    """Write the generator of ``run_dir`` to ``out`` as TorchScript (``torch.jit.load(out)``) or ONNX (opset 18).

    Args:
        run_dir: a run directory of a method that generates (gan, cgan, vae, ssgan, ...).
        out: the file to write (its folder is created).
        format: ``torchscript`` or ``onnx`` (needs the ``onnx`` package: ``pip install 'gankit[export]'``).

    Returns:
        ``out`` as a Path.
    """
    if format not in FORMATS:
        raise UserError(f"--format {format}: unknown format (known: {', '.join(FORMATS)})")
    model = sampler(run_dir)
    args = model.example_inputs()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        if format == "torchscript":
            torch.jit.trace(model, args, check_trace=False).save(str(out))
        else:
            _onnx(model, args, out)
    return out


def _onnx(model: Sampler, args: tuple[torch.Tensor, ...], out: Path) -> None:
    try:
        import onnx  # noqa: F401  (the exporter needs it)
    except ImportError:
        raise UserError("--format onnx: the onnx package is not installed (pip install 'gankit[export]')") from None
    names = ["z", "y"][: len(args)]
    torch.onnx.export(
        model,
        args,
        str(out),
        input_names=names,
        output_names=["x"],
        dynamic_axes={name: {0: "batch"} for name in [*names, "x"]},  # any batch size
        opset_version=18,
        dynamo=False,  # the TorchScript-based exporter: no extra packages, a plain feed-forward graph
    )
