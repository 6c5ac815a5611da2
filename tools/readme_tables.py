"""README's reference tables, generated from the registries and the config's declarations.

    python tools/readme_tables.py          # rewrite the tables in README.md
    python tools/readme_tables.py --check  # exit 1 if README.md is out of date (a test runs this)

Each table sits between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` lines, so the prose
around it is written by hand and the tables can never disagree with the code.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _table(header: list[str], rows: list[list[str]]) -> str:
    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *(line(r) for r in rows)])


def models_table() -> str:
    from mnistlab.models import model_table

    rows = [
        [f"`{n}`", kind, layout, f"`{d}`" if d else "", summary]
        for n, kind, layout, d, summary in model_table()
    ]
    return _table(["model", "kind", "input", "defaults", "what"], rows)


def optimizers_table() -> str:
    from mnistlab.optim import optimizer_table

    rows = [[f"`{n}`", f"{lr:g}", p, s] for n, lr, p, s in optimizer_table()]
    return _table(["optimizer", "default lr", "parameters", "what"], rows)


def schedules_table() -> str:
    from mnistlab.optim import schedule_table

    rows = [[f"`{n}`", p, s] for n, p, s in schedule_table()]
    return _table(["schedule", "parameters", "learning rate"], rows)


def train_options_table() -> str:
    from mnistlab.runs import TrainConfig, flag, params

    defaults = {name: f.default for name, f in TrainConfig.__dataclass_fields__.items()}
    rows = []
    for name, p in params().items():
        if not p.cli:
            continue
        flags = "`--seed`, `--seeds`" if p.cli == "seeds" else f"`{p.flag or flag(name)}`"
        default = defaults[name]
        shown = (
            ""
            if default in (None, ())
            else ",".join(map(str, default))
            if isinstance(default, tuple)
            else default
        )
        choices = p.choices()
        allowed = (
            ", ".join(map(str, choices)) if choices else " or ".join(c.describe() for c in p.constraints)
        )
        rows.append([flags, p.group, f"`{shown}`" if shown != "" else "", allowed, p.help])
    return _table(["option", "group", "default", "allowed", "what"], rows)


TABLES = {
    "models": models_table,
    "optimizers": optimizers_table,
    "schedules": schedules_table,
    "train-options": train_options_table,
}


def render(text: str) -> str:
    """``text`` with every generated table replaced by its current contents."""
    for name, make in TABLES.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n)(?:.*?\n)?(<!-- END {name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no <!-- BEGIN {name} --> ... <!-- END {name} --> block")
        text = pattern.sub(lambda m, make=make: m.group(1) + make() + "\n" + m.group(2), text)
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if README.md is out of date")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if args.check:
        if wanted != current:
            print("README.md's generated tables are out of date: run python tools/readme_tables.py")
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
