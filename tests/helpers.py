"""Helpers the tests share: the real entry point in-process, the one check every user error must
pass, and cheap compilation for tiny programs."""

from __future__ import annotations

import contextlib


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """``mnistlab ARGS`` through :func:`mnistlab.cli.main`: exit code, stdout, stderr."""
    from mnistlab.cli import main

    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(code: int, err: str, *fragments: str, exit: int = 2) -> None:
    """One line on stderr, ``error: ...``, no traceback, naming each fragment; exit 2 for a usage
    error (a bad option value or name), 1 for a runtime failure (data or a file missing or bad)."""
    assert code == exit, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    for f in fragments:
        assert f in lines[0], f"{f!r} not in {lines[0]!r}"


@contextlib.contextmanager
def cheap_compilation():
    """Skip most XLA optimisation inside: for tiny programs compiled once and run briefly.

    What the programs compute is the same; only how fast. The flag is part of the compilation
    cache key, so nothing compiled here is reused outside.
    """
    import jax

    previous = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", True)
    try:
        yield
    finally:
        jax.config.update("jax_disable_most_optimizations", previous)
