"""``python -m bytecast``."""

import sys

from bytecast.cli import main

sys.exit(main())
