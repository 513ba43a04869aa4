"""The conformance kit's error type and the helpers every rule uses."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator

from zoo.registry import PretrainedSpec, VariantSpec


class ConformanceError(AssertionError):
    """A variant broke a rule of the plugin contract; :attr:`rule` names the rule."""

    def __init__(self, message: str, rule: str = "") -> None:
        super().__init__(message)
        self.rule = rule


def _fail(rule: str, what: str, fix: str) -> ConformanceError:
    return ConformanceError(f"[{rule}] {what}. Fix: {fix}", rule)


@contextlib.contextmanager
def _rule(rule: str, what: str, fix: str) -> Iterator[None]:
    """Turn an unexpected exception inside the block into a ConformanceError of ``rule``."""
    try:
        yield
    except ConformanceError:
        raise
    except Exception as exc:
        detail = "".join(traceback.format_exception_only(exc)).strip().splitlines()[0]
        if len(detail) > 300:
            detail = detail[:297] + "..."
        raise _fail(rule, f"{what} raised {detail} (full error chained above)", fix) from exc


@contextlib.contextmanager
def _about(who: str) -> Iterator[None]:
    """Prefix the message of a ConformanceError raised inside with ``who``."""
    try:
        yield
    except ConformanceError as exc:
        raise ConformanceError(f"{who}: {exc}", exc.rule) from exc


def _who(spec: VariantSpec | PretrainedSpec) -> str:
    kind = "variant" if isinstance(spec, VariantSpec) else "pretrained model"
    return f"{kind} {spec.name!r}" + (f" (plugin {spec.plugin!r})" if spec.plugin else "")

