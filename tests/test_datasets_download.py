"""Downloads: checksums, resuming with HTTP Range, refusal of a bad checksum, offline message.

A local http.server on 127.0.0.1 (with Range support) stands in for the hosts.
"""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading

import numpy as np
import pytest

from facebrain.datasets.celeba import CELEBA_MD5, download_celeba
from facebrain.datasets.download import download, file_checksum
from facebrain.errors import DataError, OfflineError

PAYLOAD = np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8).tobytes()


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves ``files`` (name -> bytes), honouring ``Range: bytes=N-``; records the Range headers seen."""

    files: dict[str, bytes] = {}
    ranges: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = self.files.get(self.path.lstrip("/"))
        if body is None:
            self.send_error(404)
            return
        start = 0
        header = self.headers.get("Range")
        self.ranges.append(header or "")
        if header:
            start = int(header.split("=")[1].rstrip("-"))
            if start >= len(body):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    RangeHandler.files = {"data.bin": PAYLOAD}
    RangeHandler.ranges = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_git_blob_sha1_matches_git(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"hello\n")
    # `git hash-object` of "hello\n"
    assert file_checksum(path, "git-sha1") == "ce013625030ba8dba906f756967f9e9ca394464a"
    assert file_checksum(path, "md5") == hashlib.md5(b"hello\n").hexdigest()


def test_download_verifies_and_keeps_a_good_file(server, tmp_path):
    dest = tmp_path / "out" / "data.bin"
    download(f"{server}/data.bin", dest, "md5", hashlib.md5(PAYLOAD).hexdigest())
    assert dest.read_bytes() == PAYLOAD
    assert not dest.with_name("data.bin.part").exists()
    # present and verified: no request at all, even with the host gone
    download(_closed_port_url() + "/data.bin", dest, "md5", hashlib.md5(PAYLOAD).hexdigest())


def test_download_resumes_a_part_file_with_a_range_request(server, tmp_path):
    dest = tmp_path / "data.bin"
    dest.with_name("data.bin.part").write_bytes(PAYLOAD[:123_456])
    download(f"{server}/data.bin", dest, "sha256", hashlib.sha256(PAYLOAD).hexdigest())
    assert RangeHandler.ranges == ["bytes=123456-"]
    assert dest.read_bytes() == PAYLOAD


def test_bad_checksum_is_refused_and_nothing_is_kept(server, tmp_path):
    dest = tmp_path / "data.bin"
    with pytest.raises(DataError, match="checksum mismatch") as err:
        download(f"{server}/data.bin", dest, "git-sha1", "d98996d3f8ee1550e06b9d4ed78d0beb478910d5")
    assert str(dest) in str(err.value) and "d98996d3" in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_offline_error_says_where_to_place_the_file(tmp_path):
    dest = tmp_path / "dsprites.npz"
    with pytest.raises(OfflineError) as err:
        download(_closed_port_url() + "/x.npz", dest, "git-sha1", "d98996d3f8ee1550e06b9d4ed78d0beb478910d5")
    message = str(err.value)
    assert str(dest) in message and "by hand" in message and "d98996d3" in message
    assert not dest.exists()


def test_host_refusal_is_reported_like_offline(server, tmp_path):
    with pytest.raises(OfflineError, match="HTTP 404"):
        download(f"{server}/missing.bin", tmp_path / "m.bin", "md5", "0" * 32)


def test_celeba_offline_lists_every_file_and_writes_nothing(tmp_path):
    root = tmp_path / "celeba"
    with pytest.raises(OfflineError) as err:
        download_celeba(root, "mirror", _closed_port_url())
    message = str(err.value)
    for name, md5 in CELEBA_MD5.items():
        assert str(root / name) in message and md5 in message
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_celeba_download_checks_each_md5(server, tmp_path):
    RangeHandler.files = {"list_eval_partition.txt": b"000001.jpg 0\n"}
    with pytest.raises(DataError, match="md5 checksum mismatch"):
        download_celeba(tmp_path, "mirror", server, files=["list_eval_partition.txt"])
    assert not (tmp_path / "list_eval_partition.txt").exists()
