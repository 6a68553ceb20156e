"""The set-up steps of scripts/env.sh: Odoo's source fetched once into the
cache, from a local repository or a URL, and Odoo's requirements made
installable without build headers."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import odoo_requirements  # noqa: E402  (a script, not a package)


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin", "HOME": str(cwd)})


@pytest.fixture
def odoo_repo(tmp_path):
    """A git repository shaped like Odoo's: two commits, the first 18.0, the second 17.0."""
    repo = tmp_path / "odoo"
    (repo / "odoo").mkdir(parents=True)
    (repo / "odoo-bin").write_text("#!/usr/bin/env python3\n")
    (repo / "requirements.txt").write_text("requests==2.31.0\n")
    (repo / "odoo" / "release.py").write_text("version_info = (18, 0, 0, 'final', 0, '')\n")
    git("init", "-q", "-b", "18.0", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "init", cwd=repo)
    first = subprocess.run(["git", "rev-parse", "--short=8", "HEAD"], cwd=repo, capture_output=True,
                           text=True, check=True).stdout.strip()
    (repo / "odoo" / "release.py").write_text("version_info = (17, 0, 0, 'final', 0, '')\n")
    git("commit", "-qam", "seventeen", cwd=repo)
    return repo, first


def ensure_source(cache, **env):
    script = f'ROOT={ROOT}; say() {{ printf "%s\\n" "$*"; }}; source {ROOT}/scripts/env.sh; ensure_odoo_source'
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(cache), "OMEGA_CACHE": str(cache), **env})


def test_the_source_is_fetched_once_then_reused(tmp_path, odoo_repo):
    repo, first = odoo_repo
    cache = tmp_path / "cache"
    fetched = ensure_source(cache, ODOO_SOURCE=str(repo), ODOO_REF=first)
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    assert "fetching" in fetched.stdout
    src = cache / "odoo-18.0" / "src"
    assert "(18, 0" in (src / "odoo" / "release.py").read_text()
    assert not (src.parent / "src.partial").exists()
    # same source and ref, or none given (CI, no network): the cache as it is
    for env in ({"ODOO_SOURCE": str(repo), "ODOO_REF": first}, {}):
        again = ensure_source(cache, **env)
        assert again.returncode == 0 and "cached" in again.stdout and "fetching" not in again.stdout


def test_an_odoo_that_is_not_18_is_refused_and_the_cache_kept(tmp_path, odoo_repo):
    repo, first = odoo_repo
    cache = tmp_path / "cache"
    assert ensure_source(cache, ODOO_SOURCE=str(repo), ODOO_REF=first).returncode == 0
    refused = ensure_source(cache, ODOO_SOURCE=str(repo), ODOO_REF="HEAD")
    assert refused.returncode == 1 and "is not Odoo 18.0" in refused.stdout
    assert "(18, 0" in (cache / "odoo-18.0" / "src" / "odoo" / "release.py").read_text()


def test_an_unknown_ref_or_source_says_what_to_do(tmp_path, odoo_repo):
    repo, _first = odoo_repo
    unknown = ensure_source(tmp_path / "c1", ODOO_SOURCE=str(repo), ODOO_REF="no-such-ref")
    assert unknown.returncode == 1 and "no commit" in unknown.stdout
    missing = ensure_source(tmp_path / "c2", ODOO_SOURCE=str(tmp_path / "nowhere.git"), ODOO_REF="18.0")
    assert missing.returncode == 1 and "set ODOO_SOURCE" in missing.stdout


def test_odoo_requirements_need_no_build_headers():
    lines = list(odoo_requirements.installable([
        "psycopg2==2.9.5 ; python_version == '3.11'",
        "python-ldap==3.4.0 ; sys_platform != 'win32' and python_version < '3.12' # min version",
        "cbor2==5.4.2 ; python_version < '3.12'",
        "# a comment",
        "",
        "requests==2.31.0 ; python_version >= '3.11' # (Noble)",
    ]))
    assert lines == [
        "psycopg2-binary==2.9.5 ; python_version == '3.11'",
        "cbor2==5.4.6 ; python_version < '3.12'",
        "requests==2.31.0 ; python_version >= '3.11'",
    ]
