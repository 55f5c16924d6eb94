"""Device-dependent speed switches, each with a default per device (``auto``):

- ``amp``: mixed precision. bf16 autocast on GPUs that support it, fp16 with a gradient scaler on
  older GPUs, off on the CPU (CPU autocast is slower than float32 for these convolutions).
- ``channels_last``: NHWC memory format for convolutions; on by default everywhere: GPUs' tensor cores
  prefer it, and on this project's 2-core AVX-512 CPU it trains the default DCGAN about 40% faster
  (740 vs 530 images/s with oneDNN's NHWC convolutions).
- ``compile``: ``torch.compile`` of G and D; opt-in (compilation takes a while and pays off on long runs).
- ``data_on_device``: hold the whole dataset in GPU memory when it takes under a quarter of the free memory,
  so a minibatch is one indexing kernel and there are no host-to-device copies.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from gankit.errors import UserError


@dataclass(frozen=True)
class Speed:
    amp: torch.dtype | None
    channels_last: bool
    compile: bool
    data_on_device: bool

    def autocast(self, device: torch.device):
        if self.amp is None:
            return contextlib.nullcontext()
        return torch.autocast(device.type, dtype=self.amp)

    @property
    def fp16(self) -> bool:
        return self.amp == torch.float16

    def describe(self) -> str:
        amp = {None: "off", torch.bfloat16: "bf16", torch.float16: "fp16+scaler"}[self.amp]
        on = lambda b: "on" if b else "off"  # noqa: E731
        return (
            f"amp={amp} channels_last={on(self.channels_last)} compile={on(self.compile)} "
            f"data_on_device={on(self.data_on_device)}"
        )


def _switch(value: str | bool, default: bool, key: str) -> bool:
    if value == "auto":
        return default
    if isinstance(value, bool):
        return value
    raise UserError(f"train.{key}={value!r}: use auto, true or false")


def resolve_speed(t, device: torch.device, data_bytes: int) -> Speed:
    """Turn the config's switches (``auto`` / explicit) into settings for ``device``."""
    cuda = device.type == "cuda"
    if t.amp == "auto":
        amp = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if cuda else None
    elif t.amp == "off":
        amp = None
    else:
        amp = {"bf16": torch.bfloat16, "fp16": torch.float16}[t.amp]
        if amp == torch.float16 and not cuda:
            raise UserError("train.amp=fp16 needs a CUDA device; use bf16 or off on the CPU")
    fits = cuda and data_bytes < 0.25 * torch.cuda.mem_get_info(device)[0]
    return Speed(
        amp=amp,
        channels_last=_switch(t.channels_last, True, "channels_last"),
        compile=bool(t.compile),
        data_on_device=_switch(t.data_on_device, fits, "data_on_device") and cuda,
    )
