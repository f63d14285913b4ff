import os
import shutil
from pathlib import Path

import pytest

import idp

ALICE = "user:default/alice"  # in team-payments
PAT = "user:default/pat"  # platform admin
MALLORY = "user:default/mallory"  # in no team
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture
def platform(workspace: Path) -> idp.Platform:
    return idp.Platform.default(workspace=workspace, as_=ALICE)


def request(service: str = "payments-api", **params) -> idp.ServiceRequest:
    return idp.ServiceRequest(service=service, owner="team-payments", parameters=params)


def stable(receipt: dict) -> dict:
    """A receipt less what differs between two identical runs (as the core's stable_json)."""
    return {k: v for k, v in receipt.items() if k not in ("run_id", "started_at", "finished_at")}


def cli_binary() -> str:
    """The idp CLI built from this repo (scripts/test-bindings.sh builds it and sets IDP_CLI)."""
    for candidate in (
        os.environ.get("IDP_CLI"),
        os.path.join(os.environ.get("CARGO_TARGET_DIR", REPO / "target"), "debug", "idp"),
        shutil.which("idp"),
    ):
        if candidate and os.path.isfile(candidate):
            return str(candidate)
    pytest.fail("the idp CLI is not built: run `cargo build -p idp-cli` or set IDP_CLI")


FORGE_TOKEN = "py-forge-token"
WEBHOOK_SECRET = "py-forge-webhook-secret"


def testforge_binary() -> str:
    """The test forge built from this repo (scripts/test-bindings.sh sets IDP_TESTFORGE)."""
    for candidate in (
        os.environ.get("IDP_TESTFORGE"),
        os.path.join(os.environ.get("CARGO_TARGET_DIR", REPO / "target"), "debug", "idp-testforge"),
    ):
        if candidate and os.path.isfile(candidate):
            return str(candidate)
    pytest.fail("the test forge is not built: run `cargo build -p idp-testforge` or set IDP_TESTFORGE")


@pytest.fixture
def forge(tmp_path: Path):
    """A test forge on a free loopback port (its base URL); stopped after the test."""
    import subprocess

    proc = subprocess.Popen(
        [testforge_binary(), "--listen", "127.0.0.1:0", "--root", str(tmp_path / "forge"),
         "--token", FORGE_TOKEN, "--webhook-secret", WEBHOOK_SECRET],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def forge_platform_dir(
    tmp_path: Path, base: str, auto_merge: bool, kind: str = "github", token: bool = True
) -> Path:
    """`idp init` with source control on the test forge at `base`, as forge `kind`; without
    `token`, idp.yaml names none (the host passes it)."""
    import subprocess

    dest = tmp_path / "platform"
    subprocess.run([cli_binary(), "init", str(dest)], check=True, capture_output=True)
    yaml = (dest / "idp.yaml").read_text()
    api = {"github": "v3", "gitea": "v1", "gitlab": "v4"}[kind]
    yaml = yaml.replace(
        "    kind: local-git\n",
        f"    kind: {kind}\n    api_url: {base}/api/{api}\n    owner: acme\n"
        + ("    token: { env: IDP_GITHUB_TOKEN }\n" if token else "")
        + "    webhook_secret: { env: IDP_GITHUB_WEBHOOK_SECRET }\n",
    ).replace("    auto_merge: true\n", f"    auto_merge: {'true' if auto_merge else 'false'}\n")
    (dest / "idp.yaml").write_text(yaml)
    return dest
