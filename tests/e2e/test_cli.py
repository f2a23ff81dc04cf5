"""`opencomprehend serve` as a person at a terminal runs it: clear one-line errors, the real port, a clean stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import boto3
import pytest
from support.server import BIN

pytestmark = pytest.mark.e2e

SERVE = str(BIN / "opencomprehend")


def refused(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [SERVE, "serve", *args], capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    return done.stderr


def test_bad_flags_and_settings_are_one_clear_error(tmp_path: Path) -> None:
    assert "'--workers'" in refused("--workers", "0", "--data-dir", str(tmp_path))
    assert "'--port'" in refused("--port", "70000", "--data-dir", str(tmp_path))
    message = refused("--data-dir", str(tmp_path), env={"OPENCOMPREHEND_WORKERS": "0"})
    assert message.strip() == "Error: invalid setting (workers: Input should be greater than or equal to 1)"
    # The region a request without a SigV4 scope acts in: an AWS region name, as `kms create --region` is.
    message = refused("--data-dir", str(tmp_path), env={"OPENCOMPREHEND_REGION": "mars-1"})
    assert message.startswith("Error: invalid setting (region: String should match pattern"), message


def test_serve_help_shows_every_default() -> None:
    done = subprocess.run(
        [SERVE, "serve", "--help"], capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "300"}
    )
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())  # rich wraps and boxes the help
    assert "(default: ./data, in the folder serve is started from, or $OPENCOMPREHEND_DATA_DIR)" in text, text
    assert "(default 127.0.0.1)" in text and "(default 8080;" in text and "(default 2)" in text


def test_a_data_dir_that_cannot_be_used_is_one_line(tmp_path: Path) -> None:
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("x")
    message = refused("--data-dir", str(in_the_way), "--port", "0")
    assert message.startswith(f"Error: cannot use the data folder {in_the_way}:") and message.count("\n") == 1


def test_a_port_in_use_is_one_line_before_any_model_loads(tmp_path: Path) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        message = refused("--port", str(port), "--data-dir", str(tmp_path))
    # The one line and nothing else: no worker started, no model loaded, no log line before it (the
    # server logs every worker it starts; tests do not time it, the machine may be busy).
    assert message.strip() == f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"


def test_port_zero_prints_the_real_port_and_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [SERVE, "serve", "--port", "0", "--data-dir", "data"],  # relative: printed absolute
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
    try:
        deadline = time.time() + 120
        port = None
        while port is None and time.time() < deadline:
            found = re.search(r"OpenComprehend on http://127\.0\.0\.1:(\d+) ", log.read_text())
            port = int(found.group(1)) if found else None
            time.sleep(0.2)
        assert port and port != 0, log.read_text()
        assert f"OpenComprehend on http://127.0.0.1:{port} (data in {tmp_path / 'data'})\n" in log.read_text()
        client = boto3.client(
            "comprehend",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
        )
        while time.time() < deadline:
            try:
                found = client.detect_entities(Text="Angela Merkel visited Paris.", LanguageCode="en")
                break
            except Exception:  # noqa: BLE001  (not up yet)
                time.sleep(0.3)
        assert {"Angela Merkel", "Paris"} <= {e["Text"] for e in found["Entities"]}
        # Ctrl-C reaches every process of the terminal's foreground group: the server and its workers.
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(60) in (0, 130)  # 130: stopped by SIGINT, as shells report it
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    output = log.read_text()
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert "leaked" not in output, output
    assert output.rstrip().endswith("OpenComprehend stopped."), output


def test_the_listening_socket_gives_connections_tcp_nodelay() -> None:
    # Without TCP_NODELAY every answer waits on Nagle and delayed ACKs (about 40 ms a request); asyncio sets
    # it only on sockets whose proto says TCP, so this is what `serve` hands uvicorn.
    import asyncio
    import socket

    from opencomprehend.cli.serve import _listen

    async def main() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        listener = _listen("127.0.0.1", 0)
        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(accepted, 10)
        finally:
            writer.close()
            server.close()

    assert asyncio.run(main()) != 0
