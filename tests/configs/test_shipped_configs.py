"""Every shipped preset loads, and its method and networks build."""

import functools

import pytest
import torch

from gankit.config import load_config, shipped_configs
from gankit.data import DataSpec, load_run_data
from gankit.methods import is_generator
from gankit.methods import build_method


@functools.cache
def _spec(data_cfg_json: str) -> DataSpec:
    from gankit.config import DataConfig

    cfg = DataConfig.model_validate_json(data_cfg_json)
    if cfg.name in ("fashion-mnist", "mnist-5k") and cfg.target is None:  # known: skip reading 60,000 images per preset
        return DataSpec((cfg.channels or 1, cfg.img_size or 28, cfg.img_size or 28), classes=tuple("0123456789"))
    if cfg.name in ("fashion-mnist-edges", "mnist-5k-edges"):  # known: skip Canny over every training image
        size = cfg.img_size or 28
        return DataSpec((cfg.channels or 1, size, size), classes=tuple("0123456789"), cond=("a",))
    if cfg.name == "bsds500":  # read from a folder the user names: its known shape (landscape photographs)
        return DataSpec((cfg.channels or 3, 321, 481))
    if cfg.name == "fsdd":  # read from a folder the user names: 16 kHz clips of 16,384 samples, digits 0-9
        return DataSpec((1, 16384), classes=tuple("0123456789"))
    if cfg.name == "fsdd-noisy":  # the same clips, each with its noisy mixture (gankit.data.noisy_speech)
        return DataSpec((1, 16384), classes=tuple("0123456789"), cond=("noisy",))
    return load_run_data(cfg).spec


@pytest.mark.parametrize("name", shipped_configs())
def test_shipped_config_loads_and_builds(name):
    cfg = load_config(name)
    method = build_method(cfg, _spec(cfg.data.model_dump_json()), torch.device("cpu"))
    if is_generator(method):
        z = torch.randn(2, method.z_dim)
        assert method.sample(z).shape[0] == 2
    assert method.modules and method.optimizers


def test_the_family_is_shipped():
    names = set(shipped_configs())
    family = {"mm", "ns", "lsgan", "wgan", "wgan-gp", "dragan", "began", "hinge-sn", "ragan", "vae", "best"}
    assert {f"{n}-fashion-mnist" for n in family} <= names
