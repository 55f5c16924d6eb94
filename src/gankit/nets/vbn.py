"""Virtual batch normalisation (Salimans et al. 2016, "Improved Techniques for Training GANs", Sec. 3.4).

Batch norm makes D's output for an example depend on the other examples of its minibatch: shown all-real
and all-fake batches (as gankit's ``d_step`` does), D can tell them apart by their statistics alone. In
virtual batch norm each example x is normalised with the statistics of a *reference batch*, fixed once at
the start of training, combined with x itself:

    mean(x) = n/(n+1) mean_ref + 1/(n+1) mean_x                              # n: reference examples
    var(x)  = n/(n+1) (var_ref + (mean_ref - mean)^2) + 1/(n+1) (var_x + (mean_x - mean)^2)
    VBN(x)  = weight * (x - mean(x)) / sqrt(var(x) + eps) + bias

per channel, where mean_x / var_x are over x's own spatial positions (a single value and 0 for 1-D features),
and mean_ref / var_ref over the reference batch's examples and positions (the pooled statistics of the
reference batch and x). The reference batch is itself normalised with its own statistics, layer by layer,
so its statistics follow D's current weights: they are recomputed at every forward pass of D (which costs
one extra forward of the reference batch), as in the paper. D's output for x depends on x and the reference
batch only, never on the rest of x's batch, and is the same in training and eval mode.

Use: ``convert_batchnorm(D)`` swaps every BatchNorm layer of D for a :class:`VirtualBatchNorm` that keeps
the BatchNorm's weight and bias Parameter objects (an optimizer already built over D keeps training them;
the running statistics are dropped). ``ReferenceBatch(D, x_ref)`` then runs ``x_ref`` through D before each
of D's forward passes (a forward pre-hook: D stays the same plain ``nn.Module``, whoever holds it, a DDP
wrapper or an optimizer, is unaffected). Calls of D's sub-modules outside D's own forward (feature matching's
``d_features``) use the statistics of D's last forward.
"""

from __future__ import annotations

import torch
from torch import nn

_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


class VirtualBatchNorm(nn.Module):
    """Virtual batch norm over the channels (dim 1) of N x C or N x C x * features.

    Args:
        num_features: C.
        eps: added to the variance.
        weight, bias: the affine Parameters (C,) to use, e.g. those of a BatchNorm being replaced; by default
            new ones (1 and 0). ``affine=False`` BatchNorms pass None for both and get no affine transform.
        affine: whether to create weight and bias when none are passed.

    The layer has two modes. In the reference pass (``collecting`` True, set by :class:`ReferenceBatch`) it
    normalises its input with the input's own statistics, like batch norm in training mode, and keeps them.
    Otherwise it normalises each example with the kept statistics combined with the example's own.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        weight: nn.Parameter | None = None,
        bias: nn.Parameter | None = None,
        affine: bool = True,
    ):
        super().__init__()
        self.num_features, self.eps = num_features, eps
        if weight is None and bias is None and affine:
            weight, bias = nn.Parameter(torch.ones(num_features)), nn.Parameter(torch.zeros(num_features))
        self.weight, self.bias = weight, bias  # Parameters (or None): registered as this module's own
        self.collecting = False
        self.reference: tuple[torch.Tensor, torch.Tensor, int] | None = None  # (mean, var, n) of the reference

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spatial = tuple(range(2, x.dim()))  # x: [N, C, *S]
        shape = (1, -1) + (1,) * len(spatial)  # per-channel statistics broadcast as [1, C, 1...]
        if self.collecting:
            mean = x.mean((0, *spatial))  # [C]
            var = x.var((0, *spatial), unbiased=False)  # the pooled (biased) variance, as batch norm's
            self.reference = (mean, var, x.shape[0])
            return self._affine((x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps))
        if self.reference is None:
            raise RuntimeError(
                "VirtualBatchNorm has no reference statistics: run D through a ReferenceBatch "
                "(gankit.nets.vbn) so that the reference batch passes through D first"
            )
        ref_mean, ref_var, n = self.reference
        if spatial:
            mean_x, var_x = x.mean(spatial, keepdim=True), x.var(spatial, unbiased=False, keepdim=True)
        else:  # a single value per channel: its own mean, zero variance
            mean_x, var_x = x, torch.zeros_like(x)
        w_ref, w_x = n / (n + 1), 1 / (n + 1)  # the reference counts n examples, x one (of the same size)
        ref_mean, ref_var = ref_mean.view(shape), ref_var.view(shape)
        mean = w_ref * ref_mean + w_x * mean_x  # [N, C, 1...]
        # the pooled variance written around the pooled mean: no cancellation of E[x^2] - E[x]^2
        var = w_ref * (ref_var + (ref_mean - mean) ** 2) + w_x * (var_x + (mean_x - mean) ** 2)
        return self._affine((x - mean) * torch.rsqrt(var + self.eps))

    def __getstate__(self) -> dict:
        # the kept statistics are part of the last forward's graph (not deep-copyable) and stale for a copy: a
        # copy gets them at its D's next forward
        return {**super().__getstate__(), "reference": None}

    def _affine(self, y: torch.Tensor) -> torch.Tensor:
        if self.weight is None or self.bias is None:  # both or neither (affine)
            return y
        shape = (1, -1) + (1,) * (y.dim() - 2)
        return y * self.weight.view(shape) + self.bias.view(shape)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, affine={self.weight is not None}"


def convert_batchnorm(module: nn.Module) -> list[VirtualBatchNorm]:
    """Replace every BatchNorm layer inside ``module`` by a :class:`VirtualBatchNorm`, in place.

    Each new layer takes the BatchNorm's ``weight`` and ``bias`` Parameter objects themselves (not copies),
    so the module's parameters, their names and an optimizer built over them are unchanged; the running
    statistics (buffers) go. ``module`` itself must not be a BatchNorm (there is no parent to put it in).

    Returns:
        The new layers, in the order of ``module.modules()`` (empty when there was no BatchNorm).
    """
    converted = []
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, _BATCHNORMS):
                vbn = VirtualBatchNorm(child.num_features, child.eps, child.weight, child.bias, affine=child.affine)
                setattr(parent, name, vbn)
                converted.append(vbn)
    return converted


class ReferenceBatch:
    """Runs a fixed reference batch through D before each of D's forward passes, so that D's
    :class:`VirtualBatchNorm` layers hold the reference statistics under D's current weights.

    Args:
        D: a module whose batch norms :func:`convert_batchnorm` has converted.
        x: the reference batch (e.g. a fixed minibatch of real data), or None to set later (``.x = ...``);
            D cannot be called until it is set.

    The reference pass is part of the graph of D's output: the gradient of D's loss reaches D's weights
    through the reference statistics too, as in the paper. ``remove()`` takes the hook off again.
    """

    def __init__(self, D: nn.Module, x: torch.Tensor | None = None):
        self.D, self.x = D, x
        self.layers = [m for m in D.modules() if isinstance(m, VirtualBatchNorm)]
        if not self.layers:
            raise ValueError("ReferenceBatch: D has no VirtualBatchNorm layer (convert_batchnorm(D) first)")
        self._busy = False
        self._handle = D.register_forward_pre_hook(self._before_forward)

    def _before_forward(self, D: nn.Module, args) -> None:
        if self._busy or self.x is None:  # the reference pass itself calls D (and comes through here)
            return
        self._busy = True
        for layer in self.layers:
            layer.collecting = True
        try:
            D(self.x)  # each layer keeps its statistics; the output is not needed
        finally:
            self._busy = False
            for layer in self.layers:
                layer.collecting = False

    def remove(self) -> None:
        self._handle.remove()
