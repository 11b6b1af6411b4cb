"""Continuous collection (``loyaute collect``): syslog over UDP, TCP, TLS and RELP, and followed
files, reduced in memory to half-day keys and committed like ``ingest`` (``commit.commit_keys``).

``framing`` reads the wire, ``intake`` turns lines into keys, ``follow`` follows files across
rotations, ``commit`` is the one door to the workspace, ``metrics`` counts, ``service`` runs it.
"""

from __future__ import annotations

from loyaute.ingest.collect.commit import CommitBatch, commit_keys
from loyaute.ingest.collect.service import CollectOptions, Collector, Endpoint, Summary, collect

__all__ = [
    "CollectOptions",
    "Collector",
    "CommitBatch",
    "Endpoint",
    "Summary",
    "collect",
    "commit_keys",
]
