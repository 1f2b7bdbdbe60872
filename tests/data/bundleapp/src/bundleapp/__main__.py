import sys

from bundleapp.cli import main

sys.exit(main())
