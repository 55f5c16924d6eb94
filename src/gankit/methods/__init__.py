"""Methods: what differs between GAN, VAE, DANN, ... Each brings its networks, optimizers, data streams and step.

A method is an object with
    ``modules``          dict of the ``nn.Module``s to checkpoint (``G``, ``D``, ...),
    ``optimizers``       dict of their optimizers,
    ``images_per_step``  items drawn from the data per ``step()`` (for the throughput the loop reports),
    ``setup(ctx)``       take batch streams, wrappers and speed settings from the training context
                         (:class:`gankit.train.context.TrainContext`); called once before training,
    ``step() -> dict``   one training iteration; returns the scalars to log (0-dim tensors, not synced per step),
    ``preview()``        what to render now (:class:`gankit.previews.Preview`: an image grid, a point scatter, ...),
    ``evaluate()``       scores for evaluation during training (``eval.eval_every``; ``{}`` when it has none),
    ``state_dict()`` / ``load_state_dict(d)``  anything else to checkpoint (schedules, counters, generators).
The training loop (:mod:`gankit.train.loop`) knows nothing more than this.

Methods that generate also follow the generator protocol (:class:`Generator`), which the tools of
:mod:`gankit.sampling`, ``gankit sample`` and ``gankit evaluate`` use on a trained run.

Adding a method: a module with its config sections and a builder ``(cfg, spec, device) -> method``
decorated with ``@register_method(name, sections=..., smoke=...)``, imported at the bottom of this file.
``smoke`` is a list of ``KEY=VALUE`` overrides that make a run of a few seconds on small offline data:
the conformance test (``tests/methods/test_conformance.py``) trains every registered method with it.
"""

from gankit.methods.registry import METHODS, Generator, Method, build_method, is_generator, register_method

# The built-in methods register themselves on import.
from gankit.methods import cgan, dann, gan, nextframe, ssgan, superres, vae  # noqa: E402,F401
from gankit.methods import cyclegan, pix2pix  # noqa: E402,F401  (image-to-image translation)
from gankit.methods import pixelcnn  # noqa: E402,F401  (a fully visible belief net)
from gankit.methods import gancls, gawwn  # noqa: E402,F401  (text to image; what and where, Reed et al. 2016)
from gankit.methods import segan  # noqa: E402,F401  (speech enhancement, Pascual et al. 2017)

__all__ = ["METHODS", "Generator", "Method", "build_method", "is_generator", "register_method"]
