"""Copy a zoo model's parameters (and a VQ codebook's state) into its PyTorch twin.

The layouts differ, the functions must not, so the copy permutes:

- conv kernels HWIO -> OIHW;
- dense kernels [in, out] -> ``nn.Linear`` weights [out, in];
- a dense layer that reads a flattened image or feature map: its input rows from zoo's NHWC
  flattening order (h, w, c) to PyTorch's NCHW order (c, h, w); one that writes an image or a
  feature grid: its output rows likewise;
- the 3x3 convolution before each pixel shuffle: its output channels from zoo's channel-last
  shuffle (channel (i * 2 + j) * C + c goes to pixel offset (i, j), channel c) to
  ``F.pixel_shuffle``'s channel-first order (channel c * 4 + i * 2 + j).

:func:`zoo_tensors` turns any zoo model of these networks (or a model holding gradients in
place of parameters) into the twin's ``state_dict`` names and layouts, so gradients are compared
through the very same mapping.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["load_zoo_weights", "zoo_tensors"]


def _value(var: Any) -> np.ndarray:
    return np.asarray(var.get_value() if hasattr(var, "get_value") else var, np.float32)


def _conv(conv: Any, shuffle: int = 0) -> dict[str, np.ndarray]:
    """An nnx.Conv -> (weight OIHW, bias); ``shuffle``: the pixel-shuffle channel reorder."""
    k, b = _value(conv.kernel), _value(conv.bias)
    if shuffle:
        kh, kw, cin, cout = k.shape
        c = cout // (shuffle * shuffle)
        k = k.reshape(kh, kw, cin, shuffle * shuffle, c).swapaxes(3, 4).reshape(kh, kw, cin, -1)
        b = b.reshape(shuffle * shuffle, c).T.reshape(-1)
    return {"weight": k.transpose(3, 2, 0, 1), "bias": b}


def _hwc_to_chw(rows: np.ndarray, hwc: tuple[int, int, int]) -> np.ndarray:
    """Reorder the leading (h, w, c)-flattened axis of ``rows`` to (c, h, w) order."""
    h, w, c = hwc
    n = h * w * c
    head = rows[:n].reshape(h, w, c, *rows.shape[1:]).transpose(2, 0, 1, *range(3, rows.ndim + 2))
    return np.concatenate([head.reshape(n, *rows.shape[1:]), rows[n:]], axis=0)


def _linear(dense: Any, *, in_hwc: tuple | None = None,
            out_hwc: tuple | None = None) -> dict[str, np.ndarray]:
    """An nnx.Linear -> (weight [out, in], bias); the first ``prod(in_hwc)`` inputs and the
    outputs are reordered from (h, w, c) to (c, h, w) when given."""
    k, b = _value(dense.kernel), _value(dense.bias)
    if in_hwc is not None:
        k = _hwc_to_chw(k, in_hwc)
    if out_hwc is not None:
        k = _hwc_to_chw(k.T, out_hwc).T
        b = _hwc_to_chw(b, out_hwc)
    return {"weight": np.ascontiguousarray(k.T), "bias": b}


def _put(out: dict[str, np.ndarray], prefix: str, tensors: dict[str, np.ndarray]) -> None:
    for name, value in tensors.items():
        out[f"{prefix}.{name}"] = value


def _conv_stack(out: dict, prefix: str, encoder: Any = None, decoder: Any = None) -> None:
    if encoder is not None:
        for i, conv in enumerate(encoder.convs):
            _put(out, f"{prefix}.convs.{i}", _conv(conv))
    if decoder is not None:
        for i, up in enumerate(decoder.ups):
            _put(out, f"{prefix}.ups.{i}", _conv(up, shuffle=2))
        _put(out, f"{prefix}.out", _conv(decoder.out))


def _gaussian(model: Any) -> dict[str, np.ndarray]:
    c = model.config
    h, w, ch = c.image_shape
    out: dict[str, np.ndarray] = {}
    if getattr(model, "label_embed", None) is not None:
        out["label_embed.weight"] = _value(model.label_embed.embedding)
    enc, dec = model.encoder, model.decoder
    if enc.conv is None:
        layers = list(enc.head.layers)
        for i, layer in enumerate(layers):
            _put(out, f"enc.{i}", _linear(layer, in_hwc=(h, w, ch) if i == 0 else None))
        layers = list(dec.mlp.layers)
        last = len(layers) - 1
        for i, layer in enumerate(layers):
            _put(out, f"dec.{i}", _linear(layer, out_hwc=(h, w, ch) if i == last else None))
    else:
        f = 2 ** len(c.hidden)
        grid = (h // f, w // f, c.hidden[-1])
        _conv_stack(out, "enc_conv", encoder=enc.conv)
        _put(out, "enc.0", _linear(enc.head.layers[0], in_hwc=grid))
        _put(out, "dec_proj", _linear(dec.proj, out_hwc=grid))
        _conv_stack(out, "dec_conv", decoder=dec.conv)
    return out


def _vq(model: Any) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    _conv_stack(out, "encoder", encoder=model.encoder)
    _put(out, "pre_quantize", _conv(model.pre_quantize))
    _put(out, "post_quantize", _conv(model.post_quantize))
    _conv_stack(out, "decoder", decoder=model.decoder)
    q = model.quantizer
    for name in ("codebook", "cluster_size", "embed_sum"):
        out[name] = _value(getattr(q, name))
    out["steps_since_used"] = np.asarray(q.steps_since_used.get_value(), np.int32)
    return out


def zoo_tensors(model: Any) -> dict[str, np.ndarray]:
    """The twin's ``state_dict`` (names -> numpy arrays in torch layout) of a zoo model."""
    return _vq(model) if hasattr(model, "quantizer") else _gaussian(model)


def load_zoo_weights(twin: Any, model: Any) -> None:
    """Copy ``model``'s parameters and state into ``twin`` (every twin entry must be set)."""
    import torch

    tensors = {k: torch.from_numpy(np.array(v)) for k, v in zoo_tensors(model).items()}
    own = twin.state_dict()
    missing, extra = sorted(set(own) - set(tensors)), sorted(set(tensors) - set(own))
    if missing or extra:
        raise KeyError(f"twin/zoo mismatch: twin-only {missing}, zoo-only {extra}")
    for name, value in tensors.items():
        if tuple(own[name].shape) != tuple(value.shape):
            raise ValueError(f"{name}: twin {tuple(own[name].shape)} vs zoo {tuple(value.shape)}")
    twin.load_state_dict(tensors)
