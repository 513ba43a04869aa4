"""The architecture holds: every import points down the layers of CONTRIBUTING.md ("Architecture"),
the core never imports a plugin, no module imports itself back through others, in-function
imports are kept for heavy libraries, and modules stay small."""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "zoo"
#: Third-party libraries heavy enough to import inside the function that needs them.
HEAVY = {"jax", "flax", "optax", "numpy", "matplotlib", "sklearn", "huggingface_hub", "httpx2",
         "safetensors", "PIL", "tqdm", "yaml", "joblib", "scipy"}
MAX_LINES = 300
#: Modules allowed to import light zoo modules inside functions, and why.
LAZY_BY_DESIGN = {
    "zoo.pytest_plugin": "pytest loads it in every session of every project that installs "
                         "vae-zoo; it imports zoo only when a fixture is used",
}


def test_import_linter_contracts_hold() -> None:
    """pyproject.toml's [tool.importlinter] contracts: the layers, and no plugin imports."""
    cmd = [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()",
           "--no-cache", "--no-logo"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


@functools.cache
def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("zoo", cache_dir=None)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in graph.modules:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(
                        child)))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_loops_between_modules() -> None:
    """Module by module (in-function imports included), the import graph of zoo is acyclic."""
    assert _cycles(_graph()) == []


def test_the_loop_detector_finds_a_loop() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.z")
    graph.add_import(importer="a.z", imported="a.x")
    assert _cycles(graph) == [["a.x", "a.y", "a.z"]]


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _imports(name: str, path: Path) -> list[tuple[str, bool, int]]:
    """(imported module, inside a function?, line) for every import statement of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    modules = _modules()
    found: list[tuple[str, bool, int]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((a.name, in_function, child.lineno) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - child.level + 1]
                    base = ".".join(parts + ([child.module] if child.module else []))
                for alias in child.names:
                    full = f"{base}.{alias.name}"
                    found.append((full if full in modules else base, in_function, child.lineno))
            visit(child, inside)

    visit(tree, False)
    return found


@functools.cache
def _is_heavy(name: str) -> bool:
    """Whether importing zoo module ``name`` imports a heavy library at module level."""
    modules = _modules()
    for imported, in_function, _ in _imports(name, modules[name]):
        if in_function:
            continue
        if imported.split(".")[0] in HEAVY:
            return True
        if imported in modules and imported != name and _is_heavy(imported):
            return True
    return False


def test_in_function_imports_are_only_for_heavy_libraries() -> None:
    """An import inside a function must bring in something heavy (JAX, matplotlib, ...); a
    light zoo module belongs at the top, where import-linter and readers see it."""
    modules = _modules()
    light = [f"{name}:{line} imports {imported} inside a function; import it at the top"
             for name, path in modules.items() if name not in LAZY_BY_DESIGN
             for imported, in_function, line in _imports(name, path)
             if in_function and imported in modules and not _is_heavy(imported)]
    assert light == []


def test_modules_stay_small_or_say_why() -> None:
    """No module over ~300 lines without a reason stated in its docstring
    ("Longer than 300 lines: ...")."""
    long = []
    for name, path in _modules().items():
        lines = path.read_text(encoding="utf-8").count("\n")
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if lines > MAX_LINES and "Longer than 300 lines:" not in doc:
            long.append(f"{name}: {lines} lines")
    assert long == []


def _fresh(code: str, **env: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.mark.parametrize("heavy", ["huggingface_hub", "matplotlib", "sklearn"])
def test_import_zoo_is_light(heavy: str) -> None:
    assert _fresh(f"import sys, zoo; print({heavy!r} in sys.modules)") == "False"


def test_loading_a_bundled_model_imports_no_huggingface_hub() -> None:
    """The core's own bundled classifier-mnist: resolved from the package, hash-checked, loaded
    strictly, with no plugin installed or needed, and huggingface_hub never imported."""
    code = ("import sys, zoo\n"
            "m = zoo.load('classifier-mnist')\n"
            "print(m.zoo_source, sorted(k for k in ('huggingface_hub', 'matplotlib', 'sklearn')"
            " if k in sys.modules))")
    assert _fresh(code, ZOO_DISABLE_PLUGIN_AUTOLOAD="1") == "bundled []"


def test_loading_a_plugins_bundled_model_imports_no_huggingface_hub() -> None:
    """The same for a plugin's model (vqvae-mnist), its plugin registered explicitly."""
    code = ("import sys, zoo\n"
            "from zoo.plugins import get_manager\n"
            "import zoo_vqvae.plugin as p\n"
            "get_manager().register(p, name='vqvae')\n"
            "m = zoo.load('vqvae-mnist')\n"
            "print(m.zoo_source, 'huggingface_hub' in sys.modules)")
    assert _fresh(code, ZOO_DISABLE_PLUGIN_AUTOLOAD="1") == "bundled False"


def test_loading_a_plugins_model_imports_no_other_plugin() -> None:
    """``zoo.load('vqvae-mnist')`` as a user runs it, with the installed first-party plugins
    discovered from their entry points: the plugin index imports zoo_vqvae alone, and nothing
    imports matplotlib, sklearn, huggingface_hub or the built-in classifier's JAX modules."""
    roots = {ep.value.partition(":")[0].split(".")[0]
             for ep in importlib.metadata.entry_points(group="zoo")}
    if "zoo_vqvae" not in roots or roots == {"zoo_vqvae"}:
        pytest.skip("needs zoo-vqvae and another zoo plugin installed")
    unneeded = sorted(roots - {"zoo_vqvae"} | {"huggingface_hub", "matplotlib", "sklearn"})
    code = ("import sys, zoo\n"
            "m = zoo.load('vqvae-mnist')\n"
            f"print(m.zoo_source, sorted(m for m in sys.modules if m.split('.')[0] in {unneeded!r}"
            " or m.startswith(('zoo.classifier.model', 'zoo.classifier.loss'))))")
    env = {k: v for k, v in os.environ.items()
           if k not in ("ZOO_PLUGINS", "ZOO_DISABLE_PLUGIN_AUTOLOAD")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env={**env, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "bundled []"
