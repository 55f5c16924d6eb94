"""What every benchmark script shares: the hardware line beside each number, training a preset once, writing results."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gankit.lab.runs import hardware, train_once  # noqa: F401  (re-exported: the scripts import them from here)


def write_results(out: str | Path, suffix: str, report: dict, table: str) -> None:
    """``results<suffix>.json`` and ``table<suffix>.md`` in ``out``; the JSON to stdout, the table to stderr."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"results{suffix}.json").write_text(json.dumps(report, indent=2))
    (out / f"table{suffix}.md").write_text(table)
    print(json.dumps(report, indent=2))
    print(table, file=sys.stderr)
