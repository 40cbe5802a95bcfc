"""`python -m flashcore`: the command line, as the `flashcore` script."""

import sys

from flashcore.cli import main

sys.exit(main())
