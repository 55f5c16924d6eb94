import numpy as np
import torch

from gankit.images import from_uint8, make_grid, to_uint8


def test_uint8_round_trip():
    a = np.random.default_rng(0).integers(0, 256, size=(3, 5, 5, 3), dtype=np.uint8)
    np.testing.assert_array_equal(to_uint8(from_uint8(a)), a)


def test_grid_layout():
    x = torch.stack([torch.full((1, 4, 4), float(i) / 10) for i in range(6)])
    g = make_grid(x, nrow=3, padding=1, pad_value=-1)
    assert g.shape == (1, 2 * 5 + 1, 3 * 5 + 1)
    assert g[0, 1, 1] == 0.0 and g[0, 6, 1] == 0.3 and g[0, 0, 0] == -1
