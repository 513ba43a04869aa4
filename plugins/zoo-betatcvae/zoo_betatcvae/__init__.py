"""beta-TCVAE for zoo, a third-party variant plugin. The entry point is :mod:`zoo_betatcvae.plugin`.

The estimator math lives in :mod:`zoo_betatcvae.tc` (pure functions), the model in
:mod:`zoo_betatcvae.model` and the objective in :mod:`zoo_betatcvae.loss`; none of them is
imported until a model is built, so listing plugins stays cheap.
"""
