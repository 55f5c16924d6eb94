"""``gankit ppgn``: plug-and-play sampling toward a class (Nguyen et al. 2017), or training its denoising
autoencoder (``--train``); see :mod:`gankit.sampling.ppgn`. ``--run`` is either a DAE's folder (PPGN-x, chains in
pixel space) or a trained GAN run (PPGN-h, chains in its generator's latent space)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "ppgn",
        help="plug-and-play Langevin sampling toward a class with a denoising autoencoder (PPGN)",
        description="Langevin chains toward a class of the shipped Fashion-MNIST classifier: a PNG of the chains "
        "(a row per chain, a column per recorded step). When --run holds a denoising autoencoder r (dae.safetensors), "
        "in pixel space: x += eps1 (r(x) - x) + eps2 grad log p(class | x) + N(0, eps3^2) (PPGN-x). When --run is a "
        "trained GAN run, in its generator's latent space: z += -eps1 z + eps2 grad_z log p(class | G(z)) + "
        "N(0, eps3^2), the images being G(z) (PPGN-h; better samples). With --train, train the autoencoder into "
        "--run first.",
    )
    p.add_argument("--run", required=True, metavar="DIR", help="a DAE's folder (dae.safetensors) or a GAN run")
    p.add_argument("--class", dest="cls", metavar="K", help="the class to sample: an index or a name (sneaker)")
    p.add_argument("-n", type=int, default=8, help="number of chains (default 8)")
    p.add_argument("--steps", type=int, help="Langevin steps (default: the run's, else 200)")
    p.add_argument("--eps", metavar="E1,E2,E3", help="step sizes (default: the run's, chosen on validation data)")
    p.add_argument("--columns", type=int, default=9, help="recorded steps per chain in the figure (default 9)")
    p.add_argument("--from-data", action="store_true", help="DAE only: start from training images, not noise")
    p.add_argument("--data-root", metavar="DIR", help="the Fashion-MNIST files' folder (--train, --from-data)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", metavar="FILE.png", help="the chains' figure")
    p.add_argument("--train", action="store_true", help="train the DAE into --run (then sample if --class is given)")
    p.add_argument("--train-steps", type=int, default=2000, help="DAE training steps (default 2000)")
    p.add_argument("--adv-weight", type=float, default=0.01, help="the DAE's adversarial term (0: off; default 0.01)")
    p.set_defaults(func=run)


def _eps(text: str) -> tuple[float, float, float]:
    from gankit.errors import UserError

    try:
        e1, e2, e3 = (float(v) for v in text.split(","))
    except ValueError:
        raise UserError(f"--eps {text}: give three numbers E1,E2,E3 (e.g. 0.6,2,0.05)") from None
    return e1, e2, e3


def run(args: argparse.Namespace) -> int:
    import torch

    from gankit.data import load_dataset
    from gankit.errors import UserError
    from gankit.sampling import ppgn

    if args.n <= 0 or (args.steps is not None and args.steps <= 0) or args.columns < 2:
        raise UserError("-n and --steps must be positive and --columns at least 2")
    clf, classes = ppgn.shipped_classifier()
    k = ppgn.class_index(classes, args.cls) if args.cls is not None else None  # a bad name fails before training
    if not args.train and (k is None or args.out is None):
        raise UserError("gankit ppgn: give --class K and --out FILE.png (or --train to train the DAE)")
    if args.out is not None and not args.out.lower().endswith(".png"):
        raise UserError(f"--out {args.out}: the chains' figure must end in .png")
    if args.train:
        cfg = ppgn.DAEConfig(steps=args.train_steps, adv_weight=args.adv_weight, seed=args.seed)
        dae = ppgn.train_dae(load_dataset("fashion-mnist", root=args.data_root).x, cfg, log_every=100)
        print(f"wrote {ppgn.save_dae(dae, cfg, args.run)}")
        if k is None:
            return 0
    assert k is not None and args.out is not None  # checked above
    cls = torch.full((args.n,), k, dtype=torch.long)
    if not (Path(args.run) / ppgn.DAE_FILE).is_file() and (Path(args.run) / "config.yaml").is_file():
        if args.from_data:
            raise UserError(f"--from-data: {args.run} is a GAN run; its chains start from z ~ N(0, I)")
        G, z_dim = ppgn.run_generator(args.run)
        eps = _eps(args.eps) if args.eps else ppgn.LATENT_DEFAULTS["eps"]
        steps = args.steps or ppgn.LATENT_DEFAULTS["steps"]
        final, chains = ppgn.sample_latent_chains(G, clf, cls, z_dim, steps, eps, seed=args.seed, record=args.columns)
        return _report(args, final, chains, clf, classes, k, steps)
    dae, _, saved = ppgn.load_dae(args.run)
    defaults = {"eps1": 0.6, "eps2": 4.0, "eps3": 0.05}  # benchmarks/ppgn.py's validation choice
    e1, e2, e3 = (float(saved.get(e, d)) for e, d in defaults.items())
    eps = _eps(args.eps) if args.eps else (e1, e2, e3)
    steps = args.steps or int(saved.get("steps", 200))
    x0 = None
    if args.from_data:
        train = load_dataset("fashion-mnist", root=args.data_root).x
        x0 = train[torch.randperm(len(train), generator=torch.Generator().manual_seed(args.seed))[: args.n]]
    final, chains = ppgn.sample_chains(dae, clf, cls, steps, eps, x0=x0, seed=args.seed, record=args.columns)
    return _report(args, final, chains, clf, classes, k, steps)


def _report(args: argparse.Namespace, final, chains, clf, classes: list[str], k: int, steps: int) -> int:
    import gankit

    out = gankit.save_samples(chains.flatten(0, 1), args.out, nrow=chains.shape[1])
    hit = float((clf(final).argmax(1) == k).float().mean())
    print(f"wrote {args.n} chains of {steps} steps toward {classes[k]} to {out} (classifier agrees on {hit:.0%})")
    return 0
