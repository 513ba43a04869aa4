from __future__ import annotations

import dataclasses
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoo.config import Config, ImageModelConfig, parse_overrides
from zoo.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Example(Config):
    width: int = 4
    rate: float = 0.5
    flag: bool = False
    mode: Literal["a", "b"] = "a"
    sizes: tuple[int, ...] = (1, 2)
    maybe: int | None = None


def test_python_overrides_are_type_checked() -> None:
    cfg = Example().replace(width=8, rate=1, sizes=[3, 4])
    assert cfg.width == 8 and cfg.rate == 1.0 and isinstance(cfg.rate, float)
    assert cfg.sizes == (3, 4)
    with pytest.raises(ConfigError, match=r"Example\.width: expected int, got 'x'"):
        Example().replace(width="x")
    with pytest.raises(ConfigError, match=r"Example\.flag"):
        Example().replace(flag=1)
    with pytest.raises(ConfigError, match=r"Example\.mode: expected one of 'a', 'b'"):
        Example().replace(mode="c")
    with pytest.raises(ConfigError, match=r"Example\.width"):
        Example().replace(width=True)


def test_unknown_key_names_the_field_and_suggests() -> None:
    with pytest.raises(ConfigError, match=r"'widht' \(did you mean 'width'\?\)"):
        Example().replace(widht=3)
    with pytest.raises(ConfigError, match="unknown config key"):
        Example.from_dict({"nope": 1})


def test_string_overrides_parse_by_type() -> None:
    cfg = Example().replace_from_strings(
        parse_overrides(["width=16", "rate=1e-3", "flag=true", "mode=b", "sizes=8,16,32",
                         "maybe=none"])
    )
    assert cfg == Example(width=16, rate=1e-3, flag=True, mode="b", sizes=(8, 16, 32))
    assert Example().replace_from_strings({"sizes": "[4, 5]", "maybe": "7"}).sizes == (4, 5)
    with pytest.raises(ConfigError, match="width"):
        Example().replace_from_strings({"width": "1.5"})
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["width"])
    with pytest.raises(ConfigError, match="given twice"):
        parse_overrides(["width=1", "width=2"])


def test_from_json_errors() -> None:
    with pytest.raises(ConfigError, match="not valid JSON"):
        Example.from_json("{")
    with pytest.raises(ConfigError, match="expected a JSON object"):
        Example.from_dict([1, 2])  # type: ignore[arg-type]


@given(
    width=st.integers(-10**6, 10**6),
    rate=st.floats(allow_nan=False, allow_infinity=False),
    flag=st.booleans(),
    mode=st.sampled_from(["a", "b"]),
    sizes=st.lists(st.integers(0, 1000), max_size=5).map(tuple),
    maybe=st.none() | st.integers(),
)
def test_json_round_trip(width, rate, flag, mode, sizes, maybe) -> None:
    cfg = Example(width=width, rate=rate, flag=flag, mode=mode, sizes=sizes, maybe=maybe)
    assert Example.from_json(cfg.to_json()) == cfg
    strings = {k: ",".join(map(str, v)) if isinstance(v, tuple) else str(v)
               for k, v in cfg.to_dict().items() if k != "sizes" or v}
    assert Example().replace_from_strings(strings).replace(sizes=cfg.sizes) == cfg


def test_image_config_validation() -> None:
    with pytest.raises(ConfigError, match="divisible by 8"):
        ImageModelConfig(architecture="cnn", hidden_dims=(8, 8, 8), height=28, width=28)
    with pytest.raises(ConfigError, match="hidden_dims"):
        ImageModelConfig(hidden_dims=())
    with pytest.raises(ConfigError, match="channels"):
        ImageModelConfig(channels=0)
    assert ImageModelConfig(architecture="cnn", hidden_dims=(8, 8)).image_shape == (28, 28, 1)


@pytest.mark.parametrize("annotation", [tuple, tuple | None, list[int], dict])
def test_unsupported_annotation_is_named_with_the_supported_ones(annotation) -> None:
    """A plugin author's bare ``tuple`` once read "expected tuple, got (16,)"."""
    field = ("sizes", annotation, dataclasses.field(default=(16,)))
    cls = dataclasses.make_dataclass("Cfg", [field], bases=(Config,), frozen=True)
    with pytest.raises(ConfigError, match=r"Cfg\.sizes: zoo configs cannot check the "
                                              r"annotation .*tuple\[T, \.\.\.\]"):
        cls()
