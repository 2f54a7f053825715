#!/usr/bin/env python
"""``python scripts/plan.py SUBCOMMAND`` in a checkout: the same command line as the installed ``bgplan`` (:mod:`bgplan.cli`)."""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bgplan.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
