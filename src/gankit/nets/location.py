"""Networks told what and where to draw: G(z, y, box) and D(x, y, box) conditioned through spatial masks
(after Reed et al. 2016, "Learning What and Where to Draw", sec. 4: the conditioning vector is replicated
spatially inside the bounding box and zero outside it, and concatenated with the feature maps).

Here "what" is a class y (its learned embedding e(y), E-d) and "where" a box; at a resolution S the
conditioning maps are [m, m * e(y)] (1 + E channels), m = :func:`gankit.data.boxes.box_masks` (the share of
each cell the box covers).

- G: a global pathway, concat(z, e(y)) -> a 4 x 4 map by a linear layer, then transposed-convolution stages
  4 -> 8 -> ... -> canvas, the conditioning maps of the stage's resolution concatenated before each (the local
  pathway: what reaches the pixels inside the box). DCGAN's rules otherwise (Radford et al. 2016): batch norm,
  ReLU, tanh at the output.
- D: the conditioning maps concatenated with the image at full resolution, strided convolutions down to
  4 x 4 with leaky ReLU, then a linear logit.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gankit.data.boxes import box_masks
from gankit.nets.dcgan import dcgan_init


def conditioning_maps(embedding: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """[m, m * e] at resolution ``size``: N x (1 + E) x S x S (m: the box's mask, e: the class embedding)."""
    m = box_masks(boxes, size)  # [N, 1, S, S]
    return torch.cat([m, m * embedding[:, :, None, None]], dim=1)


class WhereGenerator(nn.Module):
    """(z [N, z_dim], y [N], boxes [N, 4]) -> images N x channels x canvas x canvas in [-1, 1].

    Args:
        z_dim: latent size; num_classes: K; embed_dim: E; canvas: output side (a power of two >= 8);
        width: channels of the last stage (doubling towards the 4 x 4 base); channels: image channels.
    """

    def __init__(self, z_dim: int, num_classes: int, embed_dim: int = 8, canvas: int = 64, width: int = 16,
                 channels: int = 1):  # fmt: skip
        super().__init__()
        stages = int(math.log2(canvas // 4))
        if 4 * 2**stages != canvas:
            raise ValueError(f"canvas {canvas}: a power of two of at least 8 (4 x 4 base, 2x stages)")
        self.z_dim, self.canvas = z_dim, canvas
        self.embed = nn.Embedding(num_classes, embed_dim)  # N(0, 1): the scale of z
        ch = [width * 2 ** (stages - 1 - i) for i in range(stages)] + [channels]  # e.g. 128, 64, 32, 16, 1
        self.base = nn.Sequential(nn.Linear(z_dim + embed_dim, ch[0] * 16), nn.BatchNorm1d(ch[0] * 16), nn.ReLU())
        self.ups = nn.ModuleList()
        for i in range(stages):
            last = i == stages - 1
            conv = nn.ConvTranspose2d(ch[i] + 1 + embed_dim, ch[i + 1], 4, 2, 1, bias=last)  # S -> 2S
            rest = [nn.Tanh()] if last else [nn.BatchNorm2d(ch[i + 1]), nn.ReLU()]
            self.ups.append(nn.Sequential(conv, *rest))
        dcgan_init(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        e = self.embed(y)  # [N, E]
        h = self.base(torch.cat([z.flatten(1), e], 1)).view(len(z), -1, 4, 4)  # [N, ch0, 4, 4]
        for up in self.ups:
            h = up(torch.cat([h, conditioning_maps(e, boxes, h.shape[-1])], 1))  # [N, ch + 1 + E, S, S] -> 2S
        return h


class WhereDiscriminator(nn.Module):
    """(x, y, boxes) -> logits [N]: strided convolutions over concat(x, m, m * e(y)) down to 4 x 4, then linear.

    Args:
        num_classes: K; embed_dim: E; canvas: input side; width: channels of the first stage (doubling);
        channels: image channels.
    """

    def __init__(self, num_classes: int, embed_dim: int = 8, canvas: int = 64, width: int = 16, channels: int = 1):
        super().__init__()
        stages = int(math.log2(canvas // 4))
        self.embed = nn.Embedding(num_classes, embed_dim)
        layers: list[nn.Module] = []
        c_in = channels + 1 + embed_dim
        for i in range(stages):
            c_out = width * 2**i
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=i == 0)]  # S -> S/2
            layers += [nn.LeakyReLU(0.2)] if i == 0 else [nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2)]
            c_in = c_out
        self.features = nn.Sequential(*layers)  # [N, c, 4, 4]
        self.head = nn.Linear(c_in * 16, 1)
        dcgan_init(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        h = torch.cat([x, conditioning_maps(self.embed(y), boxes, x.shape[-1])], 1)  # [N, C + 1 + E, S, S]
        return self.head(self.features(h).flatten(1)).view(-1)  # [N]
