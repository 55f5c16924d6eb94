"""What-where networks (gankit.nets.location): shapes, and the box reaching G's pixels and D's logit."""

import torch

from gankit.nets.location import WhereDiscriminator, WhereGenerator, conditioning_maps


def test_conditioning_maps_are_the_embedding_inside_the_box():
    e = torch.tensor([[2.0, -1.0]])
    maps = conditioning_maps(e, torch.tensor([[0.0, 0.0, 0.5, 0.5]]), 4)
    assert maps.shape == (1, 3, 4, 4)
    assert maps[0, :, :2, :2].tolist() == [[[1.0, 1.0]] * 2, [[2.0, 2.0]] * 2, [[-1.0, -1.0]] * 2]
    assert (maps[0, :, 2:, :] == 0).all() and (maps[0, :, :, 2:] == 0).all()


def test_shapes_and_the_box_matters():
    torch.manual_seed(0)
    G, D = WhereGenerator(8, 10, 4, canvas=32, width=4), WhereDiscriminator(10, 4, canvas=32, width=4)
    G.eval(), D.eval()
    z, y = torch.randn(3, 8), torch.tensor([0, 5, 9])
    left, right = torch.tensor([[0.0, 0.2, 0.4, 0.8]]).expand(3, 4), torch.tensor([[0.6, 0.2, 1.0, 0.8]]).expand(3, 4)
    x = G(z, y, left)
    assert x.shape == (3, 1, 32, 32) and x.abs().max() <= 1
    assert not torch.allclose(x, G(z, y, right)) and not torch.allclose(x, G(z, y.roll(1), left))
    logits = D(x, y, left)
    assert logits.shape == (3,) and not torch.allclose(logits, D(x, y, right))
    assert WhereGenerator(8, 10, 4, canvas=64, width=4)(z, y, left).shape == (3, 1, 64, 64)
