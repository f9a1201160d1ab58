"""CelebA from its official Google Drive files, offline: a local server speaks Drive's download protocol.

Drive serves a small file at ``/uc?id=<id>&export=download`` directly; for a file too
large for its virus scan it answers with an HTML page whose ``download-form`` carries
the real URL (``confirm`` and ``uuid`` as hidden inputs), and an error page when the
file's download quota is exceeded. The server below does the same, with Range
support on the real URL, so the confirmation page is parsed by gdown as it would be
against Drive and an interrupted file resumes from its ``.part``.
"""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
import urllib.parse

import numpy as np
import pytest
import yaml

from conftest import REPO

from facebrain.datasets import celeba
from facebrain.datasets.celeba import CELEBA_GDRIVE_IDS, CELEBA_MD5, download_celeba
from facebrain.errors import OfflineError

ZIP = np.random.default_rng(1).integers(0, 256, 200_000, dtype=np.uint8).tobytes()
PARTITION = b"000001.jpg 0\n000002.jpg 2\n"
LARGE, SMALL = "img_align_celeba.zip", "list_eval_partition.txt"


class DriveHandler(http.server.BaseHTTPRequestHandler):
    """Google Drive's protocol for public files: direct small files, a confirmation form for large ones, quota errors."""

    files: dict[str, bytes] = {}
    large: set[str] = set()
    over_quota: set[str] = set()
    requests: list[tuple[str, str]] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        self.requests.append((url.path, self.headers.get("Range") or ""))
        file_id = query.get("id", "")
        if file_id not in self.files:
            self.send_error(404)
        elif url.path == "/uc" and file_id in self.over_quota:
            self._html('<p class="uc-error-subcaption">Too many users have viewed or downloaded this file recently.</p>')
        elif url.path == "/uc" and file_id in self.large:
            host = f"http://127.0.0.1:{self.server.server_address[1]}"
            self._html(f'<form id="download-form" action="{host}/download" method="get">'
                       f'<input type="hidden" name="id" value="{file_id}"><input type="hidden" name="export" value="download">'
                       '<input type="hidden" name="confirm" value="t"><input type="hidden" name="uuid" value="0b1c"></form>')
        elif url.path == "/uc" or (url.path == "/download" and query.get("confirm") == "t" and query.get("uuid") == "0b1c"):
            self._file(self.files[file_id])
        else:
            self.send_error(403)

    def _html(self, body: str):
        data = f"<!DOCTYPE html><html><head><title>Google Drive</title></head><body>\n{body}\n</body></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _file(self, body: bytes):
        start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Disposition", 'attachment; filename="file"')
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def drive(monkeypatch):
    """The stand-in Drive's /uc endpoint; CelebA's md5s of the two served files replaced by those of the stand-in bytes."""
    DriveHandler.files = {CELEBA_GDRIVE_IDS[LARGE]: ZIP, CELEBA_GDRIVE_IDS[SMALL]: PARTITION}
    DriveHandler.large = {CELEBA_GDRIVE_IDS[LARGE]}
    DriveHandler.over_quota = set()
    DriveHandler.requests = []
    monkeypatch.setitem(CELEBA_MD5, LARGE, hashlib.md5(ZIP).hexdigest())
    monkeypatch.setitem(CELEBA_MD5, SMALL, hashlib.md5(PARTITION).hexdigest())
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DriveHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/uc"
    httpd.shutdown()
    httpd.server_close()


def test_gdrive_is_the_default_source():
    schema = yaml.safe_load((REPO / "workflow/schemas/datasets.schema.yaml").read_text())
    assert schema["properties"]["celeba"]["properties"]["source"]["default"] == "gdrive"
    assert celeba.GDRIVE_URL == "https://drive.google.com/uc" and set(CELEBA_GDRIVE_IDS) == set(CELEBA_MD5)


def test_large_file_through_the_confirmation_page_resumes_its_part(drive, tmp_path):
    (tmp_path / f"{LARGE}.part").write_bytes(ZIP[:70_000])
    download_celeba(tmp_path, files=[LARGE, SMALL], gdrive_url=drive)
    assert (tmp_path / LARGE).read_bytes() == ZIP and (tmp_path / SMALL).read_bytes() == PARTITION
    assert not list(tmp_path.glob("*.part"))
    assert DriveHandler.requests == [("/uc", ""), ("/download", "bytes=70000-"), ("/uc", ""), ("/uc", "")]
    DriveHandler.requests = []
    download_celeba(tmp_path, files=[LARGE, SMALL], gdrive_url=drive)  # present and verified: no request
    assert DriveHandler.requests == []


def test_quota_page_and_offline_name_the_files_and_where_to_put_them(drive, tmp_path):
    DriveHandler.over_quota = {CELEBA_GDRIVE_IDS[LARGE]}
    with pytest.raises(OfflineError) as err:
        download_celeba(tmp_path, files=[LARGE, SMALL], gdrive_url=drive)
    message = str(err.value)
    assert str(tmp_path / LARGE) in message and CELEBA_GDRIVE_IDS[LARGE] in message and CELEBA_MD5[LARGE] in message
    assert str(tmp_path / SMALL) not in message and (tmp_path / SMALL).read_bytes() == PARTITION
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/uc"
    root = tmp_path / "offline"
    with pytest.raises(OfflineError) as err:
        download_celeba(root, gdrive_url=closed)
    for name, md5 in CELEBA_MD5.items():
        assert str(root / name) in str(err.value) and md5 in str(err.value)
    assert not root.exists() or not any(root.iterdir())
