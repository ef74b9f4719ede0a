"""No CDN and nothing third-party committed: static/ holds only our own small, readable files, and no
template or page loads a script, style sheet, font or image from another site."""

from __future__ import annotations

import re

from support import make_reference_data

from volunteer_hub.settings import ROOT

STATIC = ROOT / "static"
TEMPLATES = ROOT / "templates"
OWN_EXTENSIONS = {".css", ".js", ".svg", ".png", ".ico"}
MAX_BYTES = 32 * 1024  # our own CSS and scripts are a few KB; a bundled library is far larger
MAX_LINE = 400  # minified code is one very long line
# What bundled libraries carry: licence banners, copyright notices, source maps, well-known names.
VENDOR_MARKS = re.compile(
    r"@license|/\*!|\bcopyright\b|\(c\) \d{4}|MIT License|Apache License|sourceMappingURL|"
    r"\bjquery\b|\bbootstrap\b|\btailwind\b|\bhtmx\b|\balpine(js)?\b|\bvue\b|\breact\b|\bchart\.js\b|\bleaflet\b|"
    r"\bfont ?awesome\b|\bnormalize\.css\b|\bwebpack\b",
    re.IGNORECASE,
)
# A reference that makes the browser fetch something: scripts, styles, fonts, images, frames.
EXTERNAL_LOAD = re.compile(
    r"<(?:script|link|img|iframe|source|embed|object|video|audio)\b[^>]*\b(?:src|href|data|srcset)\s*=\s*[\"']?\s*"
    r"(?:https?:)?//"
    r"|@import\s+(?:url\()?\s*[\"']?\s*(?:https?:)?//"
    r"|url\(\s*[\"']?\s*(?:https?:)?//",
    re.IGNORECASE,
)


def _files(folder):
    return sorted(path for path in folder.rglob("*") if path.is_file())


def test_static_holds_only_our_own_small_files():
    files = _files(STATIC)
    assert files, "static/ is empty: the check would prove nothing"
    problems = []
    for path in files:
        name = path.relative_to(ROOT)
        if path.suffix.lower() not in OWN_EXTENSIONS:
            problems.append(f"{name}: unexpected kind of file")
        if ".min." in path.name or path.name.endswith((".map", ".bundle.js")):
            problems.append(f"{name}: a minified or bundled file")
        if path.stat().st_size > MAX_BYTES:
            problems.append(f"{name}: {path.stat().st_size} bytes")
        if path.suffix.lower() in {".css", ".js", ".svg"}:
            text = path.read_text(encoding="utf-8")
            if mark := VENDOR_MARKS.search(text):
                problems.append(f"{name}: {mark.group(0)!r} looks like third-party code")
            if (longest := max((len(line) for line in text.splitlines()), default=0)) > MAX_LINE:
                problems.append(f"{name}: a line of {longest} characters (minified?)")
            if EXTERNAL_LOAD.search(text):
                problems.append(f"{name}: loads something from another site")
    assert problems == []


def test_the_checks_catch_what_they_look_for():
    # The patterns themselves can fail: a CDN script, a Google font, a licence banner.
    assert EXTERNAL_LOAD.search('<script src="https://cdn.jsdelivr.net/npm/htmx.org"></script>')
    assert EXTERNAL_LOAD.search("<link rel=stylesheet href=//fonts.googleapis.com/css?family=Roboto>")
    assert EXTERNAL_LOAD.search("body { background: url('https://example.com/x.png') }")
    assert EXTERNAL_LOAD.search('@import "https://unpkg.com/a.css";')
    assert not EXTERNAL_LOAD.search('<a href="https://www.gov.cn/">link</a> <link href="/static/css/app.css">')
    assert VENDOR_MARKS.search("/*! jQuery v3.7.1 | (c) OpenJS Foundation */")


def test_templates_load_nothing_from_another_site():
    templates = _files(TEMPLATES)
    assert len(templates) > 10
    problems = [f"{path.relative_to(ROOT)}: {match.group(0)}" for path in templates
                for match in EXTERNAL_LOAD.finditer(path.read_text(encoding="utf-8"))]
    assert problems == []


async def test_pages_as_served_load_nothing_from_another_site(client):
    await make_reference_data()
    for url in ("/", "/login", "/register", "/schema", "/static/css/app.css"):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert not EXTERNAL_LOAD.search(response.text), (url, EXTERNAL_LOAD.search(response.text).group(0))
        assert "cdn." not in response.text and "unpkg.com" not in response.text and "googleapis" not in response.text, url
    # Litestar's HTML viewers of the schema load their scripts from CDNs, so they are not served.
    for url in ("/schema/swagger", "/schema/redoc", "/schema/elements", "/schema/rapidoc"):
        assert (await client.get(url)).status_code == 404, url
