"""beta-VAE variants for zoo. The entry point is :mod:`zoo_beta_vae.plugin`."""
