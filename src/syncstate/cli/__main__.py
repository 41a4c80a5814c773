"""``python -m syncstate.cli``."""

import sys

from syncstate.cli import main

sys.exit(main())
