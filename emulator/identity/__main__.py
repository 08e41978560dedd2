import sys

from emulator.identity.server import main

sys.exit(main())
