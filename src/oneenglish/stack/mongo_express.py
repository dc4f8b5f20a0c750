"""Mongo Express on loopback, beside the local FerretDB (the design document's port 8081).

Installed from npm with the pinned version and lock file in tools/mongo-express (`npm ci`,
scripts off) into DATA_DIR/tools, once per lock file. 1.0.0, not the newest 1.0.2: 1.0.2
depends on a package hosted on GitHub rather than the registry, and its published tarball has
no built assets, so it cannot start. It connects to FerretDB over verified TLS with the local
MongoDB role, and asks its users for a basic-auth login generated under DATA_DIR.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from oneenglish.stack.errors import StackError
from oneenglish.stack.process import (
    ensure_port_free,
    install_lock,
    live_pid,
    spawn,
    stop_by_pid_file,
    wait_http,
)

PACKAGE_DIR = Path(__file__).resolve().parents[3] / "tools" / "mongo-express"
PACKAGE_FILES = ("package.json", "package-lock.json")
LOGIN_USER = "admin"


@dataclass(frozen=True)
class MongoTarget:
    """The server Mongo Express opens: the local FerretDB."""

    port: int
    database: str
    user: str | None
    password: str | None
    ca_file: Path | None

    def url(self) -> str:
        credentials = (
            f"{quote(self.user, safe='')}:{quote(self.password or '', safe='')}@"
            if self.user
            else ""
        )
        # TLS is in the environment (its config sets ssl= itself and refuses a URL that
        # disagrees): see LocalMongoExpress.start.
        options = ["directConnection=true"]
        if self.user:
            # FerretDB 1.x authenticates with SASL PLAIN only (inside TLS).
            options += ["authMechanism=PLAIN", "authSource=%24external"]
        return f"mongodb://{credentials}127.0.0.1:{self.port}/{self.database}?{'&'.join(options)}"


class LocalMongoExpress:
    def __init__(
        self,
        root: Path,
        tools_dir: Path,
        port: int,
        login_password: str,
        secrets: tuple[str, str],
        target: MongoTarget,
    ) -> None:
        self.root = root.resolve()
        self.install_dir = tools_dir.resolve() / f"mongo-express-{lock_hash()}"
        self.port = port
        self.login_password = login_password
        self.cookie_secret, self.session_secret = secrets
        self.target = target
        self.pid_file = self.root / "mongo-express.pid"
        self.log_file = self.root / "mongo-express.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def package_dir(self) -> Path:
        # It reads ./build-assets.json from its working directory: it runs from its package.
        return self.install_dir / "node_modules" / "mongo-express"

    def pid(self) -> int | None:
        return live_pid(self.pid_file)

    def start(self) -> bool:
        if self.pid() is not None:
            return False
        ensure_port_free("Mongo Express", self.port, "LOCAL_MONGO_EXPRESS_PORT")
        node = self._install_once()
        self.root.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "NODE_ENV": "production",
            "VCAP_APP_HOST": "127.0.0.1",
            "PORT": str(self.port),
            "ME_CONFIG_MONGODB_URL": self.target.url(),
            "ME_CONFIG_MONGODB_ENABLE_ADMIN": "false",
            "ME_CONFIG_MONGODB_SSL": "true" if self.target.ca_file else "false",
            "ME_CONFIG_MONGODB_SSLVALIDATE": "true",
            **(
                {"ME_CONFIG_MONGODB_CA_FILE": str(self.target.ca_file)}
                if self.target.ca_file
                else {}
            ),
            "ME_CONFIG_BASICAUTH": "true",
            "ME_CONFIG_BASICAUTH_USERNAME": LOGIN_USER,
            "ME_CONFIG_BASICAUTH_PASSWORD": self.login_password,
            "ME_CONFIG_SITE_COOKIESECRET": self.cookie_secret,
            "ME_CONFIG_SITE_SESSIONSECRET": self.session_secret,
            "ME_CONFIG_OPTIONS_EDITORTHEME": "default",
        }
        pid = spawn(
            [node, "app.js"],
            log_file=self.log_file,
            pid_file=self.pid_file,
            cwd=self.package_dir,
            env=env,
        )
        wait_http("Mongo Express", self.url, pid=pid, log_file=self.log_file, timeout=60)
        return True

    def stop(self) -> bool:
        return stop_by_pid_file(self.pid_file)

    def _install_once(self) -> str:
        with install_lock(self.install_dir.parent):
            return self._install()

    def _install(self) -> str:
        node, npm = shutil.which("node"), shutil.which("npm")
        if node is None or npm is None:
            raise StackError(
                "Mongo Express: Node.js and npm are needed (Debian/Ubuntu: sudo apt-get install "
                "nodejs npm, or Node >= 18 from nodejs.org)"
            )
        marker = self.install_dir / ".oneenglish-installed"
        if marker.exists():
            return node
        shutil.rmtree(self.install_dir, ignore_errors=True)
        self.install_dir.mkdir(parents=True)
        for name in PACKAGE_FILES:
            shutil.copyfile(PACKAGE_DIR / name, self.install_dir / name)
        result = subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--omit=dev"],
            cwd=self.install_dir,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0 or not (self.package_dir / "app.js").exists():
            shutil.rmtree(self.install_dir, ignore_errors=True)
            raise StackError(f"Mongo Express: `npm ci` failed:\n{result.stderr[-3000:]}")
        marker.write_text("ok\n")
        for stale in self.install_dir.parent.glob("mongo-express-*"):
            if stale != self.install_dir:
                shutil.rmtree(stale, ignore_errors=True)
        return node


def lock_hash() -> str:
    digest = hashlib.sha256()
    for name in PACKAGE_FILES:
        digest.update((PACKAGE_DIR / name).read_bytes())
    return digest.hexdigest()[:16]
