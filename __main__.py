"""`python -m plantpulse`: the same as the `plantpulse` command."""

import sys

from plantpulse.core.cli import main

sys.exit(main())
