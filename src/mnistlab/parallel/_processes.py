"""Several processes, on one host or many: JAX's distributed runtime, started once per process.

Why these rules:
- JAX detects SLURM itself (``srun`` sets the task count, rank and node list), so inside an
  ``srun`` step of several tasks nothing needs to be given. Elsewhere the three values come from
  ``--coordinator HOST:PORT --num-processes N --process-id I``, else from the environment
  variables JAX's own docs use (``JAX_COORDINATOR_ADDRESS``, ``JAX_NUM_PROCESSES``,
  ``JAX_PROCESS_ID``).
- On CPU the processes exchange arrays through gloo (``jax_cpu_collectives_implementation``);
  GPUs use NCCL on their own.
- Timeouts instead of hangs: a coordinator that never answers, or a process that never joins,
  ends the wait after ``timeout`` seconds with one line saying which; a process that dies later
  is noticed by the others' heartbeats, which stop them.
- Why a watchdog thread for the join: when the join times out, JAX's C++ client aborts the whole
  process (SIGABRT and a stack trace) instead of raising, so nothing in Python could catch it.
  The watchdog fires just before JAX's own deadline, writes the one-line error and exits with 1;
  nothing has been written by then.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass

from .._errors import ConfigError, MnistlabError

_ENV = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")


class DistributedError(MnistlabError, RuntimeError):
    """The processes of a multi-process run could not find or keep each other (exit 1)."""


@dataclass(frozen=True)
class Coordinator:
    """Where process 0 listens, how many processes there are, and which one this is."""

    address: str
    num_processes: int
    process_id: int


def _int(name: str, value) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number; got {value!r}") from None


def coordinator_from_env(
    address: str | None = None, num_processes: int | None = None, process_id: int | None = None
) -> Coordinator | None:
    """The coordinator from the given values, else the ``JAX_*`` environment variables; None when
    neither names one (one process, or SLURM's own detection). All three or none."""
    address = address or os.environ.get(_ENV[0]) or None
    n = num_processes if num_processes is not None else _int(_ENV[1], os.environ.get(_ENV[1]))
    i = process_id if process_id is not None else _int(_ENV[2], os.environ.get(_ENV[2]))
    given = {"--coordinator": address, "--num-processes": n, "--process-id": i}
    if all(v is None for v in given.values()):
        return None
    missing = [k for k, v in given.items() if v is None]
    if missing:
        raise ConfigError(
            f"a multi-process run needs --coordinator HOST:PORT, --num-processes N and --process-id I "
            f"(or {', '.join(_ENV)}); {', '.join(missing)} is missing"
        )
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"--coordinator must be HOST:PORT, e.g. 10.0.0.1:1234; got {address!r}")
    if n < 1 or not 0 <= i < n:
        raise ConfigError(f"--process-id must be in [0, {n - 1}] for --num-processes {n}; got process id {i}")
    return Coordinator(address, n, i)


def _slurm_step_of_several() -> bool:
    """Inside ``srun`` with several tasks: where JAX's SLURM detection applies."""
    # The variables JAX's SLURM detection reads; SLURM_STEP_NODELIST exists only inside srun.
    needed = ("SLURM_JOB_ID", "SLURM_STEP_NODELIST", "SLURM_NTASKS", "SLURM_PROCID", "SLURM_LOCALID")
    return (
        all(v in os.environ for v in needed) and (_int("SLURM_NTASKS", os.environ["SLURM_NTASKS"]) or 1) > 1
    )


def initialize(coordinator: Coordinator | None = None, *, timeout: int | None = None) -> bool:
    """Join the other processes of a run, before anything else uses JAX; True when distributed.

    With ``coordinator`` (see :func:`coordinator_from_env`): exactly that. Without one, inside an
    ``srun`` step of several tasks: JAX's SLURM detection. Otherwise nothing: one process.
    ``timeout``: seconds to wait for the others (default ``$MNISTLAB_JOIN_TIMEOUT``, else 120).
    Calling it again in the same process does nothing.
    """
    import jax

    if timeout is None:
        timeout = _int("MNISTLAB_JOIN_TIMEOUT", os.environ.get("MNISTLAB_JOIN_TIMEOUT")) or 120

    if jax.distributed.is_initialized():
        return True
    auto = coordinator is None and _slurm_step_of_several()
    if coordinator is None and not auto:
        return False
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    kwargs = {}
    if coordinator is not None:
        kwargs = {
            "coordinator_address": coordinator.address,
            "num_processes": coordinator.num_processes,
            "process_id": coordinator.process_id,
        }
    who = (
        f"process {coordinator.process_id} of {coordinator.num_processes} at {coordinator.address}"
        if coordinator
        else "the SLURM tasks"
    )
    advice = (
        "check that every process was started with the same --coordinator and --num-processes "
        "and that process 0 is reachable"
    )
    message = f"{who} could not join the run within {timeout} s; {advice}"
    watchdog = threading.Timer(timeout, _give_up, [message])
    watchdog.daemon = True
    watchdog.start()
    try:
        jax.distributed.initialize(
            **kwargs, initialization_timeout=timeout + 10, heartbeat_timeout_seconds=max(timeout, 100)
        )
    except Exception as exc:  # JAX raises its runtime error type; say what failed in one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DistributedError(f"{who} could not join the run ({first}); {advice}") from None
    finally:
        watchdog.cancel()
    return True


def _give_up(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()
    os._exit(1)  # the main thread is blocked inside JAX's C++ join: only an exit ends it


def is_primary() -> bool:
    """True in process 0 (or the only process): the one that writes the run folder and prints."""
    import jax

    return jax.process_index() == 0


def process_count() -> int:
    import jax

    return jax.process_count()
