"""A TorchScript feature network run by ONNX Runtime on the CPU: the same features, in less time.

The FID Inception-v3 (``default_1.pt``, Szegedy et al. 2016, the TF weights of Heusel et al. 2017) gives about
2.7x the features per second under ONNX Runtime than under TorchScript on one thread of a 2-core CPU
(``python benchmarks/eval_speed.py --inception-backends``), with features within about 3e-6 relative of
TorchScript's. ONNX Runtime's full graph optimisation folds batch norm into the convolutions, fuses the
activations and runs the convolutions in its blocked NCHWc layout, and its memory arena keeps buffers between
batches; ``torch.jit.freeze`` and ``torch.jit.optimize_for_inference`` on the same file measured no faster.

The network is exported once (``torch.onnx.export``, the TorchScript-based exporter, opset 18, any batch size)
into ``<gankit cache>/onnx/<key>-opset18.onnx`` (87 MB for Inception; :func:`gankit.data.fashion_mnist.cache_dir`)
and checked against TorchScript on an example batch whenever it is loaded (ONNX Runtime chooses its kernels per CPU
and version): a file whose features differ by more than 1e-4 relative is deleted, with a warning, and the caller
falls back to TorchScript. Optional: without ``onnxruntime`` (or, for the first export, without ``onnx``)
:func:`onnx_network` returns None; ``pip install 'gankit[inception]'`` brings both.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path
from typing import Any

import torch

OPSET = 18
TOLERANCE = 1e-4  # relative: max |onnx - torchscript| / max |torchscript| on the example batch


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def relative_error(new: torch.Tensor, old: torch.Tensor) -> float:
    """max |new - old| / max |old|: the agreement the 1e-4 promise is stated in."""
    return float((new.double() - old.double()).abs().max() / old.double().abs().max().clamp_min(1e-30))


class OnnxNetwork:
    """An ONNX Runtime session called like the network: an N x C x H x W float32 tensor in, its outputs out."""

    def __init__(self, path: Path, threads: int):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads  # as many as torch uses: the user's OMP_NUM_THREADS holds for both
        opts.inter_op_num_threads = 1  # a chain of convolutions: nothing to run side by side
        # Idle threads sleep instead of spinning: on cores shared with a training job spinning took more CPU and
        # measured 7% slower at two threads (the same speed at one).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.path = path
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name

    def __call__(self, x: torch.Tensor) -> list[torch.Tensor]:
        feed = {self.input: x.detach().float().contiguous().numpy()}
        return [torch.from_numpy(out) for out in self.session.run(None, feed)]


def _export(net: Any, example: torch.Tensor, n_outputs: int, path: Path) -> None:
    outputs = ["features", "logits"][:n_outputs]
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # concurrent jobs share the cache
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice: the one that takes TorchScript
        torch.onnx.export(
            net,
            (example[:1],),
            str(tmp),
            input_names=["x"],
            output_names=outputs,
            dynamic_axes={name: {0: "batch"} for name in ["x", *outputs]},
            opset_version=OPSET,
            dynamo=False,
        )
    tmp.replace(path)


def onnx_network(net: Any, key: str, example: torch.Tensor, threads: int | None = None) -> OnnxNetwork | None:
    """ONNX Runtime in place of the TorchScript ``net``, or None where it cannot stand in for it.

    Args:
        net: a TorchScript network (one tensor in; a tensor, or a tuple of features and logits, out).
        key: names the weights (the cache file is ``<cache>/onnx/<key>-opset18.onnx``).
        example: an input batch (N x C x H x W) on which ONNX Runtime must match ``net`` within 1e-4 relative.
        threads: ONNX Runtime's intra-op threads (default: ``torch.get_num_threads()``).

    Returns:
        an :class:`OnnxNetwork`, or None when onnxruntime is missing, or the file is not cached and onnx is
        missing, or the export fails or its features do not match (with a warning for the last two).
    """
    from gankit.data.fashion_mnist import cache_dir

    if not _installed("onnxruntime"):
        return None
    path = cache_dir() / "onnx" / f"{key}-opset{OPSET}.onnx"
    threads = threads or torch.get_num_threads()
    with torch.inference_mode():
        want = net(example)
    want = list(want) if isinstance(want, (tuple, list)) else [want]
    runner = None
    if path.is_file():
        try:
            runner = OnnxNetwork(path, threads)
        except Exception:  # noqa: BLE001  (a damaged or truncated cache file: export it again)
            path.unlink(missing_ok=True)
    if runner is None and not _installed("onnx"):  # the exporter needs it; running a cached file does not
        return None
    try:
        if runner is None:
            _export(net, example, len(want), path)
            runner = OnnxNetwork(path, threads)
        # checked at every load, not only after the export: ONNX Runtime picks its kernels per CPU and version
        err = max(relative_error(g.reshape(w.shape), w) for g, w in zip(runner(example), want))
    except Exception as e:  # noqa: BLE001  (any failure leaves the TorchScript route, which always works)
        warnings.warn(f"ONNX export of {key} failed ({str(e).splitlines()[0][:80]}); using TorchScript", stacklevel=3)
        path.unlink(missing_ok=True)
        return None
    if err > TOLERANCE:
        warnings.warn(f"ONNX export of {key}: features differ by {err:.1e} relative; using TorchScript", stacklevel=3)
        path.unlink(missing_ok=True)
        return None
    return runner
