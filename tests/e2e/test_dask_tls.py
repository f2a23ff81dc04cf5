"""A Dask cluster over TLS, as docs/cluster.md sets one up: scheduler, worker and an API node on 127.0.0.1,
every connection encrypted and both ends showing a certificate of the cluster's own CA (made here with
`cryptography`). Nothing of it listens beyond loopback, and a client without a certificate gets nothing.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.components import free_port, missing
from support.dask_cluster import INSTALL_HINT, DaskCluster, find_dask, running_dask
from support.output import read_archive
from support.server import Server
from support.sockets import listening
from support.tls import CertificateAuthority

from opencomprehend.runtime.cluster import tasks_run, tls_security

pytestmark = pytest.mark.e2e

LINES = ["Angela Merkel met Emmanuel Macron in Paris.", "Microsoft is based in Redmond, Washington."] * 5


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    dask = find_dask()
    if dask is None:
        missing(f"the `dask` command was not found; {INSTALL_HINT}")
    ca = CertificateAuthority(tmp_path_factory.mktemp("ca"))
    with running_dask(dask, tmp_path_factory.mktemp("dask-tls"), workers=1, tls=ca) as cluster:
        yield cluster


def test_scheduler_worker_and_server_over_tls_on_loopback_only(tmp_path: Path, tls_cluster: DaskCluster) -> None:
    assert tls_cluster.address.startswith("tls://127.0.0.1:")
    server = Server(
        data_dir=tmp_path / "node",
        port=free_port(),
        extra_env={
            "OPENCOMPREHEND_RUNTIME": "dask",
            "OPENCOMPREHEND_DASK_SCHEDULER": tls_cluster.address,
            "OPENCOMPREHEND_PRELOAD_PII": "false",
            "OPENCOMPREHEND_SHARD_DOCUMENTS": "4",
            **tls_cluster.client_env,
        },
    )
    server.data_dir.mkdir()
    server.start()
    try:
        # /health counts the Dask workers, and apart the task slots a job fills (twice the threads).
        with urllib.request.urlopen(f"{server.endpoint}/health", timeout=10) as answer:
            health = json.load(answer)
        assert health["Workers"] == {
            "Live": 1, "RealTime": 0, "Threads": 1, "Slots": 2, "Scheduler": tls_cluster.address,
        }, health  # fmt: skip
        with tls_cluster.client() as client:
            before = sum(c["realtime"] + c["shards"] for c in client.run(tasks_run).values())
        found = server.client().detect_entities(Text="Angela Merkel visited Berlin.", LanguageCode="en")["Entities"]
        assert [(e["Text"], e["Type"]) for e in found] == [("Angela Merkel", "PERSON"), ("Berlin", "LOCATION")]

        server.put("docs", "in/news.txt", "\n".join(LINES))
        server.put("opencomprehend-models", "README", "the models bucket (its work/ folder keeps the parts)")
        job_id = server.start_job("s3://docs/in/", "s3://docs/out/", InputFormat="ONE_DOC_PER_LINE")
        props = server.wait(job_id, timeout=180)
        assert props["JobStatus"] == "COMPLETED", (props, server.log()[-3000:])
        archive = server.bucket_root / props["OutputDataConfig"]["S3Uri"].removeprefix("s3://")
        assert [r["Line"] for r in read_archive(archive.read_bytes())] == list(range(len(LINES)))
        with tls_cluster.client() as client:
            after = sum(c["realtime"] + c["shards"] for c in client.run(tasks_run).values())
        assert after >= before + 1 + len(LINES) // 4, "the detect request and the shards ran on the TLS worker"

        # Every process of it listens on 127.0.0.1 and nowhere else.
        for pid in [tls_cluster.scheduler.pid, *(w.pid for w in tls_cluster.workers), server.process.pid]:  # type: ignore[union-attr]
            bound = listening(pid)
            assert bound and all(address == "127.0.0.1" for address, _ in bound), (pid, bound)
    finally:
        server.stop()


def test_a_client_without_a_certificate_of_the_ca_is_refused(tmp_path: Path, tls_cluster: DaskCluster) -> None:
    from distributed import Client, Security

    stranger = CertificateAuthority(tmp_path / "other-ca").issue("stranger")
    attempts = [
        (tls_cluster.address.replace("tls://", "tcp://"), None),  # plain TCP
        (tls_cluster.address, Security(
            tls_ca_file=str(tls_cluster.security.tls_ca_file), tls_client_cert=str(stranger.cert),
            tls_client_key=str(stranger.key), require_encryption=True,
        )),  # a certificate, but another CA's
    ]  # fmt: skip
    for address, security in attempts:
        with pytest.raises((OSError, TimeoutError)):
            Client(address, security=security, timeout="3s", set_as_default=False)
    # TLS without any certificate: the scheduler ends the handshake.
    import socket
    import ssl

    context = ssl.create_default_context(cafile=str(tls_cluster.security.tls_ca_file))
    context.check_hostname = False
    host, port = tls_cluster.address.removeprefix("tls://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        with pytest.raises((ssl.SSLError, ConnectionError)):  # noqa: PT012  (TLS 1.3 says so on the first read)
            with context.wrap_socket(raw) as tls:
                if tls.recv(1) == b"":
                    raise ConnectionResetError("closed without a word")


def test_tls_settings_are_all_or_nothing(tmp_path: Path) -> None:
    ca, cert, key = (tmp_path / name for name in ("ca.pem", "node.pem", "node.key"))
    for path in (ca, cert, key):
        path.write_text("-")
    assert tls_security(None, None, None, "tcp://10.0.0.5:8786") is None
    with pytest.raises(ValueError, match="speaks TLS: give this node's certificate"):
        tls_security(None, None, None, "tls://10.0.0.5:8786")
    with pytest.raises(ValueError, match="OPENCOMPREHEND_DASK_TLS_KEY too"):
        tls_security(ca, cert, None, "tls://10.0.0.5:8786")
    with pytest.raises(ValueError, match="is not a tls:// address"):
        tls_security(ca, cert, key, "tcp://10.0.0.5:8786")
    with pytest.raises(ValueError, match="no such file"):
        tls_security(ca, cert, tmp_path / "gone.key", "tls://10.0.0.5:8786")
