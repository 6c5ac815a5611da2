"""The shape of the package: layers that only import downwards, public faces between packages,
modules small enough to read. These read the source (no import), so they are fast and exact."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "mnistlab"
MAX_LINES = 400

# Lower layers never import higher ones. The top-level private modules (_errors, _fs, _checks,
# _compute, _images) are the shared internal layer every package may use.
LAYERS = [
    {"_errors", "_fs", "_checks", "_compute", "_compile_cache", "_images", "_lazy", "_reprs", "_status"},
    {"data", "models", "plots", "optim", "parallel"},
    {"runs"},
    {"train"},
    {"evaluate", "scratch"},
    {"report", "studies", "sklearn", "tensorboard", "export", "speedrun"},
    {"serve"},
    {"cli", "__main__"},
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((".".join(parts), path))
    return out


def _imports(module: str, path: Path) -> list[tuple[int, str]]:
    """Every module ``module`` imports (at any depth of the file), as absolute dotted names."""
    is_package = path.name == "__init__.py"
    package = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # `from ..train import _checkpoint` imports a module by name: count it too.
            found += [
                (node.lineno, f"{target}.{a.name}")
                for a in node.names
                if a.name.startswith("_") and not a.name.startswith("__")
            ]
    return [(line, name) for line, name in found if name == "mnistlab" or name.startswith("mnistlab.")]


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


MODULES = _modules()


def test_the_walk_finds_the_package():
    names = {m for m, _ in MODULES}
    assert {"mnistlab.cli", "mnistlab.train", "mnistlab.runs", "mnistlab.data"} <= names
    assert len(names) > 40


def test_no_module_imports_another_packages_private_module():
    offences = []
    for module, path in MODULES:
        for line, target in _imports(module, path):
            parts = target.split(".")
            # mnistlab.<pkg>.<_private>...: private to <pkg>, whatever comes after.
            private = next(
                (i for i, p in enumerate(parts[2:], start=2) if p.startswith("_") and not p.startswith("__")),
                None,
            )
            if private is None:
                continue
            owner = ".".join(parts[:private])
            if not (module == owner or module.startswith(owner + ".")):
                offences.append(f"{path.relative_to(SRC.parent)}:{line} imports {target}")
    assert not offences, "cross-package private imports:\n" + "\n".join(offences)


def test_no_package_imports_a_higher_layer():
    unknown = sorted({_package(m) for m, _ in MODULES} - set(LAYER) - {""})
    assert not unknown, f"packages missing from LAYERS: {unknown}"
    offences = []
    for module, path in MODULES:
        here = _package(module)
        if not here:  # mnistlab/__init__.py: the public face, may re-export anything
            continue
        for line, target in _imports(module, path):
            there = _package(target)
            if there and there != here and LAYER[there] > LAYER[here]:
                offences.append(f"{path.relative_to(SRC.parent)}:{line} ({here}) imports {target} ({there})")
    assert not offences, "upward imports:\n" + "\n".join(offences)


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[m for m, _ in MODULES])
def test_every_module_is_small_enough_to_read(module, path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines; split it (at most {MAX_LINES})"


def test_the_private_import_check_catches_an_offence(tmp_path):
    """The checker itself: a planted cross-package private import is found."""
    bad = tmp_path / "x.py"
    bad.write_text("from ..train._engine import Engine\nfrom ..train import _losses\nfrom .._fs import a\n")
    found = [t for _, t in _imports("mnistlab.evaluate.x", bad)]
    assert "mnistlab.train._engine" in found
    assert "mnistlab.train._losses" in found
    assert "mnistlab._fs" in found
