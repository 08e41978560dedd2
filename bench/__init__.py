"""Benches: each is run from the repository root as ``python -m bench.<name>`` and prints
``RATIO <name> <x>`` lines (bench/README.md says what each measures and what was measured)."""
