"""Allow ``python -m rtoutcomes``."""

import sys

from rtoutcomes.cli import main

sys.exit(main())
