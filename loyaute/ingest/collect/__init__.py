"""Continuous collection (``loyaute collect``): syslog over UDP, TCP, TLS and RELP, and followed
files, reduced in memory to half-day keys and committed like ``ingest`` (``commit.commit_keys``).

``framing`` reads the wire, ``listeners`` hold the connections, ``intake`` turns lines into keys,
``follow`` follows files across rotations, ``commit`` is the one door to the workspace,
``metrics`` counts, ``options`` reads the settings, ``service`` runs it all.
"""

from __future__ import annotations

from loyaute.ingest.collect.commit import CommitBatch, commit_keys
from loyaute.ingest.collect.options import CollectOptions, Endpoint
from loyaute.ingest.collect.service import Collector, Summary, collect

__all__ = [
    "CollectOptions",
    "Collector",
    "CommitBatch",
    "Endpoint",
    "Summary",
    "collect",
    "commit_keys",
]
