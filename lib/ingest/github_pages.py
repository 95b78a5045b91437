"""Where GitHub Pages publishes a Jekyll site whose config names no ``url``.

Many Jekyll blogs leave ``url`` out of ``_config.yml``: GitHub Pages fills it in when it
builds them (jekyll-github-metadata), from a ``CNAME`` file (a custom domain, served at its
root) or else from the repository (``https://<owner>.github.io``, under ``/<repository>``
for a project site). A clone of such a blog still says both: its ``CNAME``, and the
``origin`` remote in its ``.git/config``. Without them its posts had no links.
"""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass
from pathlib import Path

# A host name as a CNAME file holds it (no scheme, no path).
_HOST = re.compile(r"(?i)^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# https://github.com/owner/repo(.git), git@github.com:owner/repo.git, ssh://git@github.com/…
_GITHUB_REMOTE = re.compile(
    r"(?i)^(?:https?://(?:[^@/]+@)?|ssh://(?:[^@/]+@)?|[^@/]+@)github\.com[:/]"
    r"(?P<owner>[a-z0-9-]{1,39})/(?P<repo>[a-z0-9._-]{1,100}?)(?:\.git)?/?$"
)


@dataclass(frozen=True)
class PagesAddress:
    """The site's address (``url``) and the path GitHub Pages serves it under (``baseurl``)."""

    url: str
    baseurl: str


def pages_address(site: Path) -> PagesAddress | None:
    """Where GitHub Pages serves the Jekyll site in folder ``site``, or ``None`` when its
    clone does not say (no CNAME, no GitHub remote)."""
    host = _cname(site)
    if host is not None:
        return PagesAddress(f"https://{host}", "")
    remote = _origin_remote(site)
    found = _GITHUB_REMOTE.match(remote) if remote else None
    if found is None:
        return None
    owner, repo = found.group("owner").lower(), found.group("repo")
    user_site = repo.lower() == f"{owner}.github.io"
    return PagesAddress(f"https://{owner}.github.io", "" if user_site else f"/{repo}")


def _cname(site: Path) -> str | None:
    try:
        lines = (site / "CNAME").read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        return None
    host = lines[0].strip().rstrip(".") if lines else ""
    return host.lower() if _HOST.match(host) else None


def _origin_remote(site: Path) -> str | None:
    """The ``origin`` remote's URL of the repository whose root (or ``docs/`` folder, the
    two places GitHub Pages publishes from) is ``site``; a site deeper in some other
    repository is not that repository's Pages site."""
    for folder in (site, site.parent) if site.name == "docs" else (site,):
        config = folder / ".git" / "config"
        if config.is_file():
            parser = configparser.ConfigParser(strict=False, interpolation=None)
            try:
                parser.read(config, encoding="utf-8")
            except (configparser.Error, OSError, UnicodeDecodeError):
                return None
            return parser.get('remote "origin"', "url", fallback=None)
        if (folder / ".git").exists():  # a worktree or submodule: its config is elsewhere
            return None
    return None
