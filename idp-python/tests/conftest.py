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
