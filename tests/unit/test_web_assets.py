"""The pages' assets are the package's own: the vendored libraries match their manifest, nothing loads from elsewhere."""

from __future__ import annotations

import hashlib
import re
import tomllib

from linzhang.web.render import DOMAIN_TEMPLATES, STATIC, TEMPLATES

VENDOR = STATIC / "vendor"
NOT_LISTED = {"MANIFEST.toml", "LICENSE", "NOTICE"}


def test_every_vendored_file_is_in_the_manifest_with_its_digest_and_licence() -> None:
    manifest = tomllib.loads((VENDOR / "MANIFEST.toml").read_text())
    listed: dict[str, str] = {}
    for name, entry in manifest.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", entry["version"]), name  # pinned, no ranges
        assert entry["license"]
        listed.update(entry["files"])
        folder = VENDOR / next(iter(entry["files"])).split("/")[0]
        assert (folder / "LICENSE").is_file(), f"{name} ships without its licence"
    for relative, digest in listed.items():
        assert hashlib.sha256((VENDOR / relative).read_bytes()).hexdigest() == digest, relative
    present = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.is_file() and p.name not in NOT_LISTED}
    assert present == set(listed)


def test_templates_and_own_assets_load_nothing_from_another_server() -> None:
    external = re.compile(r"""(src|href|action|hx-(get|post))\s*=\s*["']?(https?:)?//""", re.IGNORECASE)
    css_import = re.compile(r"url\(\s*[\"']?(https?:)?//|@import", re.IGNORECASE)
    own = [*STATIC.glob("*.js"), *STATIC.glob("*.css")]
    domains = [path for folder in DOMAIN_TEMPLATES for path in folder.rglob("*.html")]
    assert STATIC / "app.css" in own
    for path in [*TEMPLATES.glob("*.html"), *domains, *own]:
        text = path.read_text()
        assert not external.search(text), path.name
        assert not css_import.search(text), path.name
        assert "@font-face" not in text, path.name  # system fonts only
