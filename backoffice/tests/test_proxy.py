"""The reverse proxy of docker-compose.yml (deploy/nginx/wine-shop.conf.template), run natively
with Debian's nginx of the image's version, in front of stand-in upstreams that record what they
receive: which headers the application can trust, the body limit, and request buffering.
"""

import http.server
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
import yaml
from django.conf import settings

from backoffice.tests.test_flower import free_port
from backoffice.tests.workers import wait_for

BASE = Path(settings.BASE_DIR)
TEMPLATE = BASE / "deploy" / "nginx" / "wine-shop.conf.template"
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
LIMIT = 4096

pytestmark = [
    # CI installs nginx (make test) and must run these; elsewhere they skip without it.
    pytest.mark.skipif(
        NGINX is None and not os.environ.get("CI"), reason="Debian's nginx is not installed"
    ),
]


class Upstream(http.server.ThreadingHTTPServer):
    """Stands in for gunicorn (or Flower): answers 200 and keeps what each request carried."""

    def __init__(self, name: str):
        self.name = name
        self.received: list[dict] = []
        self.page = b""  # when set, the HTML every request is answered with, else the name
        super().__init__(("127.0.0.1", 0), UpstreamHandler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class UpstreamHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append(
            {"path": self.path, "headers": dict(self.headers), "body": len(body)}
        )
        answer = self.server.page or self.server.name.encode()
        self.send_response(200)
        if self.server.page:
            self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = answer


def render(template: str, environ: dict[str, str]) -> str:
    """Substitute ${NAME} as the nginx image's entry point does (envsubst of the environment)."""
    return re.sub(r"\$\{(\w+)\}", lambda match: environ[match.group(1)], template)


def native(config: str, replacements: dict[str, str]) -> str:
    """Point the compose configuration at this machine: loopback ports, local certificates."""
    for compose, here in replacements.items():
        assert compose in config, f"{compose!r} is no longer in the proxy's configuration"
        config = config.replace(compose, here)
    return config


class Proxy:
    def __init__(self, folder: Path, *, web: Upstream, flower: Upstream):
        self.folder = folder
        self.http_port, self.https_port = free_port(), free_port()
        certs = folder / "certs"
        certs.mkdir()
        # A self-signed certificate for the loopback address the tests connect to.
        self.certificate = certs / "fullchain.pem"
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
                *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
                *("-keyout", certs / "privkey.pem", "-out", self.certificate),
            ],
            check=True,
            capture_output=True,
        )
        site = render(
            TEMPLATE.read_text(),
            {
                "SITE_DOMAIN": "shop.example.test",
                "FLOWER_DOMAIN": "flower.example.test",
                "IMPORT_MAX_UPLOAD_BYTES": str(LIMIT),
            },
        )
        site = native(
            site,
            {
                "web:8000": web.address,
                "flower:5555": flower.address,
                "listen 80 ": f"listen 127.0.0.1:{self.http_port} ",
                "listen 443 ssl": f"listen 127.0.0.1:{self.https_port} ssl",
                "/etc/nginx/certs/": f"{certs}/",
            },
        )
        (folder / "site.conf").write_text(site)
        for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (folder / temp).mkdir()
        # The image's main file, reduced to what the site needs; as root, workers stay root so
        # they can write the test's temporary folders.
        (folder / "nginx.conf").write_text(
            f"""{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/site.conf;
}}
"""
        )
        self.process: subprocess.Popen | None = None

    def command(self, *args: str) -> list[str]:
        return [
            NGINX,
            "-p",
            str(self.folder),
            "-e",
            "stderr",
            "-c",
            str(self.folder / "nginx.conf"),
            *args,
        ]

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command("-g", "daemon off;"),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self.answers, timeout=20, what="nginx to listen")

    def answers(self) -> bool:
        assert self.process.poll() is None, self.process.stdout.read().decode()
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.https_port)) == 0

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def https(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(
            method,
            f"https://127.0.0.1:{self.https_port}{path}",
            verify=self.certificate,
            timeout=10,
            **kwargs,
        )


@pytest.fixture
def upstreams():
    web, flower = Upstream("web"), Upstream("flower")
    yield web, flower
    for upstream in (web, flower):
        upstream.shutdown()
        upstream.server_close()


@pytest.fixture
def proxy(tmp_path, upstreams):
    if NGINX is None:
        pytest.fail("CI must run the proxy tests: install Debian's nginx (make test does, as root)")
    proxy = Proxy(tmp_path, web=upstreams[0], flower=upstreams[1])
    proxy.start()
    yield proxy
    proxy.stop()


def test_the_configuration_is_valid_for_nginx(tmp_path, upstreams):
    if NGINX is None:
        pytest.fail("CI must run the proxy tests: install Debian's nginx (make test does, as root)")
    proxy = Proxy(tmp_path, web=upstreams[0], flower=upstreams[1])
    result = subprocess.run(proxy.command("-t"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_the_image_runs_the_nginx_the_tests_run():
    services = yaml.safe_load((BASE / "docker-compose.yml").read_text())["services"]
    image = services["proxy"]["image"]
    if NGINX is None:
        pytest.fail("CI must run the proxy tests: install Debian's nginx (make test does, as root)")
    version = subprocess.run([NGINX, "-v"], capture_output=True, text=True).stderr
    assert re.search(r"nginx/(\S+)", version).group(1) == image.split(":")[1].split("-")[0]


def test_forwarded_headers_a_client_sends_are_replaced_by_what_the_proxy_saw(proxy, upstreams):
    web, _ = upstreams
    spoofed = {
        "X-Forwarded-For": "203.0.113.66, 198.51.100.7",
        "X-Forwarded-Proto": "http",
        "X-Forwarded-Host": "evil.example",
        "Forwarded": "for=203.0.113.66;proto=http",
        "X-Real-IP": "203.0.113.66",
    }
    response = proxy.https("GET", "/wines/?page=2", headers=spoofed)
    assert (response.status_code, response.text) == (200, "web")
    [received] = web.received
    headers = {name.lower(): value for name, value in received["headers"].items()}
    # One hop, the address nginx saw: what DJANGO_TRUSTED_PROXY_HOPS=1 reads.
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "https"
    assert not {"x-forwarded-host", "forwarded", "x-real-ip"} & set(headers)
    assert received["path"] == "/wines/?page=2"


def test_bodies_over_the_upload_limit_are_refused_with_413_before_the_shop(proxy, upstreams):
    web, _ = upstreams
    response = proxy.https("POST", "/admin/shop/wine/import/", data=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    # Sent in chunks, with no length announced: counted as it arrives.
    chunks = (b"x" * 1024 for _ in range(LIMIT // 1024 + 1))
    assert proxy.https("POST", "/admin/shop/wine/import/", data=chunks).status_code == 413
    assert web.received == []
    response = proxy.https("POST", "/admin/shop/wine/import/", data=b"x" * LIMIT)
    assert response.status_code == 200
    assert web.received[0]["body"] == LIMIT


def test_a_slow_upload_reaches_the_shop_only_once_it_is_whole(proxy, upstreams):
    web, _ = upstreams
    context = ssl.create_default_context(cafile=proxy.certificate)
    with (
        socket.create_connection(("127.0.0.1", proxy.https_port)) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(
            b"POST /cart/ HTTP/1.1\r\nHost: shop.example.test\r\nContent-Length: 100\r\n"
            b"Connection: close\r\n\r\n" + b"x" * 50
        )
        time.sleep(1)
        # Half a body: none of gunicorn's workers has been asked to wait for the rest.
        assert web.received == []
        tls.sendall(b"x" * 50)
        answer = b""
        while chunk := tls.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")
    assert web.received[0]["body"] == 100


def test_plain_http_goes_to_https_but_healthz_answers(proxy, upstreams):
    web, _ = upstreams
    url = f"http://127.0.0.1:{proxy.http_port}"
    response = requests.get(f"{url}/cart/", allow_redirects=False, timeout=10)
    assert response.status_code == 301
    assert response.headers["Location"] == "https://127.0.0.1/cart/"
    assert requests.get(f"{url}/healthz", timeout=10).text == "web"
    assert web.received[0]["headers"]["X-Forwarded-Proto"] == "http"


def test_flower_is_reached_by_its_own_host_name(proxy, upstreams):
    web, flower = upstreams
    response = proxy.https("GET", "/metrics", headers={"Host": "flower.example.test"})
    assert response.text == "flower"
    assert [request["path"] for request in flower.received] == ["/metrics"]
    assert web.received == []


# A catalog page's worth of cards: what the shop's pages repeat, and gzip takes out.
PAGE = b"<!doctype html><ul>" + b'<li class="wine-card"><h2>Cuvee</h2></li>' * 600 + b"</ul>"


@pytest.mark.parametrize("path", ["/", "/wine/cuvee-1/", "/cart/", "/?q=chateau&country=france"])
def test_shop_pages_are_compressed_for_browsers_that_take_them(proxy, upstreams, path):
    web, _ = upstreams
    web.page = PAGE
    response = proxy.https("GET", path, headers={"Accept-Encoding": "gzip"}, stream=True)
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    sent = len(response.raw.read(decode_content=False))
    assert sent < len(PAGE) / 10
    plain = proxy.https("GET", path, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert plain.content == PAGE


@pytest.mark.parametrize("path", ["/admin/", "/admin/orders/order/?q=smith"])
def test_staff_pages_are_sent_as_they_are(proxy, upstreams, path):
    web, _ = upstreams
    web.page = PAGE
    response = proxy.https("GET", path, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers
    assert response.content == PAGE


def test_short_answers_are_sent_as_they_are(proxy, upstreams):
    response = proxy.https("GET", "/ping/", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers
    assert response.text == "web"
