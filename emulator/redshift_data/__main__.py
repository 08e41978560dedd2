"""``python -m emulator.redshift_data --pg-dsn ... --port 0``: serve the local Data API."""
import sys

from .server import main

sys.exit(main(sys.argv[1:]))
