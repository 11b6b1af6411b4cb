"""Worker-side wrapper for ``bench/run.py``: the engine task plus the worker's peak RSS.

It lives in its own module so forkserver workers can import it by name (``bench/`` is put on
``PYTHONPATH`` for the measured subprocess); a function of ``run.py`` would be ``__main__.…``,
which forkserver workers do not import.
"""

from __future__ import annotations

import resource

from loyaute.ingest.engine import Task
from loyaute.ingest.reading import FileResult, summarize_task


def maxrss_mb() -> float:
    """Peak resident set of this process in MB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measured_task(task: Task) -> tuple[FileResult, float]:
    """``summarize_task`` (what loyaute's engine runs) and this process's peak RSS so far."""
    return summarize_task(task), maxrss_mb()
