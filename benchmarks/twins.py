"""PyTorch twins of zoo's networks and losses (benchmark-only: zoo never imports torch).

A twin computes the same function as the zoo model it mirrors, written the way one writes it in
PyTorch: NCHW images, ``nn.Conv2d`` (OIHW weights), ``nn.Linear``, ``F.pixel_shuffle``,
``F.binary_cross_entropy_with_logits``. The layouts differ from zoo's (NHWC, HWIO kernels,
``[in, out]`` dense kernels, channel-last pixel shuffle, NHWC flattening); :mod:`twin_weights`
copies a zoo model's parameters into its twin with the permutations that make the two compute
the same function, and :mod:`parity` checks that they do before anything is timed.

Every twin's ``forward(x, labels, weight, eps=None)`` returns ``(loss, metrics)``: ``x`` images
[B, C, H, W] in [0, 1], ``labels`` int [B] (read by the CVAE only), ``weight`` a 0-d tensor with
the loss schedule's value at this step (beta, or the capacity C; see :func:`schedule_weight`),
``eps`` the reparameterisation noise [B, D] (drawn with ``torch.randn`` when None).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ConvDecoder", "ConvEncoder", "GaussianTwin", "VQTwin", "build_twin",
           "schedule_weight", "torch_activation"]

_ACTS = {"relu": F.relu, "silu": F.silu, "elu": F.elu, "leaky_relu": F.leaky_relu,
         "tanh": torch.tanh, "gelu": lambda x: F.gelu(x, approximate="tanh")}  # jax.nn.gelu's


def torch_activation(name: str) -> Any:
    """The torch function of zoo's activation ``name`` (``jax.nn.gelu`` is the tanh form)."""
    return _ACTS[name]


def _linear_schedule(step: int, start: float, end: float, num_steps: int) -> float:
    if num_steps <= 0:
        return end
    return start + (end - start) * min(max(step / num_steps, 0.0), 1.0)


def schedule_weight(variant: str, config: Any, step: int) -> float:
    """The loss weight of ``step`` (zoo computes it inside its step from the step number):
    beta for beta-vae and cvae, the capacity C for capacity control, 0 for vqvae."""
    if variant in ("beta-vae", "beta-vae-capacity"):
        if config.use_capacity_control:
            return _linear_schedule(step, 0.0, config.capacity_max, config.capacity_num_iter)
        return _linear_schedule(step, config.beta_start, config.beta, config.beta_anneal_steps)
    return float(getattr(config, "beta", 0.0))


class ConvEncoder(nn.Module):
    """4x4 stride-2 convolutions with zoo's 'SAME' padding (1 on each side for even sizes)."""

    def __init__(self, in_channels: int, hidden: Sequence[int], act: str) -> None:
        super().__init__()
        chans = [in_channels, *hidden]
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 4, stride=2, padding=1)
                                   for a, b in itertools.pairwise(chans))
        self.act = torch_activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, H, W] -> [B, hidden[-1], H / 2^n, W / 2^n]."""
        for conv in self.convs:
            if x.shape[-1] % 2 or x.shape[-2] % 2:
                raise ValueError("ConvEncoder twin: odd sizes pad asymmetrically under 'SAME'")
            x = self.act(conv(x))
        return x


class ConvDecoder(nn.Module):
    """Per stage a 3x3 conv to 4x the stage width and ``F.pixel_shuffle(2)``, then a 3x3 conv
    to the output channels; widths mirror the encoder as zoo's do."""

    def __init__(self, in_channels: int, hidden: Sequence[int], out_channels: int,
                 act: str) -> None:
        super().__init__()
        chans = [in_channels, *reversed(hidden[:-1]), max(hidden[0] // 2, 1)]
        self.ups = nn.ModuleList(nn.Conv2d(a, 4 * b, 3, padding=1)
                                 for a, b in itertools.pairwise(chans))
        self.out = nn.Conv2d(chans[-1], out_channels, 3, padding=1)
        self.act = torch_activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, h, w] -> logits [B, out_channels, h * 2^n, w * 2^n]."""
        for up in self.ups:
            x = self.act(F.pixel_shuffle(up(x), 2))
        return self.out(x)


def _mlp(sizes: Sequence[int]) -> nn.ModuleList:
    return nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))


def _run_mlp(layers: nn.ModuleList, x: torch.Tensor, act: Any) -> torch.Tensor:
    for i, layer in enumerate(layers):
        x = layer(x)
        if i < len(layers) - 1:
            x = act(x)
    return x


class GaussianTwin(nn.Module):
    """Twin of ``zoo.vae.GaussianVAE`` (beta-vae, beta-vae-capacity) and of the CVAE (with
    ``conditional``): encoder -> (mean, logvar), z = mean + exp(logvar / 2) eps, decoder logits,
    loss = reconstruction (summed over pixels, batch mean) + beta KL or gamma |KL - C|."""

    def __init__(self, config: Any, *, conditional: bool = False) -> None:
        super().__init__()
        c = config
        self.config, self.conditional = c, conditional
        self.act = torch_activation(c.activation)
        h, w, ch = c.image_shape
        cond = c.label_features if conditional else 0
        self.label_embed = (nn.Embedding(c.num_classes, c.label_embedding_dim)
                            if conditional and c.label_embedding_dim else None)
        hidden = list(c.hidden)
        if c.architecture == "mlp":
            self.enc_conv, self.dec_proj, self.dec_conv = None, None, None
            self.enc = _mlp([h * w * ch + cond, *hidden, 2 * c.latent_dim])
            self.dec = _mlp([c.latent_dim + cond, *reversed(hidden), h * w * ch])
        else:
            f = 2 ** len(hidden)
            self.grid = (hidden[-1], h // f, w // f)
            self.enc_conv = ConvEncoder(ch, hidden, c.activation)
            self.enc = _mlp([math.prod(self.grid) + cond, 2 * c.latent_dim])
            self.dec, self.dec_proj = None, nn.Linear(c.latent_dim + cond, math.prod(self.grid))
            self.dec_conv = ConvDecoder(hidden[-1], hidden, ch, c.activation)
        self.capacity = bool(getattr(c, "use_capacity_control", False))

    def _cond(self, labels: torch.Tensor) -> torch.Tensor:
        if self.label_embed is not None:
            return self.label_embed(labels)
        return F.one_hot(labels.long(), self.config.num_classes).float()

    def outputs(self, x: torch.Tensor, labels: torch.Tensor,
                eps: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """``logits`` [B, C, H, W], ``mean``, ``logvar``, ``z`` [B, D]."""
        cond = self._cond(labels) if self.conditional else None
        feats = x if self.enc_conv is None else self.enc_conv(x)
        feats = feats.flatten(1)
        if cond is not None:
            feats = torch.cat([feats, cond], dim=1)
        mean, logvar = _run_mlp(self.enc, feats, self.act).chunk(2, dim=1)
        if eps is None:
            eps = torch.randn_like(mean)
        z = mean + torch.exp(0.5 * logvar) * eps
        zc = z if cond is None else torch.cat([z, cond], dim=1)
        if self.dec is not None:
            logits = _run_mlp(self.dec, zc, self.act).view(x.shape)
        else:
            grid = self.act(self.dec_proj(zc)).view(x.shape[0], *self.grid)
            logits = self.dec_conv(grid)
        return {"logits": logits, "mean": mean, "logvar": logvar, "z": z}

    def loss(self, out: dict[str, torch.Tensor], x: torch.Tensor,
             weight: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(loss, scalar metrics) as the variant's zoo loss computes them."""
        b = x.shape[0]
        if self.config.reconstruction_loss == "bernoulli":
            rec = F.binary_cross_entropy_with_logits(out["logits"], x, reduction="sum") / b
        else:
            rec = torch.square(torch.sigmoid(out["logits"]) - x).sum() / b
        mean, logvar = out["mean"], out["logvar"]
        kl = 0.5 * (torch.exp(logvar) + mean.square() - 1.0 - logvar).sum() / b
        if self.capacity:
            loss = rec + self.config.gamma * torch.abs(kl - weight)
        else:
            loss = rec + weight * kl
        return loss, {"loss": loss.detach(), "reconstruction_loss": rec.detach(),
                      "kl_loss": kl.detach()}

    def forward(self, x: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor,
                eps: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(loss, scalar metrics) of one batch (see the module docstring)."""
        return self.loss(self.outputs(x, labels, eps), x, weight)


def _code_counts(indices: torch.Tensor, k: int) -> torch.Tensor:
    """How often each of ``k`` codes occurs in ``indices``: float32 [k]. (``torch.bincount``'s
    output size depends on the data, which breaks ``torch.compile``'s graph.)"""
    ones = torch.ones(indices.shape, dtype=torch.float32, device=indices.device)
    return torch.zeros(k, device=indices.device).index_add_(0, indices, ones)


class VQTwin(nn.Module):
    """Twin of zoo_vqvae's VQVAE: encoder, 1x1 conv to D, nearest of K codes (||z||^2 - 2 z e^T
    + ||e||^2, first index on ties), straight-through, 3x3 conv, activation, decoder; in
    training mode the EMA codebook step and dead-code reset (buffers, updated after the
    quantised output is taken, as zoo does). loss = reconstruction + beta_c * commitment."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        c = self.config = config
        k, d = c.num_embeddings, c.embedding_dim
        self.act = torch_activation(c.activation)
        self.encoder = ConvEncoder(c.channels, c.hidden, c.activation)
        self.pre_quantize = nn.Conv2d(c.hidden[-1], d, 1)
        self.post_quantize = nn.Conv2d(d, c.hidden[-1], 3, padding=1)
        self.decoder = ConvDecoder(c.hidden[-1], c.hidden, c.channels, c.activation)
        limit = math.sqrt(3.0 / d)
        init = torch.empty(k, d).uniform_(-limit, limit)
        self.register_buffer("codebook", init)
        self.register_buffer("cluster_size", torch.ones(k))
        self.register_buffer("embed_sum", init.clone())
        self.register_buffer("steps_since_used", torch.zeros(k, dtype=torch.int32))
        if not c.use_ema:
            raise ValueError("VQTwin mirrors the default EMA codebook only (use_ema=True)")

    def outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``logits`` [B, C, H, W], ``z_e`` and ``z_q`` [B, D, h, w], ``indices`` [B, h, w];
        updates the codebook buffers in training mode."""
        z_e = self.pre_quantize(self.encoder(x))
        b, d, h, w = z_e.shape
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, d)
        book = self.codebook
        dist = torch.addmm(book.square().sum(1)[None, :] + flat.square().sum(1, keepdim=True),
                           flat, book.T, alpha=-2.0).clamp_min_(0.0)
        indices = dist.argmin(dim=1)
        z_q = book[indices].view(b, h, w, d).permute(0, 3, 1, 2)
        if self.training:
            self._update(flat.detach(), indices)
        st = z_e + (z_q - z_e).detach()
        logits = self.decoder(self.act(self.post_quantize(st)))
        return {"logits": logits, "z_e": z_e, "z_q": z_q, "indices": indices.view(b, h, w)}

    @torch.no_grad()
    def _update(self, z: torch.Tensor, indices: torch.Tensor) -> None:
        c, k = self.config, self.config.num_embeddings
        counts = _code_counts(indices, k)
        steps = torch.where(counts > 0, 0, self.steps_since_used + 1)
        sums = torch.zeros_like(self.embed_sum).index_add_(0, indices, z)
        size = self.cluster_size * c.ema_decay + counts * (1.0 - c.ema_decay)
        embed = self.embed_sum * c.ema_decay + sums * (1.0 - c.ema_decay)
        n = size.sum()
        book = embed / ((size + c.ema_epsilon) / (n + k * c.ema_epsilon) * n)[:, None]
        if c.dead_code_threshold > 0:
            dead = steps >= c.dead_code_threshold
            rows = (torch.randperm(z.shape[0], device=z.device)[:k] if z.shape[0] >= k
                    else torch.randint(0, z.shape[0], (k,), device=z.device))
            candidates = z[rows]
            book = torch.where(dead[:, None], candidates, book)
            steps = torch.where(dead, 0, steps)
            size = torch.where(dead, 1.0, size)
            embed = torch.where(dead[:, None], candidates, embed)
        self.steps_since_used.copy_(steps)
        self.cluster_size.copy_(size)
        self.embed_sum.copy_(embed)
        self.codebook.copy_(book)

    def loss(self, out: dict[str, torch.Tensor],
             x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(loss, scalar metrics) as ``zoo_vqvae.loss.vqvae_loss`` computes them."""
        b, k = x.shape[0], self.config.num_embeddings
        if self.config.reconstruction_loss == "bernoulli":
            rec = F.binary_cross_entropy_with_logits(out["logits"], x, reduction="sum") / b
        else:
            rec = torch.square(torch.sigmoid(out["logits"]) - x).sum() / b
        commit = torch.square(out["z_e"] - out["z_q"].detach()).sum() / b
        loss = rec + self.config.commitment_cost * commit
        counts = _code_counts(out["indices"].flatten(), k)
        p = counts / counts.sum().clamp_min(1.0)
        perplexity = torch.exp(-torch.special.xlogy(p, p).sum())
        return loss, {"loss": loss.detach(), "reconstruction_loss": rec.detach(),
                      "commitment_loss": commit.detach(), "perplexity": perplexity,
                      "codes_used": (counts > 0).float().mean()}

    def forward(self, x: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor,
                eps: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(loss, scalar metrics) of one batch; ``labels``, ``weight`` and ``eps`` are unused."""
        return self.loss(self.outputs(x), x)


def build_twin(variant: str, config: Any) -> nn.Module:
    """The twin of ``variant`` built from ``config`` (fresh weights: copy zoo's in with
    :func:`twin_weights.load_zoo_weights`)."""
    if variant in ("beta-vae", "beta-vae-capacity"):
        return GaussianTwin(config)
    if variant == "cvae":
        return GaussianTwin(config, conditional=True)
    if variant == "vqvae":
        return VQTwin(config)
    raise ValueError(f"no PyTorch twin of variant {variant!r}")
