"""What uses a trained generator through the generator protocol (``z_dim``, ``sample(z)``, ``decode(z)``):
latent walks and arithmetic (:mod:`.latent`), inversion and inpainting (:mod:`.inversion`), Jacobian-based
truncation (:mod:`.truncation`) and discriminator rejection sampling (:mod:`.rejection`); and plug-and-play
sampling (:mod:`.ppgn`), Langevin chains driven by a denoising autoencoder and a classifier, no generator."""
