"""``python -m autointegrate_sim``."""

import sys

from .cli import main

sys.exit(main())
