"""``mnistlab devices``: the devices JAX sees and the mesh a run would use; the multi-process options.

Why a command of its own: before a long multi-GPU or cluster run, one cheap command shows what
each process sees (``srun mnistlab devices`` prints one line per process, each saying its
index) and how ``--devices``/``--mesh`` would split a run's seeds and batches.
"""

from __future__ import annotations

from typing import Annotated

from ._app import Json, app, console, opt, print_json, user_errors

_PANEL = "Devices"

Coordinator = Annotated[
    str | None,
    opt(
        "Several processes: HOST:PORT of process 0 (else $JAX_COORDINATOR_ADDRESS; under srun, detected).",
        "--coordinator",
        rich_help_panel=_PANEL,
    ),
]
NumProcesses = Annotated[
    int | None,
    opt("Several processes: how many (else $JAX_NUM_PROCESSES).", "--num-processes", rich_help_panel=_PANEL),
]
ProcessId = Annotated[
    int | None,
    opt(
        "Several processes: this one's index, 0.. (else $JAX_PROCESS_ID).",
        "--process-id",
        rich_help_panel=_PANEL,
    ),
]


def start_processes(coordinator: str | None, num_processes: int | None, process_id: int | None) -> bool:
    """Join the run's other processes when there are any (before anything uses a device).

    Joined, the native libraries' chatter (gloo prints ``[Gloo] Rank 0 is connected ...`` to the
    C-level stdout) is sent to stderr, while Python's ``sys.stdout`` keeps the real stdout: what
    ``--json`` prints stays parseable, and a process other than 0 prints nothing there.
    """
    import os
    import sys

    from ..parallel import coordinator_from_env, initialize

    joined = initialize(coordinator_from_env(coordinator, num_processes, process_id))
    if joined and not getattr(sys.stdout, "_mnistlab_real_stdout", False):
        sys.stdout.flush()
        real = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = os.fdopen(real, "w", buffering=1)
        sys.stdout._mnistlab_real_stdout = True
    return joined


@app.command("devices")
@user_errors
def devices_cmd(
    devices: Annotated[str, opt("As mnistlab train's --devices: all or N.", "--devices")] = "all",
    mesh: Annotated[str | None, opt("As mnistlab train's --mesh: MEMBERSxDATA.", "--mesh")] = None,
    seeds: Annotated[int, opt("The number of seeds (members) the mesh is planned for.", "--seeds")] = 1,
    coordinator: Coordinator = None,
    num_processes: NumProcesses = None,
    process_id: ProcessId = None,
    as_json: Json = False,
):
    """Show the devices JAX sees (in this process and in all) and the mesh a run would use."""
    import jax

    from .._checks import Interval, NoneOK, check
    from ..parallel import DEVICES, MESH, plan

    start_processes(coordinator, num_processes, process_id)
    check("devices", devices, DEVICES, flag="--devices")
    check("mesh", mesh, (NoneOK(), *MESH), flag="--mesh")
    check("seeds", seeds, [Interval(int, 1, None)], flag="--seeds")
    layout = plan(seeds, devices, mesh)
    local = jax.local_devices()
    info = {
        "backend": jax.default_backend(),
        "process": jax.process_index(),
        "processes": jax.process_count(),
        "local_devices": [str(d) for d in local],
        "device_count": jax.device_count(),
        "mesh": {**layout.as_dict(), "seeds": seeds, "text": layout.describe()},
    }
    if as_json:
        print_json(info)
        return
    out = console()
    out.print(
        f"process {info['process']} of {info['processes']}: {len(local)} local "
        f"{info['backend']} device(s) of {info['device_count']}: {', '.join(info['local_devices'])}",
        markup=False,
    )
    out.print(
        f"{seeds} seed(s), --devices {devices}{' --mesh ' + mesh if mesh else ''}: {layout.describe()}",
        markup=False,
    )
