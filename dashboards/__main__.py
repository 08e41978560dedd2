"""``python -m dashboards``: regenerate the Grafana JSON and Prometheus rule files."""
from __future__ import annotations

from dashboards.build import generated_files, write_generated


def main() -> int:
    written = write_generated()
    for path in written:
        print(f"wrote {path}")
    print(f"{len(generated_files())} generated files, {len(written)} changed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
