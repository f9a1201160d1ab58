"""The ds001761 download client against a local S3-like server on 127.0.0.1 (ListObjectsV2, Range, ETags)."""

from __future__ import annotations

import hashlib
import http.server
import json
import socket
import threading
import urllib.parse
from xml.sax.saxutils import escape

import pytest

from facebrain.errors import DataError, OfflineError
from facebrain.fmri.download import download_ds001761, fetch, s3_etag_matches
from facebrain.fmri.reader import BidsFmriDataset

PART = 1 << 20
SPACE = "MNI152NLin2009cAsym_res-2"
FUNC = "sub-01/ses-01/func/sub-01_ses-01_task-faces_run-01"
DERIV = "sub-01/ses-01/func/sub-01_ses-01_task-faces_run-1"  # fMRIPrep wrote the run unpadded


def multipart_etag(data: bytes, part: int = PART) -> str:
    digests = b"".join(hashlib.md5(data[i:i + part]).digest() for i in range(0, len(data), part))
    return f"{hashlib.md5(digests).hexdigest()}-{-(-len(data) // part)}"


def fake_bucket() -> dict[str, bytes]:
    """Keys of the two buckets (raw 'openneuro.org/ds001761/...', derivatives 'openneuro-derivatives/...')."""
    events = "onset\tduration\ttrial_type\tstim_file\toneback\n6.0\t1.0\ttrain_face\tsub01/run01/F1001.jpg\t0\n9.0\t1.0\tFix\tplaceholders/fixation.png\t0\n"
    raw = {
        "dataset_description.json": json.dumps({"Name": "ds001761", "BIDSVersion": "1.0.2"}).encode(),
        "participants.tsv": b"participant_id\tage\tsex\nsub-01\t44\tm\nsub-02\t31\tm\n",
        f"{FUNC}_events.tsv": events.encode(),
        f"{FUNC}_bold.json": json.dumps({"RepetitionTime": 2, "TaskName": "faces"}).encode(),
        f"{FUNC}_bold.nii.gz": b"raw bold, never fetched" * 100,
        "stimuli/ImageNames2Celeba.txt": b"sub01/run01/F1001.jpg 000001.jpg\n",
        "stimuli/sub01/run01/F1001.jpg": b"\xff\xd8jpeg" * 50,
        "stimuli/sub02/run01/F2001.jpg": b"\xff\xd8other subject",
    }
    deriv = {
        "dataset_description.json": json.dumps({"Name": "fMRIPrep", "DatasetType": "derivative"}).encode(),
        f"{DERIV}_space-{SPACE}_desc-preproc_bold.nii.gz": bytes(range(256)) * (PART * 5 // 2 // 256),
        f"{DERIV}_space-{SPACE}_desc-preproc_bold.json": json.dumps({"RepetitionTime": 2}).encode(),
        f"{DERIV}_space-{SPACE}_desc-brain_mask.nii.gz": b"mask" * 100,
        f"{DERIV}_desc-confounds_timeseries.tsv": b"trans_x\n0.1\n",
        f"{DERIV}_desc-confounds_timeseries.json": b"{}",
        f"{DERIV}_space-T1w_desc-preproc_bold.nii.gz": b"another space, never fetched",
    }
    objects = {f"openneuro.org/ds001761/{k}": v for k, v in raw.items()}
    objects.update({f"openneuro-derivatives/fmriprep/ds001761-fmriprep/{k}": v for k, v in deriv.items()})
    return objects


class S3Handler(http.server.BaseHTTPRequestHandler):
    """GET /bucket?list-type=2 (paged by 3 keys) and GET /bucket/key with Range; ETag multipart above 2 MiB."""

    objects: dict[str, bytes] = {}
    served: dict[str, bytes] = {}  # what is actually sent (to corrupt a file)
    log: list[tuple[str, str]] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path.lstrip("/"))
        if url.query:
            self.list_bucket(path, urllib.parse.parse_qs(url.query))
            return
        if path not in self.objects:
            self.send_error(404)
            return
        self.log.append(("get", path, self.headers.get("Range", "")))
        data = self.served.get(path, self.objects[path])
        start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])

    def list_bucket(self, bucket, query):
        prefix = query["prefix"][0]
        delimiter = query.get("delimiter", [""])[0]
        start = int(query.get("continuation-token", ["0"])[0])
        keys = sorted(k[len(bucket) + 1:] for k in self.objects if k.startswith(f"{bucket}/{prefix}"))
        if delimiter:
            keys = [k for k in keys if delimiter not in k[len(prefix):]]
        page = keys[start:start + 3]
        truncated = start + 3 < len(keys)
        items = "".join(
            f"<Contents><Key>{escape(k)}</Key><Size>{len(self.objects[f'{bucket}/{k}'])}</Size>"
            f"<ETag>&quot;{self.etag(self.objects[f'{bucket}/{k}'])}&quot;</ETag></Contents>" for k in page)
        token = f"<NextContinuationToken>{start + 3}</NextContinuationToken>" if truncated else ""
        body = (f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                f"<Name>{bucket}</Name><Prefix>{escape(prefix)}</Prefix><IsTruncated>{str(truncated).lower()}</IsTruncated>"
                f"{items}{token}</ListBucketResult>").encode()
        self.log.append(("list", bucket, prefix))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    @staticmethod
    def etag(data):
        return multipart_etag(data) if len(data) > 2 * PART else hashlib.md5(data).hexdigest()


@pytest.fixture()
def server():
    S3Handler.objects = fake_bucket()
    S3Handler.served = {}
    S3Handler.log = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), S3Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield {"raw_url": f"{base}/openneuro.org/ds001761", "derivatives_url": f"{base}/openneuro-derivatives/fmriprep/ds001761-fmriprep"}
    httpd.shutdown()


def run_download(tmp_path, urls):
    return download_ds001761(tmp_path / "ds001761", tmp_path / "manifest.json", subjects=["01"], sessions=["01"], spaces=[SPACE], **urls)


def object_gets():
    return [entry for entry in S3Handler.log if entry[0] == "get"]


def test_downloads_the_chosen_files_verified(server, tmp_path):
    record = run_download(tmp_path, server)
    root = tmp_path / "ds001761"
    deriv = root / "derivatives/fmriprep"
    assert (root / f"{FUNC}_events.tsv").is_file() and (root / "stimuli/sub01/run01/F1001.jpg").is_file()
    assert (deriv / f"{DERIV}_space-{SPACE}_desc-preproc_bold.nii.gz").read_bytes() == S3Handler.objects[
        f"openneuro-derivatives/fmriprep/ds001761-fmriprep/{DERIV}_space-{SPACE}_desc-preproc_bold.nii.gz"]
    assert not (root / f"{FUNC}_bold.nii.gz").exists()  # raw BOLD is not needed
    assert not (root / "stimuli/sub02").exists()  # another subject's stimuli
    assert not (deriv / f"{DERIV}_space-T1w_desc-preproc_bold.nii.gz").exists()  # another space
    assert record["n_files"] == 12 and json.loads((tmp_path / "manifest.json").read_text())["n_files"] == 12
    assert {f["status"] for f in record["files"].values()} == {"downloaded"}
    (run,) = BidsFmriDataset(root).runs("01", "faces")
    assert run.tr == 2.0 and run.events.face_id.tolist() == ["000001.jpg", ""]
    assert run.bold.is_file() and run.confounds_path.is_file()


def test_second_run_fetches_nothing(server, tmp_path):
    run_download(tmp_path, server)
    S3Handler.log.clear()
    record = run_download(tmp_path, server)
    assert object_gets() == []
    assert {f["status"] for f in record["files"].values()} == {"kept"}


def test_a_run_without_its_derivatives_is_named(server, tmp_path):
    del S3Handler.objects[f"openneuro-derivatives/fmriprep/ds001761-fmriprep/{DERIV}_space-{SPACE}_desc-brain_mask.nii.gz"]
    with pytest.raises(DataError, match=f"{DERIV}_space-{SPACE}_desc-brain_mask.nii.gz: not in the derivatives' listing"):
        run_download(tmp_path, server)
    assert not (tmp_path / "manifest.json").exists()


def test_interrupted_file_resumes_with_a_range_request(server, tmp_path):
    key = f"openneuro-derivatives/fmriprep/ds001761-fmriprep/{DERIV}_space-{SPACE}_desc-preproc_bold.nii.gz"
    data = S3Handler.objects[key]
    dest = tmp_path / "bold.nii.gz"
    (tmp_path / "bold.nii.gz.part").write_bytes(data[:1000])
    url = server["derivatives_url"] + f"/{DERIV}_space-{SPACE}_desc-preproc_bold.nii.gz"
    assert fetch(url, dest, len(data), S3Handler.etag(data)) == "downloaded"
    assert dest.read_bytes() == data and not (tmp_path / "bold.nii.gz.part").exists()
    assert object_gets() == [("get", key, "bytes=1000-")]


def test_corrupt_transfer_is_rejected_and_removed(server, tmp_path):
    key = f"openneuro.org/ds001761/{FUNC}_events.tsv"
    S3Handler.served[key] = S3Handler.objects[key].replace(b"train_face", b"test_face!")
    with pytest.raises(DataError, match="events.tsv: downloaded from .* expected .* ETag"):
        run_download(tmp_path, server)
    assert not list((tmp_path / "ds001761").rglob("*_events.tsv*"))
    assert not (tmp_path / "manifest.json").exists()


def test_offline_host_gives_a_clear_message(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    urls = {"raw_url": f"http://127.0.0.1:{port}/openneuro.org/ds001761", "derivatives_url": f"http://127.0.0.1:{port}/d/x"}
    with pytest.raises(OfflineError, match="offline.*fmri.source: simulate"):
        run_download(tmp_path, urls)


def test_multipart_etag_is_verified(tmp_path):
    data = bytes(range(256)) * (PART * 3 // 256) + b"tail"
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert s3_etag_matches(path, multipart_etag(data))
    assert s3_etag_matches(path, multipart_etag(data, 2 * PART))
    assert not s3_etag_matches(path, multipart_etag(data[:-1] + b"X"))
    assert s3_etag_matches(path, hashlib.md5(data).hexdigest())
