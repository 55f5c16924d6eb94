"""Shared test set-up: no test may download anything, and runs are small and seeded."""

import os
import tempfile

import pytest

os.environ["GANKIT_OFFLINE"] = "1"
# Tests never read or write the user's cache (reference statistics, downloads).
os.environ["GANKIT_CACHE"] = tempfile.mkdtemp(prefix="gankit-test-cache-")


@pytest.fixture
def tiny_overrides() -> list[str]:
    """Overrides that make a Fashion-MNIST DCGAN run take a second or two."""
    return ["model.g_width=8", "model.d_width=8", "train.batch_size=16", "train.log_every=2", "train.sample_every=4", "train.checkpoint_every=4"]
