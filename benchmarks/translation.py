"""Image-to-image translation: pix2pix (L1 + GAN against L1 only) and CycleGAN, scored with the shipped classifiers.

pix2pix (Isola et al. 2017) on Fashion-MNIST edges -> garments (presets ``pix2pix-edges-fashion-mnist`` and
``pix2pix-l1-edges-fashion-mnist``): every one of the 10,000 test garments' Canny edge maps is translated, and the
outputs are scored against the real test garments: domain FID (the shipped Fashion-MNIST classifier's 128-d
features), the classifier's accuracy that an output is of its source garment's class, and L1.

CycleGAN (Zhu et al. 2017), presets ``cyclegan-sneakers-boots-fashion-mnist``, ``cyclegan-tshirts-shirts-fashion-mnist``
and ``cyclegan-mnist-mnist-m``: the test images of each domain are translated, and the shipped classifier says
whether a translation is of the other domain's class (class filters) or keeps its digit (MNIST <-> MNIST-M);
the cycle reconstruction error mean |F(G(a)) - a| is reported per direction.

Hyper-parameters were chosen on each run's validation split (held out of the training data); the test split is
read here only. Writes ``results.json``, ``table.md`` and the figures to ``--out`` and prints the JSON.

    OMP_NUM_THREADS=1 python benchmarks/translation.py                    # trains what --runs lacks, then scores
    OMP_NUM_THREADS=1 python benchmarks/translation.py --only pix2pix

A run directory that exists already (``--runs/<preset>``) is scored again, not retrained.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

import torch  # noqa: E402

from common import hardware, train_once, write_results  # noqa: E402  (benchmarks/common.py, beside this script)
from gankit.data import load_dataset  # noqa: E402
from gankit.data.domains import load_domain  # noqa: E402
from gankit.images import save_grid  # noqa: E402
from gankit.methods.cyclegan import cycle_class_scores  # noqa: E402
from gankit.methods.pix2pix import translation_scores  # noqa: E402
from gankit.train.restore import load_method  # noqa: E402

PIX2PIX = {"l1": "pix2pix-l1-edges-fashion-mnist", "l1+gan": "pix2pix-edges-fashion-mnist"}
CYCLEGAN = ["cyclegan-sneakers-boots-fashion-mnist", "cyclegan-tshirts-shirts-fashion-mnist", "cyclegan-mnist-mnist-m"]


def trained(preset: str, args) -> tuple[Path, dict]:
    """The run of ``preset`` under ``--runs``, trained first when it has no checkpoint; its training time."""
    run_dir = Path(args.runs) / preset
    return run_dir, train_once(preset, run_dir, ["train.sample_every=100000"], args.progress)


def pix2pix(args, out: Path) -> dict:
    test = load_dataset("fashion-mnist-edges", split="test", img_size=32)
    results, outputs = {}, {}
    for name, preset in PIX2PIX.items():
        run_dir, timing = trained(preset, args)
        method, _ = load_method(run_dir)
        outputs[name] = method.translate(test.extra["a"]).cpu()
        scores = translation_scores(outputs[name], test.x, test.y, "fashion-mnist-classifier")
        results[name] = {"preset": preset, **scores, **timing}
        print(json.dumps({name: results[name]}), file=sys.stderr, flush=True)
    # Figure: the first test pair of each class, input | L1 only | L1 + GAN | target.
    idx = torch.cat([(test.y == c).nonzero()[:1, 0] for c in range(10)])
    rows = torch.stack([test.extra["a"][idx], outputs["l1"][idx], outputs["l1+gan"][idx], test.x[idx]], 1)
    save_grid(rows.flatten(0, 1), out / "pix2pix_edges_fashion_mnist.png", nrow=4)
    return results


def _cycle_sets(preset: str, cfg) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, list, list]:
    """Test images of domains A and B with their labels, and the class indices of the filters (empty for pairs)."""
    if cfg.data.target is not None:
        a, b = load_domain(cfg.data.name, "source")[1], load_domain(cfg.data.target, "target")[1]
        xa, xb = a.x.expand(-1, 3, -1, -1) if a.x.shape[1] == 1 else a.x, b.x
        return xa, a.y, xb, b.y, [], []
    test = load_dataset(cfg.data.name, split="test")
    ia = [test.classes.index(n) for n in cfg.cyclegan.classes_a]
    ib = [test.classes.index(n) for n in cfg.cyclegan.classes_b]
    ka, kb = torch.isin(test.y, torch.tensor(ia)), torch.isin(test.y, torch.tensor(ib))
    return test.x[ka], test.y[ka], test.x[kb], test.y[kb], ia, ib


def cyclegan(args, out: Path) -> dict:
    results = {}
    for preset in CYCLEGAN:
        run_dir, timing = trained(preset, args)
        method, cfg = load_method(run_dir)
        xa, ya, xb, yb, ia, ib = _cycle_sets(preset, cfg)
        ab, ba = method.translate(xa, "AtoB").cpu(), method.translate(xb, "BtoA").cpu()
        aba, bab = method.translate(ab, "BtoA").cpu(), method.translate(ba, "AtoB").cpu()
        extractor = method.extractor
        scores = cycle_class_scores(ab, ba, ya, yb, ia, ib, extractor)
        if not ia:  # a pair: the classifier on the untranslated images (B -> A should beat it on B)
            raw = cycle_class_scores(xa, xb, ya, yb, [], [], extractor)
            scores |= {"untranslated_a_acc": raw["a2b_label_kept"], "untranslated_b_acc": raw["b2a_label_kept"]}
        results[preset] = {"preset": preset, "n_a": len(xa), "n_b": len(xb), **scores,
                           "cycle_l1_a": float((aba - xa).abs().mean()), "cycle_l1_b": float((bab - xb).abs().mean()),
                           **timing}  # fmt: skip
        print(json.dumps({preset: results[preset]}), file=sys.stderr, flush=True)
        ia8, ib8 = torch.linspace(0, len(xa) - 1, 8).long(), torch.linspace(0, len(xb) - 1, 8).long()  # spread out
        rows = torch.cat([torch.stack([xa[ia8], ab[ia8], aba[ia8]], 1), torch.stack([xb[ib8], ba[ib8], bab[ib8]], 1)])
        save_grid(rows.flatten(0, 1), out / f"{preset}.png", nrow=3)
    return results


def table(res: dict) -> str:
    lines = [f"Hardware: {res['hardware']}.", ""]
    if "pix2pix" in res:
        head = "| pix2pix, edges -> garments (10,000 test pairs) | domain FID | class acc. | L1 | steps | time (s) |"
        lines += [head, "|---|---|---|---|---|---|"]
        for name, r in res["pix2pix"].items():
            lines.append(f"| {name} (`{r['preset']}`) | {r['fid']:.2f} | {100 * r['class_accuracy']:.1f}% | "
                         f"{r['l1']:.4f} | {r.get('steps', '?')} | {r.get('seconds', float('nan')):.0f} |")
        lines.append("")
    if "cyclegan" in res:
        lines += ["| CycleGAN preset | A -> B | B -> A | cycle L1 (A, B) | train steps | train time (s) |",
                  "|---|---|---|---|---|---|"]
        for preset, r in res["cyclegan"].items():
            if "a2b_accuracy" in r:
                ab, ba = f"{100 * r['a2b_accuracy']:.1f}% in B's class", f"{100 * r['b2a_accuracy']:.1f}% in A's class"
            else:
                ab = f"{100 * r['a2b_label_kept']:.1f}% digit kept ({100 * r['untranslated_a_acc']:.1f}% on A itself)"
                ba = f"{100 * r['b2a_label_kept']:.1f}% digit kept ({100 * r['untranslated_b_acc']:.1f}% on B itself)"
            lines.append(f"| `{preset}` | {ab} | {ba} | {r['cycle_l1_a']:.3f}, {r['cycle_l1_b']:.3f} | "
                         f"{r.get('steps', '?')} | {r.get('seconds', float('nan')):.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", default=str(ROOT / "runs" / "translation"), help="where the runs are (or go)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "translation"))
    p.add_argument("--only", choices=["pix2pix", "cyclegan"], default=None)
    p.add_argument("--progress", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    res: dict = {"hardware": hardware()}
    if args.only in (None, "pix2pix"):
        res["pix2pix"] = pix2pix(args, out)
    if args.only in (None, "cyclegan"):
        res["cyclegan"] = cyclegan(args, out)
    write_results(out, f"-{args.only}" if args.only else "", res, table(res))


if __name__ == "__main__":
    main()
