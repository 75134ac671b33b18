import sys

from todm.cli import main

sys.exit(main())
