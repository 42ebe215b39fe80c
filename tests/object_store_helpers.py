"""A real S3-compatible server on loopback (moto's, as a subprocess) for object-store scans.

cvis reads a store through the standard AWS variables of the process that reads, and the
processes that read are started early and keep the environment they started with: the
hashing fork server, Spark's JVM and its Python workers. So the variables (a loopback
endpoint on a port chosen now, dummy credentials) are set when this plugin is imported,
before any test runs, for the whole test process; no test can reach a real store. The
server itself starts on that port when a test first needs it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class ObjectStore:
    endpoint: str

    @property
    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "cvis-test",
                "AWS_SECRET_ACCESS_KEY": "cvis-test-secret", "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true"}

    def client(self) -> Any:
        import boto3

        env = self.env
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])

    def upload(self, folder: Path, bucket: str, prefix: str) -> str:
        """Every file under folder, at the same relative keys under prefix; the prefix URI."""
        client = self.client()
        if bucket not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
            client.create_bucket(Bucket=bucket)
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            key = f"{prefix}/{path.relative_to(folder).as_posix()}"
            client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        return f"s3://{bucket}/{prefix}/"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


STORE = ObjectStore(f"http://127.0.0.1:{_free_port()}")
os.environ.pop("AWS_PROFILE", None)
os.environ.update(STORE.env)


@contextmanager
def s3_server(store: ObjectStore = STORE) -> Iterator[ObjectStore]:
    """moto's S3 server on the store's loopback port, for as long as the block runs."""
    port = store.endpoint.rsplit(":", 1)[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", port],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                urllib.request.urlopen(f"{store.endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"moto S3 server: not up on {store.endpoint}") from None
                time.sleep(0.1)
        yield store
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture(scope="session")
def object_store_server() -> Iterator[ObjectStore]:
    with s3_server() as store:
        yield store


@pytest.fixture
def object_store(object_store_server: ObjectStore, monkeypatch: pytest.MonkeyPatch) -> ObjectStore:
    """The server, reachable by cvis through the standard environment variables (set again,
    in case a test changed them)."""
    for name, value in object_store_server.env.items():
        monkeypatch.setenv(name, value)
    return object_store_server
