"""Fixtures of the ingest tests: an S3 endpoint on loopback (``s3.py``)."""

from tests.ingest.s3 import s3, s3_endpoint

__all__ = ["s3", "s3_endpoint"]
