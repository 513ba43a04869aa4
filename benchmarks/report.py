"""What the benchmark scripts print: the machine and versions header, and aligned tables."""

from __future__ import annotations

import datetime
import os
import platform
from collections.abc import Sequence
from typing import Any

__all__ = ["cpu_count", "environment", "header_lines", "table"]


def cpu_count() -> int:
    """The cores this process may run on (``nproc``)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(with_torch: bool = True) -> dict[str, Any]:
    """Date, machine, core count and the versions of Python, jax, flax and (if asked and
    installed) torch."""
    import flax
    import jax

    env: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(), "cpus": cpu_count(), "python": platform.python_version(),
        "jax": jax.__version__, "flax": flax.__version__,
        "jax_backend": jax.default_backend(),
    }
    if with_torch:
        try:
            import torch
        except ImportError:
            env["torch"] = None
        else:
            env["torch"] = torch.__version__
            env["torch_threads"] = torch.get_num_threads()
    return env


def header_lines(env: dict[str, Any]) -> list[str]:
    """The header printed above a table."""
    torch = ""
    if "torch" in env:
        torch = (f", torch {env['torch']} ({env.get('torch_threads')} threads)" if env["torch"]
                 else ", torch not installed")
    return [f"{env['date']}; {env['cpu']}, {env['cpus']} CPUs",
            f"python {env['python']}, jax {env['jax']} ({env['jax_backend']}), "
            f"flax {env['flax']}{torch}"]


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """An aligned text table: the first column left-aligned, the others right-aligned."""
    cells = [list(map(str, headers))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    out = [line(cells[0]), line(["-" * w for w in widths])]
    return "\n".join(out + [line(r) for r in cells[1:]])
