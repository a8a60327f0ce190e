"""A throwaway PostgreSQL 15 + PostGIS cluster for tests and benchmarks.

Use it as a pytest plugin (``tests/conftest.py`` lists it in ``pytest_plugins``)::

    @pytest.mark.postgis
    def test_something(postgis):
        with postgis.connect() as conn:
            conn.execute("SELECT postgis_full_version()")

Other extensions are one statement away, e.g. for pgRouting (Debian's
``postgresql-15-pgrouting``): ``conn.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")``.
Tables made by a test should be ``TEMP`` (or dropped), since the cluster is shared by the
whole session.

Or outside pytest (the coverage benchmark does)::

    from postgis import PostgisCluster
    with PostgisCluster() as cluster:
        conn = cluster.connect()

The cluster is created with Debian's ``initdb``/``pg_ctl`` (``/usr/lib/postgresql/15/bin``,
override with ``GISRENEW_PG_BIN``) in a fresh temporary folder, listens on 127.0.0.1 on a
free port with ``trust`` authentication, has a database ``gisrenew`` with the ``postgis``
extension, and is stopped and deleted at the end of the session. PostgreSQL refuses to run
as root, so when the tests run as root (as CI does) the server runs as the ``postgres``
system user (created by the Debian package), started with ``runuser``.

Set ``GISRENEW_TEST_PG_DSN`` to use an existing server instead (its database must allow
``CREATE EXTENSION postgis``).

When PostGIS is unavailable the fixture *skips* on a developer machine but *fails* when
the environment variable ``CI`` is ``true``: the PostGIS oracle tests must run in CI.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

__all__ = ["PostgisCluster", "PostgisUnavailable", "postgis", "start_or_skip"]


def _newest_pg_bin() -> str:
    """The newest installed PostgreSQL's bin folder (scripts/ci-system-deps.sh installs the
    release's own major version, not always 15)."""
    majors = sorted(int(p.name) for p in Path("/usr/lib/postgresql").glob("*") if p.name.isdigit())
    return f"/usr/lib/postgresql/{majors[-1] if majors else 15}/bin"


PG_BIN = Path(os.environ.get("GISRENEW_PG_BIN", _newest_pg_bin()))
DATABASE = "gisrenew"
SERVER_USER = "postgres"


class PostgisUnavailable(RuntimeError):
    """PostgreSQL/PostGIS binaries, the ``postgres`` user or psycopg are missing."""


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgisCluster:
    """Start (``start()`` or ``with``) and remove a private PostGIS server.

    Parameters
    ----------
    settings : dict, optional
        Extra ``postgresql.conf`` settings (e.g. ``{"work_mem": "256MB"}``).
    extensions : sequence of str
        Extensions created in the database (``postgis`` always; add ``pgrouting`` if needed).

    Attributes
    ----------
    dsn : str
        libpq connection string of the database, once started.
    """

    def __init__(self, settings: dict | None = None, extensions=("postgis",)):
        self.settings = {
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "256MB",
            "work_mem": "64MB",
            "maintenance_work_mem": "256MB",
            **(settings or {}),
        }
        self.extensions = tuple(dict.fromkeys(("postgis", *extensions)))
        self.folder: Path | None = None
        self.port: int | None = None
        self.dsn: str | None = None
        self._external = False

    # ------------------------------------------------------------------ running commands
    @staticmethod
    def _as_root() -> bool:
        return os.geteuid() == 0

    def _run(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        if self._as_root():
            args = ["runuser", "-u", SERVER_USER, "--", *args]
        return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)

    def _check_available(self) -> None:
        missing = [name for name in ("initdb", "pg_ctl") if not (PG_BIN / name).exists()]
        if missing:
            raise PostgisUnavailable(
                f"{', '.join(missing)} not found in {PG_BIN}; install PostgreSQL and its "
                "PostGIS package (bash scripts/ci-system-deps.sh)"
            )
        control = Path("/usr/share/postgresql/15/extension/postgis.control")
        if not control.exists() and "GISRENEW_PG_BIN" not in os.environ:
            raise PostgisUnavailable(
                "the PostGIS extension is not installed (postgresql-15-postgis-3)"
            )
        if self._as_root():
            try:
                pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise PostgisUnavailable(
                    f"running as root but there is no `{SERVER_USER}` system user to run the server"
                ) from None
            if shutil.which("runuser") is None:
                raise PostgisUnavailable("running as root but `runuser` is not available")
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise PostgisUnavailable(
                "psycopg is not installed (pip install 'psycopg[binary]')"
            ) from None

    # ------------------------------------------------------------------ life cycle
    def start(self) -> PostgisCluster:
        """Create and start the cluster; return self."""
        external = os.environ.get("GISRENEW_TEST_PG_DSN")
        if external:
            self.dsn = external
            self._external = True
            self._create_extensions()
            return self
        self._check_available()
        self.folder = Path(tempfile.mkdtemp(prefix="gisrenew-pg-"))
        data = self.folder / "data"
        sockets = self.folder / "sock"
        sockets.mkdir()
        if self._as_root():
            entry = pwd.getpwnam(SERVER_USER)
            for path in (self.folder, sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        try:
            self._run(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    SERVER_USER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ]
            )
            self.port = _free_port()
            options = " ".join(
                [
                    f"-p {self.port}",
                    "-c listen_addresses=127.0.0.1",
                    f"-c unix_socket_directories={sockets}",
                ]
                + [f"-c {key}={value}" for key, value in self.settings.items()]
            )
            self._run(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(self.folder / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            )
        except subprocess.CalledProcessError as exc:
            log = self._server_log()
            self.stop()
            raise PostgisUnavailable(
                f"could not start PostgreSQL: {exc.stderr or exc.stdout}\n{log}"
            ) from None
        admin = f"host=127.0.0.1 port={self.port} user={SERVER_USER} dbname=postgres"
        import psycopg

        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        self.dsn = f"host=127.0.0.1 port={self.port} user={SERVER_USER} dbname={DATABASE}"
        try:
            self._create_extensions()
        except Exception as exc:
            self.stop()
            raise PostgisUnavailable(f"could not create the PostGIS extension: {exc}") from None
        return self

    def _create_extensions(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            for name in self.extensions:
                conn.execute(f"CREATE EXTENSION IF NOT EXISTS {name}")

    def _server_log(self) -> str:
        if self.folder is None:
            return ""
        path = self.folder / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        """Stop the server and delete its folder (no-op for an external server)."""
        if self._external or self.folder is None:
            return
        data = self.folder / "data"
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run(
                    [str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
                )
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def __enter__(self) -> PostgisCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ using it
    def connect(self, **kwargs):
        """A new psycopg connection to the test database (autocommit by default)."""
        import psycopg

        kwargs.setdefault("autocommit", True)
        return psycopg.connect(self.dsn, **kwargs)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def start_or_skip(cluster: PostgisCluster) -> PostgisCluster:
    """Start `cluster`; when PostGIS is unavailable skip the test, or fail it in CI."""
    try:
        return cluster.start()
    except PostgisUnavailable as exc:
        if _in_ci():
            pytest.fail(f"PostGIS is required in CI but unavailable: {exc}", pytrace=False)
        pytest.skip(f"PostGIS unavailable: {exc}")


@pytest.fixture(scope="session")
def postgis():
    """A running :class:`PostgisCluster` shared by the whole test session.

    Skips when PostGIS is unavailable, except in CI (``CI=true``), where it fails.
    """
    cluster = start_or_skip(PostgisCluster())
    try:
        yield cluster
    finally:
        cluster.stop()
