"""The taxonomy experiment's report: the headline picks the lowest NLL and FID, the table shows every row."""

from gankit.lab.taxonomy import headline
from gankit.lab.taxonomy_report import table


def _row(model, nll, fid, kind="bound"):
    return {"model": model, "nll_nats": nll, "nll_se": 0.5, "bits_per_dim": None if nll is None else nll / 543.4,
            "kind": kind, "samples_per_s": 10.0, "passes_per_sample": 1, "train_seconds": 3.0, "cpu_seconds": 2.0,
            "scores": {"classifier": {"n": 8, "ref_n": 20, "fid": fid, "precision": 0.5, "recall": 0.25}}}  # fmt: skip


def _results():
    rows = [_row("PixelCNN", 101.0, 437.2, "exact"), _row("VAE (ELBO)", 114.2, 449.2),
            _row("GMM (K=5, 60 PCs)", 302.3, 1160.9), _row("GAN (dcgan)", None, 20.0, "none"),
            _row("real training images", None, 9.6, "data")]  # fmt: skip
    return {"hardware": "cpu", "budget": "quick", "quick": True, "overrides": {"vae": ["train.steps=2"]},
            "settings": {"binary mnist-5k": rows}, "test_size": {"binary mnist-5k": 20},
            "train_size": {"binary mnist-5k": 4000}, "score_n": 8, "pixelcnn_n": 6, "inception_n": 0,
            "wall_seconds": 60.0, "cpu_seconds": 30.0, "score_cpu_seconds": 6.0}  # fmt: skip


def test_headline_is_the_lowest_nll_and_the_lowest_fid_of_a_model():
    best = headline(_results())["binary mnist-5k"]
    assert best == {"best_nll": "PixelCNN 101.00 nats", "best_fid": "GAN (dcgan) 20.0"}  # real images are no model


def test_table_has_every_row_and_the_published_numbers():
    text = table(_results())
    for cell in [
        "| PixelCNN | 101.00 ± 0.50 |",
        "| GAN (dcgan) | — | — | none |",
        "| real training images |",
        "| published: PixelCNN (van den Oord et al. 2016",
        "81.30 | 0.150 |",
        "4,000 training images",
    ]:
        assert cell in text, cell
