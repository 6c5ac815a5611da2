"""The command line's persistent cache of compiled programs (:func:`use_compile_cache`).

Apart from ``_compute``: this runs before every command, ``--help`` included, so it imports
nothing beyond the standard library until it is needed.
"""

from __future__ import annotations

import os

COMPILE_CACHE_ENV = "MNISTLAB_COMPILE_CACHE"  # "0": no cache; a folder: the cache there
COMPILE_CACHE_MAX_BYTES = 1 << 30  # least recently used programs go beyond this
COMPILE_CACHE_MIN_SECONDS = 0.3  # programs quicker to compile than this are not worth a file


def use_compile_cache(environ=os.environ) -> str | None:
    """Point JAX's persistent compilation cache at mnistlab's folder, unless the user chose
    otherwise; returns the folder (None: no cache). Called by the command line only, before JAX
    is imported: a library must not change its caller's JAX settings.

    Why: on a CPU, compiling a CNN's epoch program takes seconds, and every command is a new
    process, so running a model again (``train`` with another seed, ``report``, ``evaluate``, a
    study resumed) compiled the same programs again. JAX stores compiled programs on disk when
    told where, and reuses one only when its key matches (the program, JAX's version, the
    backend and the compile options), so results are those of compiling it.

    Set through the environment: JAX reads its ``JAX_*`` variables at import, and worker
    processes (the report's scoring) inherit them. Left alone when ``JAX_COMPILATION_CACHE_DIR``
    is set or ``MNISTLAB_COMPILE_CACHE=0``; ``MNISTLAB_COMPILE_CACHE=<folder>`` moves it. The
    default folder is per kind of processor (its model and feature flags): a program compiled
    for one CPU's instructions must not run on another that shares the home folder. At most
    :data:`COMPILE_CACHE_MAX_BYTES`, the least recently used programs evicted first.
    """
    if "JAX_COMPILATION_CACHE_DIR" in environ:
        return environ["JAX_COMPILATION_CACHE_DIR"] or None
    choice = environ.get(COMPILE_CACHE_ENV, "").strip()
    if choice.lower() in ("0", "off", "no", "false"):
        return None
    if choice:
        folder = choice
    else:
        import platformdirs

        root = platformdirs.user_cache_dir("mnistlab", appauthor=False)
        folder = os.path.join(root, "xla", _processor_kind())
    environ["JAX_COMPILATION_CACHE_DIR"] = folder
    environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", str(COMPILE_CACHE_MIN_SECONDS))
    environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(COMPILE_CACHE_MAX_BYTES))
    return folder


def _processor_kind() -> str:
    """A short name for this kind of processor: its architecture and a hash of its model and
    feature flags (``x86_64-1f2e3d4c``)."""
    import hashlib
    import platform

    facts = [platform.machine(), platform.processor()]
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            facts += sorted(
                {line.strip() for line in f if line.startswith(("model name", "flags", "Features"))}
            )
    except OSError:
        pass
    return f"{platform.machine() or 'cpu'}-{hashlib.sha256(repr(facts).encode()).hexdigest()[:8]}"
