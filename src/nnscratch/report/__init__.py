"""The run report: `write_report(run_dir)` turns a run folder into one self-contained report.html."""

from .html import write_report

__all__ = ["write_report"]
