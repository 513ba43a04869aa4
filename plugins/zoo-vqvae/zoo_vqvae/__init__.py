"""VQ-VAE variant for zoo. The entry point is :mod:`zoo_vqvae.plugin`."""
