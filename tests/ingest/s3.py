"""A real S3 endpoint on loopback (moto's server) for the object-storage tests.

The URIs handed to loyaute carry the endpoint in their query (``?endpoint_override=…``), as an
operator would for an on-premises S3 (MinIO, Ceph): worker processes and Spark executors need no
environment of their own to reach it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.fs as pafs
import pytest

from loyaute.ingest import files

moto_server = pytest.importorskip("moto.server", reason="moto[server] (test extra) is missing")


@dataclass
class S3:
    """One bucket on a running endpoint."""

    fs: pafs.S3FileSystem
    endpoint: str
    bucket: str

    def uri(self, key: str) -> str:
        """``s3://bucket/key`` with the endpoint in the query."""
        return f"s3://{self.bucket}/{key}?endpoint_override={self.endpoint}&scheme=http&region=us-east-1"

    def upload(self, folder: Path, prefix: str) -> str:
        """Every file under ``folder`` to ``prefix/…``; returns the prefix's URI."""
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            key = f"{self.bucket}/{prefix}/{path.relative_to(folder).as_posix()}"
            with self.fs.open_output_stream(key) as out:
                out.write(path.read_bytes())
        return self.uri(prefix)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint: str, request: pytest.FixtureRequest) -> S3:
    """A fresh bucket for each test."""
    fs = pafs.S3FileSystem(
        endpoint_override=s3_endpoint,
        scheme="http",
        access_key="loyaute",
        secret_key="loyaute-test",
        region="us-east-1",
        allow_bucket_creation=True,
    )
    bucket = "logs-" + "".join(c for c in request.node.name.lower() if c.isalnum())[:40]
    fs.create_dir(bucket)
    files._filesystem.cache_clear()
    return S3(fs, s3_endpoint, bucket)
