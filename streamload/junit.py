"""JUnit XML for CI systems: one test case per threshold, failed ones carry the value, and
one per baseline metric when the run was compared with a baseline."""
from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from streamload.core.thresholds import ThresholdResult

__all__ = ["write_junit"]


def write_junit(results: list[ThresholdResult], path: Path, run_id: str, duration_s: float,
                extra: list[tuple[str, bool, str]] = ()) -> Path:
    """``extra``: further cases as (name, ok, failure message), e.g. the baseline comparison."""
    failures = sum(not r.ok for r in results) + sum(not ok for _, ok, _ in extra)
    suite = ET.Element(
        "testsuite",
        name="streamload",
        tests=str(len(results) + len(extra)),
        failures=str(failures),
        errors="0",
        time=f"{duration_s:.3f}",
    )
    ET.SubElement(ET.SubElement(suite, "properties"), "property", name="run_id", value=run_id)
    for r in results:
        case = ET.SubElement(suite, "testcase", classname="streamload.thresholds", name=r.threshold.text)
        if not r.ok:
            value = "no data" if r.value is None else f"{r.value:g}"
            failure = ET.SubElement(case, "failure", message=f"{r.threshold.text}: value {value}")
            failure.text = f"value={value} limit={r.threshold.limit:g} op={r.threshold.op}"
    for name, ok, message in extra:
        case = ET.SubElement(suite, "testcase", classname="streamload.baseline", name=name)
        if not ok:
            ET.SubElement(case, "failure", message=message).text = message
    path.parent.mkdir(parents=True, exist_ok=True)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path
