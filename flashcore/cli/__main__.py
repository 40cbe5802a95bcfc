"""`python -m flashcore.cli`: the command line."""

import sys

from flashcore.cli import main

sys.exit(main())
