"""``python -m emulator.kinesis --host 127.0.0.1 --port 0``: serve the local Kinesis server."""
import sys

from .server import main

sys.exit(main(sys.argv[1:]))
