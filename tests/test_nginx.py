"""Debian's nginx in front of gunicorn, both started from the files in docs/deploy/ (the site,
its proxy headers, the web unit's ExecStart, the example environment): the proxy headers reach
Django, hashed static files are cached for a year, /readyz answers JSON and stays out of the
access log.

Skipped where nginx is missing, except under CI=true (.ci/run installs it).
"""

from __future__ import annotations

import configparser
import http.client
import json
import os
import re
import shlex
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings

from workflows.rules.photos import MAX_PHOTOS

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "docs" / "deploy"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
LOGIN = "/dashboard/login/"  # reverse("admin:login"), checked below
CLIENT = "127.0.0.5"  # a client address that is not nginx's own (127.0.0.1)

pytestmark = pytest.mark.skipif(
    not NGINX and os.environ.get("CI") != "true",
    reason="nginx is missing (.ci/run installs it; CI=true makes this a failure)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def replaced(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in text, f"{old!r} is no longer in the deploy file: update tests/test_nginx.py"
        text = text.replace(old, new)
    return text


def example_env(**overrides: str) -> dict[str, str]:
    env = {}
    for line in (DEPLOY / "env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    for key in ("REDIS_URL", "ID_ENCRYPTION_KEYS", "STORAGE_S3_BUCKET", "STORAGE_S3_REGION"):
        env.pop(key)  # this machine's: the local cache and queue, the demo key, local folders
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(key)
    return {**env, **overrides}


def wait_for(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} stopped (its log is in {port}'s test folder)")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{what} did not listen on {port}")


class Site:
    def __init__(self, https: int, http: int, gunicorn: int, tmp: Path):
        self.https, self.http, self.gunicorn, self.tmp = https, http, gunicorn, tmp
        self.tls = ssl.create_default_context(cafile=str(tmp / "cert.pem"))
        self.tls.check_hostname = False

    def request(self, method, path, *, port=None, tls=True, body=None, headers=None, source=None):
        port = port or (self.https if tls else self.gunicorn)
        source_address = (source, 0) if source else None
        if tls:
            conn = http.client.HTTPSConnection(
                "127.0.0.1", port, context=self.tls, timeout=15, source_address=source_address
            )
        else:
            conn = http.client.HTTPConnection(
                "127.0.0.1", port, timeout=15, source_address=source_address
            )
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response, data


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    assert NGINX, "CI=true but nginx is missing: .ci/run installs it"
    tmp = tmp_path_factory.mktemp("nginx")
    https, plain, upstream = free_port(), free_port(), free_port()
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(tmp / "key.pem"), "-out", str(tmp / "cert.pem"),
        ],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    static = tmp / "static"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_"))},
        **example_env(
            SECRET_KEY="nginx-test-" + "x" * 40,
            ALLOWED_HOSTS="127.0.0.1",
            CSRF_TRUSTED_ORIGINS=f"https://127.0.0.1:{https}",
            SITE_URL=f"https://127.0.0.1:{https}",
            DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
            STATIC_ROOT=str(static),
            VAR_DIR=str(tmp / "var"),
            MEDIA_ROOT=str(tmp / "media"),
            SECURE_HSTS_SECONDS="0",
        ),
    }
    manage = [sys.executable, "manage.py"]
    # The deploy steps of docs/deploy.md.
    for command in (
        ["migrate", "--noinput", "-v0"],
        ["createcachetable"],
        ["collectstatic", "--noinput", "-v0"],
    ):
        done = subprocess.run(
            manage + command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-3000:]

    # gunicorn: the web unit's ExecStart, from this checkout, on a free port.
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(DEPLOY / "tradein-web.service")
    exec_start = replaced(
        unit["Service"]["ExecStart"],
        {"/srv/tradein/app/.venv/bin/": f"{Path(sys.executable).parent}/",
         "127.0.0.1:8000": f"127.0.0.1:{upstream}", "--workers 3": "--workers 2"},
    )  # fmt: skip
    assert unit["Service"]["Restart"] and unit["Service"]["User"] == "tradein"
    assert unit["Service"]["EnvironmentFile"] == "/etc/tradein/env"
    web = subprocess.Popen(
        shlex.split(exec_start), cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=(tmp / "gunicorn.log").open("wb"),
    )  # fmt: skip

    # nginx: the site file, paths and ports replaced, in a config of its own (-p, -c).
    site_conf = replaced(
        (DEPLOY / "nginx-tradein.conf").read_text(),
        {
            "listen 80;": f"listen 127.0.0.1:{plain};",
            "listen [::]:80;": "",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{https} ssl http2;",
            "listen [::]:443 ssl http2;": "",
            "/etc/letsencrypt/live/shop.example/fullchain.pem": str(tmp / "cert.pem"),
            "/etc/letsencrypt/live/shop.example/privkey.pem": str(tmp / "key.pem"),
            "/srv/tradein/static/": f"{static}/",
            "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream};",
            "/etc/nginx/tradein-proxy.conf": str(DEPLOY / "tradein-proxy.conf"),
        },
    )
    (tmp / "site.conf").write_text(site_conf)
    mime = "/etc/nginx/mime.types"
    (tmp / "nginx.conf").write_text(
        f"""
{"user root;" if os.geteuid() == 0 else ""}
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
    {f"include {mime};" if Path(mime).exists() else ""}
    default_type application/octet-stream;
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
"""
    )
    nginx = [NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")]
    checked = subprocess.run([*nginx, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    proxy = subprocess.Popen(nginx, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(https, proxy, "nginx")
        wait_for(upstream, web, "gunicorn")
        yield Site(https, plain, upstream, tmp)
    finally:
        for process in (proxy, web):
            process.terminate()
        for process in (proxy, web):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def test_django_sees_https_from_the_forwarded_proto_nginx_sets(site):
    from django.urls import reverse

    assert reverse("admin:login") == LOGIN
    # SECURE_SSL_REDIRECT is on: a request Django takes for plain HTTP is sent to https.
    direct, _ = site.request("GET", LOGIN, tls=False)
    assert direct.status == 301 and direct.getheader("Location").startswith("https://")
    # Through nginx, X-Forwarded-Proto: https and BEHIND_TLS_PROXY: request.is_secure().
    page, body = site.request("GET", LOGIN)
    assert page.status == 200, body[:500]
    cookies = page.getheader("Set-Cookie") or ""
    assert "csrftoken=" in cookies and "Secure" in cookies  # Django sets secure-only cookies
    # A client cannot fake it: nginx overwrites the header (plain http on port 80 redirects).
    faked, _ = site.request("GET", LOGIN, port=site.http, tls=False,
                            headers={"X-Forwarded-Proto": "https"})  # fmt: skip
    assert faked.status == 301 and faked.getheader("Location").startswith("https://")


class _Form(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


def test_django_sees_the_clients_address_not_nginxs(site):
    """RATELIMIT_IP_META_KEY=HTTP_X_REAL_IP: sign-in throttling (django-axes) counts the
    address nginx saw, even when the client sends its own X-Real-IP."""
    page, body = site.request("GET", LOGIN, source=CLIENT)
    form = _Form()
    form.feed(body.decode())
    cookie = re.search(r"csrftoken=([^;]+)", page.getheader("Set-Cookie")).group(1)
    data = dict(form.fields)
    for name in data:
        if name.endswith("username"):
            data[name] = "nobody-here"
        elif name.endswith("password"):
            data[name] = "wrong-password"
    origin = f"https://127.0.0.1:{site.https}"
    answer, _ = site.request(
        "POST", LOGIN, source=CLIENT, body=urlencode(data),
        headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={cookie}",
            "Origin": origin, "Referer": origin + LOGIN, "X-Real-IP": "203.0.113.9",
        },
    )  # fmt: skip
    log = (site.tmp / "gunicorn.log").read_text()[-3000:]
    assert answer.status == 200, log  # the form again, with its error
    with sqlite3.connect(site.tmp / "db.sqlite3") as db:
        addresses = [row[0] for row in db.execute("select ip_address from axes_accessattempt")]
    assert addresses == [CLIENT]


def test_hashed_static_files_are_cached_for_a_year(site):
    hashed = sorted((site.tmp / "static").rglob("portal.????????????.css"))
    assert hashed, "collectstatic wrote no hashed portal.css"
    path = "/static/" + hashed[0].relative_to(site.tmp / "static").as_posix()
    response, body = site.request("GET", path, headers={"Accept-Encoding": "gzip"})
    assert response.status == 200 and body
    assert response.getheader("Cache-Control") == "public, max-age=31536000, immutable"
    assert response.getheader("Content-Encoding") == "gzip"  # the .gz collectstatic wrote
    plain = "/static/" + hashed[0].relative_to(site.tmp / "static").as_posix()
    plain = re.sub(r"\.[0-9a-f]{12}\.css$", ".css", plain)
    response, _ = site.request("GET", plain)
    assert response.status == 200 and "immutable" not in (response.getheader("Cache-Control"))


def test_readyz_answers_json_through_nginx_and_stays_out_of_the_access_log(site):
    response, body = site.request("GET", "/readyz")
    # 503 is an answer too: no worker runs here (the load balancer then takes the node out).
    assert response.status in (200, 503), body[:300]
    assert response.getheader("Content-Type", "").startswith("application/json")
    assert isinstance(json.loads(body), dict)
    site.request("GET", LOGIN)
    # nginx writes the line after the answer has gone: wait for it (a few seconds at most).
    deadline = time.monotonic() + 5
    while LOGIN not in (log := (site.tmp / "access.log").read_text()):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert LOGIN in log and "/readyz" not in log


def test_nginx_takes_a_bench_full_of_photos():
    """client_max_body_size fits MAX_PHOTOS photos at INSPECTION_PHOTO_MAX_BYTES each."""
    text = (DEPLOY / "nginx-tradein.conf").read_text()
    size = int(re.search(r"client_max_body_size (\d+)m;", text).group(1)) * 2**20
    assert size >= MAX_PHOTOS * settings.INSPECTION_PHOTO_MAX_BYTES
