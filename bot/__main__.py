"""``python -m bot`` is the same as ``trolyso``."""

import sys

from bot.cli import main

sys.exit(main())
