"""`python -m smpvision ...` (and `torchrun ... -m smpvision train ...`) run the console script."""

import sys

from smpvision.cli import main

sys.exit(main())
