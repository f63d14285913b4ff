"""Every core error kind maps to one exception class under idp.IdpError."""

import pytest

import idp
import idp.exceptions
from conftest import ALICE, MALLORY, PAT, request

CLASSES = {
    "InvalidInput": idp.InvalidInputError,
    "Denied": idp.DeniedError,
    "Conflict": idp.ConflictError,
    "NotFound": idp.NotFoundError,
    "PolicyViolation": idp.PolicyViolationError,
    "Provider": idp.ProviderError,
    "Internal": idp.InternalError,
    "Cancelled": idp.CancelledError,
}


def test_one_class_per_core_error_kind_under_idp_error():
    assert set(idp._native.ERROR_KINDS) == set(CLASSES)
    for kind, cls in CLASSES.items():
        assert issubclass(cls, idp.IdpError) and cls.kind == kind
        assert getattr(idp.exceptions, cls.__name__) is cls
    assert idp.exceptions.IdpError is idp.IdpError


def test_exceptions_are_also_the_matching_builtins(platform):
    assert issubclass(idp.NotFoundError, LookupError)
    assert issubclass(idp.InvalidInputError, ValueError)
    assert issubclass(idp.DeniedError, PermissionError)
    with pytest.raises(LookupError):
        platform.explain(service="nobody-made-this")
    with pytest.raises(PermissionError):
        platform.run_golden_path(request(), as_=MALLORY)


def test_every_error_says_whether_retrying_may_help(platform):
    with pytest.raises(idp.DeniedError) as e:
        platform.run_golden_path(request(), as_=MALLORY)
    assert e.value.retryable is False
    with pytest.raises(idp.InvalidInputError) as e:
        platform.run_golden_path(service="Bad_Name", owner="team-payments")
    assert e.value.retryable is False


def test_an_outsider_is_denied_with_the_decision_in_details(platform):
    with pytest.raises(idp.DeniedError) as e:
        platform.run_golden_path(request(), as_=MALLORY)
    assert e.value.kind == "Denied"
    assert e.value.context["action"] == "run_golden_path"
    assert e.value.details[0]["allowed"] is False
    assert "mallory" in str(e.value)


def test_a_bad_service_name_is_invalid_input_naming_the_field(platform):
    with pytest.raises(idp.InvalidInputError) as e:
        platform.run_golden_path(service="Bad_Name", owner="team-payments")
    assert e.value.context == {"field": "service"}
    # .reason is the message alone (the CLI's JSON `message`); str() adds the context.
    assert e.value.reason.startswith('service name "Bad_Name" is not allowed')
    assert str(e.value) == f"{e.value.reason} (field: service)"


def test_a_wrongly_typed_or_unknown_argument_is_invalid_input(platform):
    with pytest.raises(idp.InvalidInputError):
        platform.explain(service=7)
    with pytest.raises(idp.InvalidInputError):
        platform.explain(service="x", extra=1)
    with pytest.raises(idp.InvalidInputError):
        platform.call("no_such_method")
    with pytest.raises(idp.InvalidInputError):
        platform.run_golden_path(request(), as_=42)
    with pytest.raises(idp.InvalidInputError):
        platform.run_golden_path(service="a", owner="b", parameters={"when": object()})


def test_an_unknown_service_or_run_is_not_found(platform):
    with pytest.raises(idp.NotFoundError):
        platform.explain(service="nobody-made-this")
    with pytest.raises(idp.NotFoundError):
        platform.resume(run_id="run-20000101T000000-deadbeef")


def test_a_name_taken_by_another_owner_is_a_conflict(platform):
    platform.run_golden_path(request())
    with pytest.raises(idp.ConflictError):
        platform.run_golden_path(service="payments-api", owner="platform-team", as_=PAT)


def test_a_rego_deny_is_a_policy_violation_listing_every_violation(tmp_path):
    idp.init(tmp_path / "platform")
    (tmp_path / "platform/policies/no-deployments.rego").write_text(
        "package main\nimport rego.v1\n"
        'deny_no_deployments contains msg if {\n  input.kind == "Deployment"\n'
        '  msg := "no Deployments here"\n}\n'
    )
    p = idp.Platform.from_dir(tmp_path / "platform", workspace=tmp_path / "ws", as_=ALICE)
    with pytest.raises(idp.PolicyViolationError) as e:
        p.run_golden_path(request())
    assert e.value.kind == "PolicyViolation"
    assert any("no Deployments here" in str(v) for v in e.value.details)


def test_a_broken_platform_folder_is_invalid_input_naming_the_file(tmp_path):
    idp.init(tmp_path / "platform")
    (tmp_path / "platform/idp.yaml").write_text("organization: [unclosed\n")
    with pytest.raises(idp.InvalidInputError) as e:
        idp.Platform.from_dir(tmp_path / "platform", workspace=tmp_path / "ws")
    assert "idp.yaml" in str(e.value)


def test_a_workspace_that_cannot_be_written_is_an_error_not_a_crash(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(idp.IdpError) as e:
        idp.Platform.default(workspace=blocker / "ws")
    assert isinstance(e.value, CLASSES[e.value.kind])
