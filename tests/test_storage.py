"""Files on shared storage: intake photos and police reports go through Django's STORAGES, an
S3-compatible bucket when STORAGE_S3_BUCKET is set, and are still served only by our views.

Runs against moto's S3 server on loopback (a real HTTP S3 endpoint), including two web
processes sharing one database and one bucket: a photo taken in through one is served by the
other, whose disk never had it.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests
from django.core.files.storage import storages
from django.urls import reverse
from PIL import Image

from tests.test_inspection import png, revise_at_bench
from tests.test_lifecycle_http import staff_client
from workflows.models import InspectionPhoto, PoliceReport, State

moto_server = pytest.importorskip("moto.server")
ROOT = Path(__file__).resolve().parent.parent
KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=free_port())
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint):
    """A new private bucket per test; yields (name, boto3 client)."""
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    name = f"shop-{os.urandom(4).hex()}"
    client.create_bucket(Bucket=name)
    return name, client


def s3_env(endpoint: str, bucket_name: str) -> dict[str, str]:
    return {
        "STORAGE_S3_BUCKET": bucket_name,
        "STORAGE_S3_ENDPOINT_URL": endpoint,
        "STORAGE_S3_REGION": "us-east-1",
        "STORAGE_S3_ADDRESSING_STYLE": "path",
        **KEYS,
    }


def settings_from_env(env: dict[str, str]) -> dict:
    """backoffice.settings' STORAGES as that environment makes them (read in a fresh process,
    so the test checks the settings module itself, not a copy of its logic)."""
    code = "import json; from backoffice import settings as s; print(json.dumps(s.STORAGES))"
    out = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, cwd=ROOT,
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    return json.loads(out.stdout)


@pytest.fixture
def on_s3(settings, s3_endpoint, bucket, monkeypatch):
    name, client = bucket
    for key, value in KEYS.items():
        monkeypatch.setenv(key, value)
    settings.STORAGES = settings_from_env(s3_env(s3_endpoint, name))
    return name, client


def keys(client, bucket_name: str) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket_name).get("Contents", [])]


def test_local_folders_stay_the_default():
    stores = settings_from_env({})
    assert stores["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert stores["police_reports"]["BACKEND"] == "workflows.storage.ReportFolderStorage"


def test_the_bucket_is_private_and_chosen_from_the_environment(s3_endpoint):
    stores = settings_from_env({**s3_env(s3_endpoint, "shop-files"), "STORAGE_S3_PREFIX": "x/"})
    for alias, folder in (("default", "x/media"), ("police_reports", "x/police-reports")):
        options = stores[alias]["OPTIONS"]
        assert stores[alias]["BACKEND"] == "storages.backends.s3.S3Storage"
        assert options["bucket_name"] == "shop-files"
        assert options["endpoint_url"] == s3_endpoint
        assert options["default_acl"] == "private"
        assert options["querystring_auth"] is True  # never a plain public URL
        assert options["location"] == folder


def test_an_intake_photo_is_stored_in_the_bucket_and_served_from_it(
    on_s3, staff, make_trade_in, settings
):
    bucket_name, client = on_s3
    on_disk_before = set(Path(settings.MEDIA_ROOT).rglob("*"))  # other tests' photos
    bench = staff_client(staff)
    trade_in = make_trade_in(State.ACCEPTED)
    revise_at_bench(bench, trade_in, photos=[png()])
    photo = InspectionPhoto.objects.get(trade_in=trade_in)
    stored = keys(client, bucket_name)
    assert stored == [f"media/{photo.image.name}"]
    assert set(Path(settings.MEDIA_ROOT).rglob("*")) == on_disk_before  # none on this disk
    # Private: the object cannot be read without our credentials.
    url = f"{client.meta.endpoint_url}/{bucket_name}/{stored[0]}"
    acl = client.get_object_acl(Bucket=bucket_name, Key=stored[0])
    assert not [g for g in acl["Grants"] if "AllUsers" in str(g.get("Grantee", {}))]
    assert requests.get(url, timeout=5).status_code == 403
    # Served through the staff view, streamed from the bucket.
    response = bench.get(reverse("admin:inspection_photo", args=[photo.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    body = b"".join(response.streaming_content)
    obj = client.get_object(Bucket=bucket_name, Key=stored[0])["Body"].read()
    assert body == obj and Image.open(io.BytesIO(body)).size == (8, 8)


def test_a_police_report_goes_to_the_bucket(on_s3, make_trade_in, settings, tmp_path, drain):
    from workflows import actions

    bucket_name, client = on_s3
    settings.POLICE_REPORT = "folder"
    settings.POLICE_REPORT_DIR = tmp_path
    settings.POLICE_REPORT_EVERY_HOURS = 0
    trade_in = make_trade_in(State.RECEIVED)
    report = actions.police_report_create()
    drain()
    report = PoliceReport.objects.get(pk=report.pk)
    (key,) = keys(client, bucket_name)
    assert key.startswith("police-reports/") and key.endswith(".csv")
    body = client.get_object(Bucket=bucket_name, Key=key)["Body"].read().decode()
    assert trade_in.reference in body
    assert not list(tmp_path.iterdir())  # not on this server's disk


def test_a_police_report_in_a_folder_is_written_whole_and_private(tmp_path, settings):
    settings.POLICE_REPORT_DIR = tmp_path / "reports"
    from django.core.files.base import ContentFile

    storage = storages["police_reports"]
    assert storage.save("r.csv", ContentFile(b"a,b\r\n")) == "r.csv"
    assert storage.save("r.csv", ContentFile(b"c,d\r\n")) == "r.csv"  # sent again: replaced
    written = tmp_path / "reports" / "r.csv"
    assert written.read_bytes() == b"c,d\r\n"
    assert written.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in (tmp_path / "reports").iterdir()] == ["r.csv"]  # no .part left


# --- two web processes, one bucket ---------------------------------------------------------------
def _web(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"), "backoffice.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "30",
        ],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
    )  # fmt: skip


def _wait(port: int, process: subprocess.Popen, deadline: float, log: Path) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(log.read_text()[-2000:])
        try:
            requests.get(f"http://127.0.0.1:{port}/dashboard/login/", timeout=15)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise AssertionError(f"web process on {port} did not start")


def test_two_web_processes_share_a_photo_through_the_bucket(s3_endpoint, bucket, tmp_path):
    bucket_name, client = bucket
    postgres = os.environ.get("DATABASE_URL", "")
    if postgres.startswith("postgres"):
        database = _fresh_postgres_database(postgres)
    else:
        database = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    base = {
        **os.environ,
        **s3_env(s3_endpoint, bucket_name),
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "DATABASE_URL": database,
        "DEBUG": "True",
        "SERVE_COLLECTED_STATIC": "False",
        "VAR_DIR": str(tmp_path / "var"),
    }
    base.pop("REDIS_URL", None)
    # The two web servers boot while the database is made (neither touches it before a request).
    ports = free_port(), free_port()
    media = [tmp_path / "media-a", tmp_path / "media-b"]
    webs = [
        _web(port, {**base, "MEDIA_ROOT": str(m)}, tmp_path / f"web-{port}.log")
        for port, m in zip(ports, media, strict=True)
    ]
    try:
        setup = subprocess.run(
            [sys.executable, "-m", "tests.two_web_setup"],
            cwd=ROOT, env={**base, "MEDIA_ROOT": str(tmp_path / "setup-media")},
            capture_output=True, text=True, timeout=300,  # migrations on a busy machine
        )  # fmt: skip
        assert setup.returncode == 0, setup.stderr[-3000:]
        state = json.loads(setup.stdout.strip().splitlines()[-1])
        for port, web in zip(ports, webs, strict=True):
            _wait(port, web, time.monotonic() + 60, tmp_path / f"web-{port}.log")
        a, b = (f"http://127.0.0.1:{port}" for port in ports)
        cookies = {"sessionid": state["session"], "csrftoken": "k" * 32}
        upload = png()
        taken_in = requests.post(
            a + state["bench"],
            data={**state["data"], "csrfmiddlewaretoken": "k" * 32},
            files={"photos": ("crack.png", upload.getvalue(), "image/png")},
            cookies=cookies, timeout=20,
        )  # fmt: skip
        assert taken_in.status_code == 200, taken_in.text[:2000]
        photo_path = re.escape(state["photo"]).replace("123456789", r"(\d+)")
        # The other server's trade-in page links the photo the first one took in.
        page = requests.get(b + state["trade_in"], cookies=cookies, timeout=10)
        match = re.search(photo_path, page.text)
        assert match, "the trade-in page shows no photo link"
        url = match.group(0)
        from_b = requests.get(b + url, cookies=cookies, timeout=10)
        assert from_b.status_code == 200, from_b.text[:500]
        assert from_b.headers["Content-Type"] == "image/png"
        assert Image.open(io.BytesIO(from_b.content)).size == (8, 8)
        assert requests.get(a + url, cookies=cookies, timeout=10).content == from_b.content
        # Neither server kept it on its own disk; the bucket holds it, once.
        assert not [p for m in media if m.exists() for p in m.rglob("*") if p.is_file()]
        (key,) = keys(client, bucket_name)
        assert client.get_object(Bucket=bucket_name, Key=key)["Body"].read() == from_b.content
        # Signed out, the other server shows nothing.
        assert requests.get(b + url, timeout=10, allow_redirects=False).status_code == 302
    finally:
        for web in webs:
            web.terminate()
        for web in webs:
            try:
                web.wait(timeout=10)
            except subprocess.TimeoutExpired:
                web.kill()
        if postgres.startswith("postgres"):
            _drop_postgres_database(postgres, database)


def _fresh_postgres_database(url: str) -> str:
    import psycopg

    name = f"two_web_{os.urandom(4).hex()}"
    maintenance = url.rsplit("/", 1)[0] + "/postgres"  # DATABASE_URL's own may not exist
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


def _drop_postgres_database(url: str, database: str) -> None:
    import psycopg

    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database.rsplit("/", 1)[1]}" WITH (FORCE)')


def test_the_police_report_destination_names_the_folder_or_the_bucket(on_s3, settings, tmp_path):
    from workflows.storage import police_report_destination

    bucket_name, _ = on_s3
    assert police_report_destination() == f"s3://{bucket_name}/police-reports"
    settings.STORAGES = {**settings.STORAGES, "police_reports": {
        "BACKEND": "workflows.storage.ReportFolderStorage"}}  # fmt: skip
    settings.POLICE_REPORT_DIR = tmp_path
    assert police_report_destination() == str(tmp_path)
