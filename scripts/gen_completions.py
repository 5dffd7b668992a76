#!/usr/bin/env python3
"""Write mivid's shell completions (bash, zsh, fish) into completions/ (see mivid.shells).

    python scripts/gen_completions.py                # writes completions/
    python scripts/gen_completions.py --output-dir D # writes D/ (the staleness test)

The scripts are made by `mivid.shells` (which `mivid completion SHELL` prints
from); `scripts/gen_man.py` reads the same tree through `command_tree()`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mivid.cli import load_command  # noqa: E402
from mivid.shells import FILE_NAMES, SHELLS, Argument, Command, Option, describe  # noqa: E402

__all__ = ["ROOT", "Argument", "Command", "Option", "command_tree"]


def command_tree() -> Command:
    """mivid's commands as plain data, in the order `mivid --help` lists them."""
    return describe(load_command())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--output-dir", type=Path, default=ROOT / "completions")
    options = parser.parse_args(argv)
    tree = command_tree()
    options.output_dir.mkdir(parents=True, exist_ok=True)
    for shell, render in SHELLS.items():
        (options.output_dir / FILE_NAMES[shell]).write_text(render(tree), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
