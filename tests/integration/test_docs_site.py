"""The documentation site, built with ``mkdocs build --strict`` and opened page by page in a real
browser (headless Chromium through Playwright, pointed at the system's browser: no download).

Skipped, saying why, where the ``docs`` extra or a Chromium is missing; CI installs both.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def _chromium() -> str | None:
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("mkdocs", reason="the docs extra is not installed (pip install -e '.[docs]')")
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)], cwd=ROOT,
                           capture_output=True, text=True)  # fmt: skip
    assert build.returncode == 0, build.stderr[-4000:]
    return out


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the docs extra)")
    executable = _chromium()
    if executable is None:
        pytest.skip(f"no Chromium on PATH ({', '.join(CHROMIUM_NAMES)}); on Debian: apt-get install chromium")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


def _pages(site: Path) -> list[str]:
    return sorted(str(path.relative_to(site)) for path in site.rglob("*.html") if path.name != "404.html")


def test_the_site_builds_strictly_with_a_page_for_each_part(site):
    pages = _pages(site)
    for expected in ("index.html", "reference/api/index.html", "reference/cli/index.html", "changelog/index.html"):
        assert expected in pages, pages
    assert len([page for page in pages if page.startswith("tutorials/")]) >= 8


def test_every_page_opens_with_a_title_no_broken_link_image_or_script_and_no_console_error(site, server, browser):
    problems: list[str] = []
    checked_links: dict[str, int] = {}
    page = browser.new_page()
    console: list[str] = []
    failed: list[str] = []
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)  # fmt: skip
    for name in _pages(site):
        console.clear()
        failed.clear()
        url = urljoin(server, name)
        page.goto(url, wait_until="networkidle")
        if not page.title().strip():
            problems.append(f"{name}: no title")
        problems += [f"{name}: {line}" for line in failed]
        # The sandbox has no network: a request to another host may fail, nothing else may.
        problems += [f"{name}: console error {text}" for text in console if "net::ERR_" not in text]
        for href in page.eval_on_selector_all("a[href], img[src], script[src]", "els => els.map(e => e.href || e.src)"):
            target = urlparse(href)
            if target.scheme not in ("http", "https") or target.netloc != urlparse(server).netloc:
                continue  # another site: not ours to check offline
            key = href.split("#")[0]
            if key not in checked_links:
                checked_links[key] = page.request.get(key).status
            if checked_links[key] >= 400:
                problems.append(f"{name}: {checked_links[key]} for {href}")
    page.close()
    assert not problems, "\n".join(problems[:40])
    assert len(checked_links) > 20  # the pages do link to each other


def test_the_search_finds_the_target_network_agent(server, browser):
    page = browser.new_page()
    page.goto(server, wait_until="networkidle")
    page.keyboard.press("/")  # Material's shortcut: focus the search box
    page.keyboard.type("TargetDQNAgent")
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=15_000)
    assert "TargetDQNAgent" in results.first.inner_text()
    page.close()


def test_gh_deploy_from_a_clone_publishes_the_site_to_the_gh_pages_branch(tmp_path):
    """``mkdocs gh-deploy`` from a fresh clone pushes the built site to ``gh-pages`` of its origin
    (here a bare repository on disk), with the ``site_url`` a fork sets in the sitemap."""
    pytest.importorskip("mkdocs", reason="the docs extra is not installed (pip install -e '.[docs]')")
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    origin, clone = tmp_path / "origin.git", tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--bare", str(ROOT), str(origin)], check=True)
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
    env = {**os.environ, "DOCS_EXECUTE": "false", "SITE_URL": "https://example.invalid/keras_dqn/",
           "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
           "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.invalid"}  # fmt: skip
    command = [sys.executable, "-m", "mkdocs", "gh-deploy", "--strict", "--no-history", "--message", "site"]
    deploy = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True)
    assert deploy.returncode == 0, deploy.stderr[-4000:]
    listing = subprocess.run([*git, "-C", str(origin), "ls-tree", "-r", "--name-only", "gh-pages"], check=True,
                             capture_output=True, text=True).stdout.split()  # fmt: skip
    assert "index.html" in listing and "tutorials/blog/index.html" in listing and ".nojekyll" in listing
    sitemap = subprocess.run([*git, "-C", str(origin), "show", "gh-pages:sitemap.xml"], check=True,
                             capture_output=True, text=True).stdout  # fmt: skip
    assert "https://example.invalid/keras_dqn/tutorials/blog/" in sitemap
