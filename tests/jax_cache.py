"""A module-scoped JAX compilation cache for test modules whose runs repeat one program.

Import the fixture into a test module (``from jax_cache import compilation_cache``): its runs then
compile each program once. The cache folder is private to the session and the previous settings
come back when the module ends.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", autouse=True)
def compilation_cache(tmp_path_factory):
    import jax
    from jax.experimental.compilation_cache import compilation_cache as cc

    names = (
        "jax_compilation_cache_dir",
        "jax_persistent_cache_min_compile_time_secs",
        "jax_persistent_cache_min_entry_size_bytes",
    )
    old = {name: getattr(jax.config, name) for name in names}
    cc.reset_cache()
    jax.config.update(names[0], str(tmp_path_factory.mktemp("jax-cache")))
    jax.config.update(names[1], 0)
    jax.config.update(names[2], 0)
    yield
    for name, value in old.items():
        jax.config.update(name, value)
    cc.reset_cache()
