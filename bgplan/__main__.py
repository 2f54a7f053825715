"""``python -m bgplan SUBCOMMAND``: the command line (:mod:`bgplan.cli`)."""

import sys

from bgplan.cli import main

sys.exit(main())
