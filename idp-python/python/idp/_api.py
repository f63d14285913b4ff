# Generated from idp-core's Rust types by `idp_core::api::schema::python`; do not edit.
# A test in idp-core regenerates it and fails when it drifts (IDP_BLESS=1 rewrites it).
"""Typed results and arguments of the call surface, and the typed methods of
`idp.Platform` and `idp.aio.Platform`."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, List, Literal, Optional, Union

from ._record import Args, Record


class Progress(Record):
    """A progress event, for faces that show what is happening (the CLI prints them on stderr; the bindings pass them to a callback as they happen)."""

    __slots__ = ()

    @property
    def run_id(self) -> str:
        return self._data["run_id"]  # type: ignore[no-any-return]

    @property
    def step(self) -> Optional[StepId]:
        return self._data["step"]  # type: ignore[no-any-return]

    @property
    def message(self) -> str:
        return self._data["message"]  # type: ignore[no-any-return]


class Receipt(Record):
    """What an operation did."""

    __slots__ = ()

    @property
    def run_id(self) -> str:
        return self._data["run_id"]  # type: ignore[no-any-return]

    @property
    def operation(self) -> Operation:
        return self._data["operation"]  # type: ignore[no-any-return]

    @property
    def service(self) -> str:
        return self._data["service"]  # type: ignore[no-any-return]

    @property
    def owner(self) -> str:
        return self._data["owner"]  # type: ignore[no-any-return]

    @property
    def golden_path(self) -> str:
        return self._data["golden_path"]  # type: ignore[no-any-return]

    @property
    def scaffold_version(self) -> str:
        return self._data["scaffold_version"]  # type: ignore[no-any-return]

    @property
    def status(self) -> RunStatus:
        return self._data["status"]  # type: ignore[no-any-return]

    @property
    def started_at(self) -> str:
        return self._data["started_at"]  # type: ignore[no-any-return]

    @property
    def finished_at(self) -> str:
        return self._data["finished_at"]  # type: ignore[no-any-return]

    @property
    def steps(self) -> List[StepReceipt]:
        v = self._data["steps"]
        return [StepReceipt(x0) for x0 in v]

    @property
    def links(self) -> Dict[str, str]:
        """Repo and change request URLs by name."""
        return self._data["links"]  # type: ignore[no-any-return]

    @property
    def warnings(self) -> List[str]:
        return self._data["warnings"]  # type: ignore[no-any-return]


class StepReceipt(Record):
    """The outcome of one step."""

    __slots__ = ()

    @property
    def step(self) -> StepId:
        return self._data["step"]  # type: ignore[no-any-return]

    @property
    def repo(self) -> str:
        return self._data["repo"]  # type: ignore[no-any-return]

    @property
    def change_request(self) -> Optional[ChangeRequestRef]:
        """The change request that brought the repo to this state; `None` when it already was."""
        v = self._data["change_request"]
        return (None if v is None else ChangeRequestRef(v))

    @property
    def artifacts(self) -> List[Artifact]:
        v = self._data["artifacts"]
        return [Artifact(x0) for x0 in v]

    @property
    def outputs(self) -> Optional[Dict[str, Any]]:
        """Step-specific outputs (e.g. the infra outputs wired back to the service)."""
        return self._data.get("outputs")  # type: ignore[no-any-return]


class ChangeRequestRef(Record):
    """The change request (branch + commit + record) a step produced."""

    __slots__ = ()

    @property
    def id(self) -> str:
        """`payments-api#1`"""
        return self._data["id"]  # type: ignore[no-any-return]

    @property
    def repo(self) -> str:
        return self._data["repo"]  # type: ignore[no-any-return]

    @property
    def branch(self) -> str:
        return self._data["branch"]  # type: ignore[no-any-return]

    @property
    def commit(self) -> str:
        return self._data["commit"]  # type: ignore[no-any-return]

    @property
    def url(self) -> str:
        return self._data["url"]  # type: ignore[no-any-return]

    @property
    def state(self) -> ChangeRequestState:
        return self._data["state"]  # type: ignore[no-any-return]


class Artifact(Record):
    """One file a step produced."""

    __slots__ = ()

    @property
    def repo(self) -> str:
        return self._data["repo"]  # type: ignore[no-any-return]

    @property
    def path(self) -> str:
        return self._data["path"]  # type: ignore[no-any-return]

    @property
    def sha256(self) -> str:
        return self._data["sha256"]  # type: ignore[no-any-return]

    @property
    def ownership(self) -> Ownership:
        return self._data["ownership"]  # type: ignore[no-any-return]

    @property
    def provenance(self) -> str:
        """`python-fastapi-service@1.0.0:service/Dockerfile.tera`"""
        return self._data["provenance"]  # type: ignore[no-any-return]


class Plan(Record):
    """A dry run: the exact change sets an operation would apply, with diffs. Nothing was written."""

    __slots__ = ()

    @property
    def operation(self) -> Operation:
        return self._data["operation"]  # type: ignore[no-any-return]

    @property
    def service(self) -> str:
        return self._data["service"]  # type: ignore[no-any-return]

    @property
    def owner(self) -> str:
        return self._data["owner"]  # type: ignore[no-any-return]

    @property
    def golden_path(self) -> str:
        return self._data["golden_path"]  # type: ignore[no-any-return]

    @property
    def scaffold_version(self) -> str:
        return self._data["scaffold_version"]  # type: ignore[no-any-return]

    @property
    def parameters(self) -> Any:
        """Effective parameters (secrets redacted)."""
        return self._data["parameters"]  # type: ignore[no-any-return]

    @property
    def change_sets(self) -> List[ChangeSet]:
        v = self._data["change_sets"]
        return [ChangeSet(x0) for x0 in v]

    @property
    def warnings(self) -> List[str]:
        return self._data["warnings"]  # type: ignore[no-any-return]

    @property
    def decisions(self) -> List[DecisionRecord]:
        """Authorization decisions for the operation and every environment it writes to."""
        v = self._data["decisions"]
        return [DecisionRecord(x0) for x0 in v]

    @property
    def violations(self) -> List[Violation]:
        """Guardrail findings on what it would write (waived ones carry `waived_by`)."""
        v = self._data["violations"]
        return [Violation(x0) for x0 in v]

    @property
    def allowed(self) -> bool:
        """True when applying it would pass the policy point."""
        return self._data["allowed"]  # type: ignore[no-any-return]


class ChangeSet(Record):
    """Everything one step will do in one repo."""

    __slots__ = ()

    @property
    def step(self) -> StepId:
        return self._data["step"]  # type: ignore[no-any-return]

    @property
    def repo(self) -> str:
        return self._data["repo"]  # type: ignore[no-any-return]

    @property
    def repo_role(self) -> RepoRole:
        return self._data["repo_role"]  # type: ignore[no-any-return]

    @property
    def creates_repo(self) -> bool:
        """True when the repo does not exist yet and will be created."""
        return self._data["creates_repo"]  # type: ignore[no-any-return]

    @property
    def files(self) -> List[FileChange]:
        v = self._data["files"]
        return [FileChange(x0) for x0 in v]

    @property
    def digest(self) -> str:
        """SHA-256 over the rendered files (path and content hash, in path order), stamp excluded: equal digests mean the same desired state."""
        return self._data["digest"]  # type: ignore[no-any-return]


class FileChange(Record):
    """One file of a change set."""

    __slots__ = ()

    @property
    def path(self) -> str:
        return self._data["path"]  # type: ignore[no-any-return]

    @property
    def action(self) -> FileAction:
        return self._data["action"]  # type: ignore[no-any-return]

    @property
    def ownership(self) -> Optional[Ownership]:
        """`None` for the scaffold stamp, which the engine owns."""
        return self._data["ownership"]  # type: ignore[no-any-return]

    @property
    def provenance(self) -> str:
        """`golden-path@version:template`, or `idp:scaffold-stamp`."""
        return self._data["provenance"]  # type: ignore[no-any-return]

    @property
    def sha256(self) -> str:
        """SHA-256 of the content the file has after this change set."""
        return self._data["sha256"]  # type: ignore[no-any-return]

    @property
    def diff(self) -> Optional[str]:
        """Unified diff from the current content (plans only)."""
        return self._data.get("diff")  # type: ignore[no-any-return]

    @property
    def note(self) -> Optional[str]:
        """Why a file is kept or how it was merged."""
        return self._data.get("note")  # type: ignore[no-any-return]

    @property
    def environment(self) -> Optional[str]:
        """The environment the file belongs to (for per-environment files)."""
        return self._data.get("environment")  # type: ignore[no-any-return]


class DecisionRecord(Record):
    """One authorization decision, as shown in plans and kept in the audit log."""

    __slots__ = ()

    @property
    def action(self) -> str:
        return self._data["action"]  # type: ignore[no-any-return]

    @property
    def environment(self) -> Optional[str]:
        return self._data.get("environment")  # type: ignore[no-any-return]

    @property
    def intent(self) -> Optional[str]:
        """For infrastructure: the intent decided on (`bucket:logs`)."""
        return self._data.get("intent")  # type: ignore[no-any-return]

    @property
    def allowed(self) -> bool:
        return self._data["allowed"]  # type: ignore[no-any-return]

    @property
    def policies(self) -> List[str]:
        """Ids of the deciding policies (empty: denied by default)."""
        return self._data["policies"]  # type: ignore[no-any-return]

    @property
    def waiver(self) -> Optional[str]:
        """The waiver that approved a protected change, if one did."""
        return self._data.get("waiver")  # type: ignore[no-any-return]


class Violation(Record):
    """One finding."""

    __slots__ = ()

    @property
    def rule(self) -> str:
        """`labels-required`, `deny_privileged`, ..."""
        return self._data["rule"]  # type: ignore[no-any-return]

    @property
    def severity(self) -> Enforcement:
        return self._data["severity"]  # type: ignore[no-any-return]

    @property
    def repo(self) -> str:
        return self._data["repo"]  # type: ignore[no-any-return]

    @property
    def path(self) -> str:
        return self._data["path"]  # type: ignore[no-any-return]

    @property
    def environment(self) -> Optional[str]:
        return self._data.get("environment")  # type: ignore[no-any-return]

    @property
    def message(self) -> str:
        return self._data["message"]  # type: ignore[no-any-return]

    @property
    def source(self) -> str:
        """`convention` or `rego:<file>`."""
        return self._data["source"]  # type: ignore[no-any-return]

    @property
    def waived_by(self) -> Optional[str]:
        """The waiver that turns this deny into an allowed exception."""
        return self._data.get("waived_by")  # type: ignore[no-any-return]


class Explanation(Record):
    """Everything idp knows about what it created for a service."""

    __slots__ = ()

    @property
    def service(self) -> str:
        return self._data["service"]  # type: ignore[no-any-return]

    @property
    def owner(self) -> str:
        return self._data["owner"]  # type: ignore[no-any-return]

    @property
    def golden_path(self) -> str:
        return self._data["golden_path"]  # type: ignore[no-any-return]

    @property
    def scaffold_version(self) -> str:
        return self._data["scaffold_version"]  # type: ignore[no-any-return]

    @property
    def parameters(self) -> Any:
        return self._data["parameters"]  # type: ignore[no-any-return]

    @property
    def environments(self) -> Optional[Dict[str, Any]]:
        """Values of single environments over `parameters` (`{"prod": {"memory_limit": "1Gi"}}`)."""
        return self._data.get("environments")  # type: ignore[no-any-return]

    @property
    def repos(self) -> Dict[str, str]:
        """Repo name -> URL."""
        return self._data["repos"]  # type: ignore[no-any-return]

    @property
    def files(self) -> List[FileExplanation]:
        v = self._data["files"]
        return [FileExplanation(x0) for x0 in v]

    @property
    def change_requests(self) -> List[ChangeRequestSummary]:
        v = self._data["change_requests"]
        return [ChangeRequestSummary(x0) for x0 in v]

    @property
    def overrides(self) -> List[str]:
        """General advice on changing what the golden path generates."""
        return self._data["overrides"]  # type: ignore[no-any-return]

    @property
    def infrastructure(self) -> List[Resolution]:
        """The service's infrastructure: each intent in each environment, the module chosen (and every candidate with why), where each input's value comes from, and the bindings."""
        v = self._data["infrastructure"]
        return [Resolution(x0) for x0 in v]


class FileExplanation(Record):
    """One file idp created."""

    __slots__ = ()

    @property
    def repo(self) -> str:
        return self._data["repo"]  # type: ignore[no-any-return]

    @property
    def path(self) -> str:
        return self._data["path"]  # type: ignore[no-any-return]

    @property
    def step(self) -> StepId:
        return self._data["step"]  # type: ignore[no-any-return]

    @property
    def ownership(self) -> Ownership:
        return self._data["ownership"]  # type: ignore[no-any-return]

    @property
    def managed_by_platform(self) -> bool:
        """True when platform updates replace or merge into this file."""
        return self._data["managed_by_platform"]  # type: ignore[no-any-return]

    @property
    def provenance(self) -> str:
        """`golden-path@version:template`"""
        return self._data["provenance"]  # type: ignore[no-any-return]

    @property
    def rendered_sha256(self) -> str:
        """Hash of the file as idp rendered it."""
        return self._data["rendered_sha256"]  # type: ignore[no-any-return]

    @property
    def current_sha256(self) -> Optional[str]:
        """Hash of the file in the repo now; `None` if the team deleted it."""
        return self._data["current_sha256"]  # type: ignore[no-any-return]

    @property
    def locally_modified(self) -> bool:
        """True when the file in the repo differs from what idp rendered."""
        return self._data["locally_modified"]  # type: ignore[no-any-return]

    @property
    def drift(self) -> Optional[List[str]]:
        """Where a platform-managed (managed or merged) file differs from what idp rendered for the service's current parameters: key paths for YAML, JSON and TOML (`/spec/template/spec/containers[name=app]/ports[name=http]/containerPort`), line ranges for other files. Empty when it does not differ or the render is not in the content store."""
        return self._data.get("drift")  # type: ignore[no-any-return]

    @property
    def how_to_override(self) -> str:
        return self._data["how_to_override"]  # type: ignore[no-any-return]


class ChangeRequestSummary(Record):
    """A change request idp opened for the service."""

    __slots__ = ()

    @property
    def id(self) -> str:
        return self._data["id"]  # type: ignore[no-any-return]

    @property
    def repo(self) -> str:
        return self._data["repo"]  # type: ignore[no-any-return]

    @property
    def step(self) -> StepId:
        return self._data["step"]  # type: ignore[no-any-return]

    @property
    def branch(self) -> str:
        return self._data["branch"]  # type: ignore[no-any-return]

    @property
    def commit(self) -> Optional[str]:
        return self._data["commit"]  # type: ignore[no-any-return]

    @property
    def state(self) -> str:
        return self._data["state"]  # type: ignore[no-any-return]

    @property
    def url(self) -> Optional[str]:
        return self._data["url"]  # type: ignore[no-any-return]


class Resolution(Record):
    """An intent resolved in one environment."""

    __slots__ = ()

    @property
    def intent(self) -> str:
        """`bucket:logs`"""
        return self._data["intent"]  # type: ignore[no-any-return]

    @property
    def type(self) -> str:
        return self._data["type"]  # type: ignore[no-any-return]

    @property
    def class_(self) -> Optional[str]:
        return self._data["class"]  # type: ignore[no-any-return]

    @property
    def id(self) -> str:
        return self._data["id"]  # type: ignore[no-any-return]

    @property
    def environment(self) -> str:
        return self._data["environment"]  # type: ignore[no-any-return]

    @property
    def module(self) -> str:
        return self._data["module"]  # type: ignore[no-any-return]

    @property
    def module_version(self) -> str:
        return self._data["module_version"]  # type: ignore[no-any-return]

    @property
    def flavour(self) -> Flavour:
        return self._data["flavour"]  # type: ignore[no-any-return]

    @property
    def source(self) -> str:
        """Terraform module address, or the claim's `apiVersion/kind`."""
        return self._data["source"]  # type: ignore[no-any-return]

    @property
    def resource_name(self) -> str:
        return self._data["resource_name"]  # type: ignore[no-any-return]

    @property
    def secret(self) -> str:
        """The Secret the outputs land in."""
        return self._data["secret"]  # type: ignore[no-any-return]

    @property
    def file(self) -> str:
        """Where the rendered file goes in the infra repo."""
        return self._data["file"]  # type: ignore[no-any-return]

    @property
    def candidates(self) -> List[Candidate]:
        v = self._data["candidates"]
        return [Candidate(x0) for x0 in v]

    @property
    def inputs(self) -> List[ResolvedInput]:
        v = self._data["inputs"]
        return [ResolvedInput(x0) for x0 in v]

    @property
    def outputs(self) -> List[ResolvedOutput]:
        v = self._data["outputs"]
        return [ResolvedOutput(x0) for x0 in v]

    @property
    def bindings(self) -> List[Binding]:
        v = self._data["bindings"]
        return [Binding(x0) for x0 in v]

    @property
    def approvals(self) -> Optional[List[str]]:
        """Waiver rules (`module-override:<param>`) this resolution needs to be applied."""
        return self._data.get("approvals")  # type: ignore[no-any-return]


class Candidate(Record):
    """One module the resolver considered."""

    __slots__ = ()

    @property
    def module(self) -> str:
        return self._data["module"]  # type: ignore[no-any-return]

    @property
    def file(self) -> str:
        return self._data["file"]  # type: ignore[no-any-return]

    @property
    def matched(self) -> bool:
        return self._data["matched"]  # type: ignore[no-any-return]

    @property
    def specificity(self) -> int:
        return self._data["specificity"]  # type: ignore[no-any-return]

    @property
    def chosen(self) -> bool:
        return self._data["chosen"]  # type: ignore[no-any-return]

    @property
    def reasons(self) -> List[str]:
        """One line per constraint: what was compared and the outcome."""
        return self._data["reasons"]  # type: ignore[no-any-return]


class ResolvedInput(Record):
    """One input of the chosen module."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return self._data["name"]  # type: ignore[no-any-return]

    @property
    def value(self) -> Any:
        return self._data["value"]  # type: ignore[no-any-return]

    @property
    def source(self) -> InputSource:
        return self._data["source"]  # type: ignore[no-any-return]

    @property
    def param(self) -> Optional[str]:
        """The developer-facing parameter that sets it, if any."""
        return self._data.get("param")  # type: ignore[no-any-return]


class ResolvedOutput(Record):
    """An output of the chosen module."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return self._data["name"]  # type: ignore[no-any-return]

    @property
    def secret(self) -> bool:
        return self._data["secret"]  # type: ignore[no-any-return]


class Binding(Record):
    """An environment variable the service gets from the resource."""

    __slots__ = ()

    @property
    def name(self) -> str:
        """`LOGS_BUCKET_NAME`"""
        return self._data["name"]  # type: ignore[no-any-return]

    @property
    def secret(self) -> str:
        """The Secret holding the module's outputs."""
        return self._data["secret"]  # type: ignore[no-any-return]

    @property
    def key(self) -> str:
        """The key (module output) in that Secret."""
        return self._data["key"]  # type: ignore[no-any-return]

    @property
    def intent(self) -> str:
        """`bucket:logs`"""
        return self._data["intent"]  # type: ignore[no-any-return]

    @property
    def module(self) -> str:
        """`aws-s3-bucket@4.2.0`"""
        return self._data["module"]  # type: ignore[no-any-return]

    @property
    def sensitive(self) -> bool:
        """The output is a secret (a password, a token): the Deployment mounts it as a file and passes its path in `<name>_FILE`, instead of putting the value in the environment."""
        return self._data["sensitive"]  # type: ignore[no-any-return]


class WebhookReport(Record):
    """What a delivery did."""

    __slots__ = ()

    @property
    def event(self) -> Optional[ForgeEvent]:
        """What the forge said; `null` for events about no change request (ping, push)."""
        v = self._data["event"]
        return (None if v is None else ForgeEvent(v))

    @property
    def runs(self) -> List[ResumedRun]:
        """The waiting runs the event resumed."""
        v = self._data["runs"]
        return [ResumedRun(x0) for x0 in v]


class ForgeEvent(Record):
    """A forge's news about a change request, from a verified webhook delivery."""

    __slots__ = ()

    @property
    def event(self) -> str:
        """The forge's event, e.g. `pull_request.closed`."""
        return self._data["event"]  # type: ignore[no-any-return]

    @property
    def repo(self) -> str:
        return self._data["repo"]  # type: ignore[no-any-return]

    @property
    def url(self) -> str:
        """The change request's web address."""
        return self._data["url"]  # type: ignore[no-any-return]

    @property
    def merged(self) -> bool:
        return self._data["merged"]  # type: ignore[no-any-return]

    @property
    def closed(self) -> bool:
        return self._data["closed"]  # type: ignore[no-any-return]

    @property
    def keys(self) -> List[str]:
        """The change request keys the pull request carries (idp's runs and steps)."""
        return self._data["keys"]  # type: ignore[no-any-return]


class ResumedRun(Record):
    """A run a webhook resumed, and where it is now."""

    __slots__ = ()

    @property
    def run_id(self) -> str:
        return self._data["run_id"]  # type: ignore[no-any-return]

    @property
    def status(self) -> RunStatus:
        return self._data["status"]  # type: ignore[no-any-return]

    @property
    def receipt(self) -> Optional[Receipt]:
        v = self._data["receipt"]
        return (None if v is None else Receipt(v))

    @property
    def error(self) -> Any:
        """The error that ended it (a rejected review, a policy that now denies)."""
        return self._data["error"]  # type: ignore[no-any-return]


class RunSummary(Record):
    """A run as listed by `runs`."""

    __slots__ = ()

    @property
    def run_id(self) -> str:
        return self._data["run_id"]  # type: ignore[no-any-return]

    @property
    def operation(self) -> str:
        return self._data["operation"]  # type: ignore[no-any-return]

    @property
    def service(self) -> str:
        return self._data["service"]  # type: ignore[no-any-return]

    @property
    def principal(self) -> str:
        return self._data["principal"]  # type: ignore[no-any-return]

    @property
    def status(self) -> RunStatus:
        return self._data["status"]  # type: ignore[no-any-return]

    @property
    def created_at(self) -> str:
        return self._data["created_at"]  # type: ignore[no-any-return]

    @property
    def updated_at(self) -> str:
        return self._data["updated_at"]  # type: ignore[no-any-return]

    @property
    def steps_completed(self) -> List[StepId]:
        """Steps completed so far."""
        return self._data["steps_completed"]  # type: ignore[no-any-return]


class GoldenPathSummary(Record):
    """A golden path version (what `golden_paths` returns)."""

    __slots__ = ()

    @property
    def id(self) -> str:
        return self._data["id"]  # type: ignore[no-any-return]

    @property
    def version(self) -> str:
        return self._data["version"]  # type: ignore[no-any-return]

    @property
    def title(self) -> str:
        return self._data["title"]  # type: ignore[no-any-return]

    @property
    def parameters(self) -> Any:
        """The parameters' JSON Schema."""
        return self._data["parameters"]  # type: ignore[no-any-return]


class GoldenPathCheckReport(Record):
    """The outcome of `idp golden-path check`."""

    __slots__ = ()

    @property
    def checked(self) -> List[str]:
        """Every golden path version looked at (`id@version`)."""
        return self._data["checked"]  # type: ignore[no-any-return]

    @property
    def problems(self) -> List[Problem]:
        v = self._data["problems"]
        return [Problem(x0) for x0 in v]

    @property
    def ok(self) -> bool:
        """True when no problem is an error."""
        return self._data["ok"]  # type: ignore[no-any-return]


class Problem(Record):
    """One problem of one golden path version."""

    __slots__ = ()

    @property
    def golden_path(self) -> str:
        return self._data["golden_path"]  # type: ignore[no-any-return]

    @property
    def version(self) -> str:
        return self._data["version"]  # type: ignore[no-any-return]

    @property
    def severity(self) -> Severity:
        return self._data["severity"]  # type: ignore[no-any-return]

    @property
    def file(self) -> Optional[str]:
        """The file at fault: `golden-paths/<id>/<version>/path.yaml`, a template, or a file the version renders (`apps/<service>/dev/deployment.yaml`)."""
        return self._data.get("file")  # type: ignore[no-any-return]

    @property
    def field(self) -> Optional[str]:
        """Where in it: `parameters.properties.port.default`, `steps.wire_ci.files[0].path`, the guardrail rule of a rendered file, ..."""
        return self._data.get("field")  # type: ignore[no-any-return]

    @property
    def message(self) -> str:
        return self._data["message"]  # type: ignore[no-any-return]


class Waiver(Record):
    """A waiver and its approval."""

    __slots__ = ()

    @property
    def id(self) -> str:
        """`wv-…`"""
        return self._data["id"]  # type: ignore[no-any-return]

    @property
    def rule(self) -> str:
        """The rule it excepts: a guardrail rule (`image-tag-pinned`, `deny_privileged`), `protected-environment`, or `module-override:<param>`."""
        return self._data["rule"]  # type: ignore[no-any-return]

    @property
    def service(self) -> str:
        return self._data["service"]  # type: ignore[no-any-return]

    @property
    def environment(self) -> Optional[str]:
        """`None`: every environment."""
        return self._data["environment"]  # type: ignore[no-any-return]

    @property
    def justification(self) -> str:
        return self._data["justification"]  # type: ignore[no-any-return]

    @property
    def requested_by(self) -> str:
        return self._data["requested_by"]  # type: ignore[no-any-return]

    @property
    def requested_at(self) -> str:
        return self._data["requested_at"]  # type: ignore[no-any-return]

    @property
    def expires_at(self) -> str:
        return self._data["expires_at"]  # type: ignore[no-any-return]

    @property
    def approved_by(self) -> Optional[str]:
        return self._data["approved_by"]  # type: ignore[no-any-return]

    @property
    def approved_at(self) -> Optional[str]:
        return self._data["approved_at"]  # type: ignore[no-any-return]

    @property
    def owner(self) -> Optional[str]:
        """The owning team named at request time, for a service idp has not created yet."""
        return self._data.get("owner")  # type: ignore[no-any-return]

    @property
    def operations(self) -> Optional[List[str]]:
        """The operations it applies to (`provision_gitops`, `request_infra_resource`, `upgrade`, ...): an operation requested, or a step of one. Empty: every operation (not allowed for `protected-environment`, whose waivers approve named changes)."""
        return self._data.get("operations")  # type: ignore[no-any-return]


class WaiverWithState(Record):
    """A waiver with its state now (what `list_waivers` returns)."""

    __slots__ = ()

    @property
    def id(self) -> str:
        """`wv-…`"""
        return self._data["id"]  # type: ignore[no-any-return]

    @property
    def rule(self) -> str:
        """The rule it excepts: a guardrail rule (`image-tag-pinned`, `deny_privileged`), `protected-environment`, or `module-override:<param>`."""
        return self._data["rule"]  # type: ignore[no-any-return]

    @property
    def service(self) -> str:
        return self._data["service"]  # type: ignore[no-any-return]

    @property
    def environment(self) -> Optional[str]:
        """`None`: every environment."""
        return self._data["environment"]  # type: ignore[no-any-return]

    @property
    def justification(self) -> str:
        return self._data["justification"]  # type: ignore[no-any-return]

    @property
    def requested_by(self) -> str:
        return self._data["requested_by"]  # type: ignore[no-any-return]

    @property
    def requested_at(self) -> str:
        return self._data["requested_at"]  # type: ignore[no-any-return]

    @property
    def expires_at(self) -> str:
        return self._data["expires_at"]  # type: ignore[no-any-return]

    @property
    def approved_by(self) -> Optional[str]:
        return self._data["approved_by"]  # type: ignore[no-any-return]

    @property
    def approved_at(self) -> Optional[str]:
        return self._data["approved_at"]  # type: ignore[no-any-return]

    @property
    def owner(self) -> Optional[str]:
        """The owning team named at request time, for a service idp has not created yet."""
        return self._data.get("owner")  # type: ignore[no-any-return]

    @property
    def operations(self) -> Optional[List[str]]:
        """The operations it applies to (`provision_gitops`, `request_infra_resource`, `upgrade`, ...): an operation requested, or a step of one. Empty: every operation (not allowed for `protected-environment`, whose waivers approve named changes)."""
        return self._data.get("operations")  # type: ignore[no-any-return]

    @property
    def state(self) -> WaiverState:
        return self._data["state"]  # type: ignore[no-any-return]


class VerifyReport(Record):
    """The result of verifying the chain."""

    __slots__ = ()

    @property
    def ok(self) -> bool:
        return self._data["ok"]  # type: ignore[no-any-return]

    @property
    def records(self) -> int:
        return self._data["records"]  # type: ignore[no-any-return]

    @property
    def head(self) -> str:
        """Last record's hash (the head of the chain)."""
        return self._data["head"]  # type: ignore[no-any-return]

    @property
    def checkpoints_verified(self) -> int:
        return self._data["checkpoints_verified"]  # type: ignore[no-any-return]

    @property
    def first_bad(self) -> Optional[BadRecord]:
        """The first record (by position) that does not verify, and why."""
        v = self._data["first_bad"]
        return (None if v is None else BadRecord(v))


class BadRecord(Record):
    """Where and why the chain breaks."""

    __slots__ = ()

    @property
    def seq(self) -> int:
        """The sequence number expected at this position."""
        return self._data["seq"]  # type: ignore[no-any-return]

    @property
    def reason(self) -> str:
        return self._data["reason"]  # type: ignore[no-any-return]


class AuditRecord(Record):
    """A sequenced, hash-chained record."""

    __slots__ = ()

    @property
    def seq(self) -> int:
        return self._data["seq"]  # type: ignore[no-any-return]

    @property
    def prev_hash(self) -> str:
        return self._data["prev_hash"]  # type: ignore[no-any-return]

    @property
    def hash(self) -> str:
        return self._data["hash"]  # type: ignore[no-any-return]

    @property
    def event(self) -> AuditEvent:
        v = self._data["event"]
        return AuditEvent(v)


class AuditEvent(Record):
    """What happened, as the engine reports it (before sequencing and hashing)."""

    __slots__ = ()

    @property
    def time(self) -> str:
        """RFC 3339 UTC."""
        return self._data["time"]  # type: ignore[no-any-return]

    @property
    def principal(self) -> str:
        """`user:default/alice`"""
        return self._data["principal"]  # type: ignore[no-any-return]

    @property
    def operation(self) -> str:
        """`run_golden_path`, `plan`, `request_waiver`, `policy_load`, ..."""
        return self._data["operation"]  # type: ignore[no-any-return]

    @property
    def resource(self) -> str:
        """What it acted on: `service:payments-api` (waiver actions too, with the waiver id in `waivers`), or `platform:…` for policy loads."""
        return self._data["resource"]  # type: ignore[no-any-return]

    @property
    def input_digest(self) -> str:
        """SHA-256 of the canonical, redacted request."""
        return self._data["input_digest"]  # type: ignore[no-any-return]

    @property
    def decision(self) -> str:
        """`allow`, `deny`, or `none` when no decision was needed."""
        return self._data["decision"]  # type: ignore[no-any-return]

    @property
    def policies(self) -> List[str]:
        """Ids of the policies that decided."""
        return self._data["policies"]  # type: ignore[no-any-return]

    @property
    def waivers(self) -> List[str]:
        """Waivers that turned a deny into an allowed exception."""
        return self._data["waivers"]  # type: ignore[no-any-return]

    @property
    def outcome(self) -> str:
        """`completed`, `denied`, `failed`, `planned`, `requested`, `approved`, `loaded`, ..."""
        return self._data["outcome"]  # type: ignore[no-any-return]

    @property
    def artifacts(self) -> List[Any]:
        """`repo:path` -> sha256 of what was written."""
        return self._data["artifacts"]  # type: ignore[no-any-return]

    @property
    def correlation_id(self) -> str:
        """Run id or another correlation id."""
        return self._data["correlation_id"]  # type: ignore[no-any-return]

    @property
    def details(self) -> Any:
        """Anything else worth keeping (redacted)."""
        return self._data["details"]  # type: ignore[no-any-return]

    @property
    def platform(self) -> Optional[str]:
        """SHA-256 of the platform folder whose policies made the decision (`PlatformDef::digest`). Empty in records written before it was kept."""
        return self._data.get("platform")  # type: ignore[no-any-return]


class Checkpoint(Record):
    """A signed statement "record `seq` has hash `hash`"."""

    __slots__ = ()

    @property
    def seq(self) -> int:
        return self._data["seq"]  # type: ignore[no-any-return]

    @property
    def hash(self) -> str:
        return self._data["hash"]  # type: ignore[no-any-return]

    @property
    def signed_at(self) -> str:
        return self._data["signed_at"]  # type: ignore[no-any-return]

    @property
    def public_key(self) -> str:
        """Hex ed25519 public key."""
        return self._data["public_key"]  # type: ignore[no-any-return]

    @property
    def signature(self) -> str:
        """Hex ed25519 signature over [`checkpoint_message`]."""
        return self._data["signature"]  # type: ignore[no-any-return]


class Decided(Record):
    """A decision and the policies that made it."""

    __slots__ = ()

    @property
    def allowed(self) -> bool:
        return self._data["allowed"]  # type: ignore[no-any-return]

    @property
    def policies(self) -> List[str]:
        """`@id`s of the policies that decided (the permits that allowed, or the forbids that denied; empty for a deny by default)."""
        return self._data["policies"]  # type: ignore[no-any-return]

    @property
    def errors(self) -> Optional[List[str]]:
        """Evaluation errors (a policy that failed to evaluate does not apply)."""
        return self._data.get("errors")  # type: ignore[no-any-return]


class TestReport(Record):
    """Every test's outcome."""

    __slots__ = ()

    @property
    def passed(self) -> int:
        return self._data["passed"]  # type: ignore[no-any-return]

    @property
    def failed(self) -> int:
        return self._data["failed"]  # type: ignore[no-any-return]

    @property
    def results(self) -> List[TestResult]:
        v = self._data["results"]
        return [TestResult(x0) for x0 in v]


class TestResult(Record):
    """The outcome of one test."""

    __slots__ = ()

    @property
    def file(self) -> str:
        return self._data["file"]  # type: ignore[no-any-return]

    @property
    def name(self) -> str:
        return self._data["name"]  # type: ignore[no-any-return]

    @property
    def passed(self) -> bool:
        return self._data["passed"]  # type: ignore[no-any-return]

    @property
    def detail(self) -> str:
        """What happened, for a person reading the report."""
        return self._data["detail"]  # type: ignore[no-any-return]


class ModuleSummary(Record):
    """A module of the catalog, as listed by `idp modules list`."""

    __slots__ = ()

    @property
    def file(self) -> str:
        return self._data["file"]  # type: ignore[no-any-return]

    @property
    def apiVersion(self) -> str:
        return self._data["apiVersion"]  # type: ignore[no-any-return]

    @property
    def kind(self) -> str:
        return self._data["kind"]  # type: ignore[no-any-return]

    @property
    def name(self) -> str:
        return self._data["name"]  # type: ignore[no-any-return]

    @property
    def type(self) -> str:
        return self._data["type"]  # type: ignore[no-any-return]

    @property
    def description(self) -> str:
        return self._data["description"]  # type: ignore[no-any-return]

    @property
    def flavour(self) -> Flavour:
        return self._data["flavour"]  # type: ignore[no-any-return]

    @property
    def source(self) -> Optional[str]:
        """Terraform module address (registry or git)."""
        return self._data["source"]  # type: ignore[no-any-return]

    @property
    def version(self) -> str:
        return self._data["version"]  # type: ignore[no-any-return]

    @property
    def claim(self) -> Optional[ClaimKind]:
        v = self._data["claim"]
        return (None if v is None else ClaimKind(v))

    @property
    def xrd(self) -> Optional[str]:
        """The XRD file (next to the module) whose schema every claim must satisfy."""
        return self._data["xrd"]  # type: ignore[no-any-return]

    @property
    def match(self) -> MatchRule:
        v = self._data["match"]
        return MatchRule(v)

    @property
    def naming(self) -> NamingDef:
        v = self._data["naming"]
        return NamingDef(v)

    @property
    def locked(self) -> Dict[str, Any]:
        return self._data["locked"]  # type: ignore[no-any-return]

    @property
    def params(self) -> Dict[str, ParamDef]:
        v = self._data["params"]
        return {k0: ParamDef(x0) for k0, x0 in v.items()}

    @property
    def environment_defaults(self) -> Dict[str, Dict[str, Any]]:
        """Environment name or type -> parameter defaults there."""
        return self._data["environment_defaults"]  # type: ignore[no-any-return]

    @property
    def outputs(self) -> Dict[str, OutputDef]:
        v = self._data["outputs"]
        return {k0: OutputDef(x0) for k0, x0 in v.items()}


class ClaimKind(Record):
    """A Crossplane claim kind."""

    __slots__ = ()

    @property
    def apiVersion(self) -> str:
        return self._data["apiVersion"]  # type: ignore[no-any-return]

    @property
    def kind(self) -> str:
        return self._data["kind"]  # type: ignore[no-any-return]


class MatchRule(Record):
    """When a module is chosen. Every constraint that is set must hold; unset constraints match anything."""

    __slots__ = ()

    @property
    def class_(self) -> Optional[List[str]]:
        return self._data["class"]  # type: ignore[no-any-return]

    @property
    def environment(self) -> Optional[List[str]]:
        return self._data["environment"]  # type: ignore[no-any-return]

    @property
    def environment_type(self) -> Optional[str]:
        return self._data["environment_type"]  # type: ignore[no-any-return]

    @property
    def team(self) -> Optional[List[str]]:
        return self._data["team"]  # type: ignore[no-any-return]

    @property
    def service(self) -> Optional[List[str]]:
        return self._data["service"]  # type: ignore[no-any-return]


class NamingDef(Record):
    """Where the generated name goes, and the cloud's limit on it."""

    __slots__ = ()

    @property
    def input(self) -> str:
        return self._data["input"]  # type: ignore[no-any-return]

    @property
    def max_length(self) -> int:
        return self._data["max_length"]  # type: ignore[no-any-return]


class ParamDef(Record):
    """A parameter a developer may set."""

    __slots__ = ()

    @property
    def type(self) -> str:
        return self._data["type"]  # type: ignore[no-any-return]

    @property
    def description(self) -> str:
        return self._data["description"]  # type: ignore[no-any-return]

    @property
    def default(self) -> Any:
        return self._data["default"]  # type: ignore[no-any-return]

    @property
    def minimum(self) -> Optional[float]:
        return self._data["minimum"]  # type: ignore[no-any-return]

    @property
    def maximum(self) -> Optional[float]:
        return self._data["maximum"]  # type: ignore[no-any-return]

    @property
    def enum(self) -> Optional[List[Any]]:
        return self._data["enum"]  # type: ignore[no-any-return]

    @property
    def input(self) -> Optional[str]:
        """The module input it sets (default: the parameter's own name)."""
        return self._data["input"]  # type: ignore[no-any-return]

    @property
    def approval(self) -> bool:
        """Any value other than the default needs an approved waiver `module-override:<param>`."""
        return self._data["approval"]  # type: ignore[no-any-return]

    @property
    def approval_below(self) -> Optional[float]:
        """Values below this need an approved waiver."""
        return self._data["approval_below"]  # type: ignore[no-any-return]

    @property
    def approval_above(self) -> Optional[float]:
        """Values above this need an approved waiver."""
        return self._data["approval_above"]  # type: ignore[no-any-return]


class OutputDef(Record):
    """An output the module provides."""

    __slots__ = ()

    @property
    def secret(self) -> bool:
        return self._data["secret"]  # type: ignore[no-any-return]


class ImpactReport(Record):
    """The impact preview over every service with infrastructure."""

    __slots__ = ()

    @property
    def affected(self) -> List[ServiceImpact]:
        """Services whose infrastructure would change (or could not be resolved)."""
        v = self._data["affected"]
        return [ServiceImpact(x0) for x0 in v]

    @property
    def unchanged(self) -> List[str]:
        """Services checked and unchanged."""
        return self._data["unchanged"]  # type: ignore[no-any-return]

    @property
    def not_allowed(self) -> int:
        """How many services with infrastructure the caller may not plan (not named: which services other teams own is not the caller's business)."""
        return self._data["not_allowed"]  # type: ignore[no-any-return]


class ServiceImpact(Record):
    """What a catalog change would do to one service."""

    __slots__ = ()

    @property
    def service(self) -> str:
        return self._data["service"]  # type: ignore[no-any-return]

    @property
    def owner(self) -> str:
        return self._data["owner"]  # type: ignore[no-any-return]

    @property
    def changes(self) -> List[ResolutionChange]:
        v = self._data["changes"]
        return [ResolutionChange(x0) for x0 in v]

    @property
    def files(self) -> List[FileChange]:
        """The infra repo files that would change, with diffs."""
        v = self._data["files"]
        return [FileChange(x0) for x0 in v]

    @property
    def error(self) -> Optional[str]:
        """Why the service could not be re-resolved (e.g. no module matches any more)."""
        return self._data.get("error")  # type: ignore[no-any-return]


class ResolutionChange(Record):
    """How one resolution would change."""

    __slots__ = ()

    @property
    def intent(self) -> str:
        return self._data["intent"]  # type: ignore[no-any-return]

    @property
    def environment(self) -> str:
        return self._data["environment"]  # type: ignore[no-any-return]

    @property
    def before(self) -> Optional[str]:
        """`module@version` now in force (`None`: new)."""
        return self._data["before"]  # type: ignore[no-any-return]

    @property
    def after(self) -> Optional[str]:
        """`module@version` after the change (`None`: no longer resolved)."""
        return self._data["after"]  # type: ignore[no-any-return]

    @property
    def inputs(self) -> List[Any]:
        """Inputs whose value changes: `{name, before, after}`."""
        return self._data["inputs"]  # type: ignore[no-any-return]


class UpgradeResult(Record):
    """The result of upgrading one service."""

    __slots__ = ()

    @property
    def service(self) -> str:
        return self._data["service"]  # type: ignore[no-any-return]

    @property
    def owner(self) -> str:
        return self._data["owner"]  # type: ignore[no-any-return]

    @property
    def golden_path(self) -> str:
        return self._data["golden_path"]  # type: ignore[no-any-return]

    @property
    def from_(self) -> str:
        return self._data["from"]  # type: ignore[no-any-return]

    @property
    def to(self) -> str:
        return self._data["to"]  # type: ignore[no-any-return]

    @property
    def versions(self) -> List[str]:
        """Every version stepped through, in order."""
        return self._data["versions"]  # type: ignore[no-any-return]

    @property
    def status(self) -> UpgradeStatus:
        return self._data["status"]  # type: ignore[no-any-return]

    @property
    def files(self) -> List[FileUpgrade]:
        """Every file the upgrade changes or deliberately leaves alone (unchanged files omitted)."""
        v = self._data["files"]
        return [FileUpgrade(x0) for x0 in v]

    @property
    def conflicts(self) -> List[str]:
        """`repo:path` of every file with conflicts."""
        return self._data["conflicts"]  # type: ignore[no-any-return]

    @property
    def change_requests(self) -> List[ChangeRequestRef]:
        v = self._data["change_requests"]
        return [ChangeRequestRef(x0) for x0 in v]

    @property
    def decisions(self) -> List[DecisionRecord]:
        v = self._data["decisions"]
        return [DecisionRecord(x0) for x0 in v]

    @property
    def violations(self) -> List[Violation]:
        v = self._data["violations"]
        return [Violation(x0) for x0 in v]

    @property
    def warnings(self) -> List[str]:
        return self._data["warnings"]  # type: ignore[no-any-return]


class FileUpgrade(Record):
    """The outcome for one file."""

    __slots__ = ()

    @property
    def repo(self) -> str:
        return self._data["repo"]  # type: ignore[no-any-return]

    @property
    def path(self) -> str:
        return self._data["path"]  # type: ignore[no-any-return]

    @property
    def action(self) -> UpgradeAction:
        return self._data["action"]  # type: ignore[no-any-return]

    @property
    def ownership(self) -> Optional[Ownership]:
        return self._data.get("ownership")  # type: ignore[no-any-return]

    @property
    def renamed_from(self) -> Optional[str]:
        return self._data.get("renamed_from")  # type: ignore[no-any-return]

    @property
    def conflicts(self) -> Optional[int]:
        """Conflicting regions (for `conflict`)."""
        return self._data.get("conflicts")  # type: ignore[no-any-return]

    @property
    def note(self) -> Optional[str]:
        return self._data.get("note")  # type: ignore[no-any-return]

    @property
    def diff(self) -> Optional[str]:
        """Unified diff from the repo's current content (plans only)."""
        return self._data.get("diff")  # type: ignore[no-any-return]


class FleetUpgradeReport(Record):
    """A fleet upgrade: one row per service, in name order."""

    __slots__ = ()

    @property
    def rows(self) -> List[FleetUpgradeRow]:
        v = self._data["rows"]
        return [FleetUpgradeRow(x0) for x0 in v]

    @property
    def upgraded(self) -> int:
        return self._data["upgraded"]  # type: ignore[no-any-return]

    @property
    def conflicts(self) -> int:
        return self._data["conflicts"]  # type: ignore[no-any-return]

    @property
    def failed(self) -> int:
        return self._data["failed"]  # type: ignore[no-any-return]

    @property
    def up_to_date(self) -> int:
        return self._data["up_to_date"]  # type: ignore[no-any-return]


class FleetUpgradeRow(Record):
    """One row of a fleet upgrade."""

    __slots__ = ()

    @property
    def service(self) -> str:
        return self._data["service"]  # type: ignore[no-any-return]

    @property
    def owner(self) -> str:
        return self._data["owner"]  # type: ignore[no-any-return]

    @property
    def from_(self) -> str:
        return self._data["from"]  # type: ignore[no-any-return]

    @property
    def to(self) -> str:
        return self._data["to"]  # type: ignore[no-any-return]

    @property
    def outcome(self) -> str:
        """`up_to_date`, `planned`, `upgraded`, `conflicts`, or `failed`."""
        return self._data["outcome"]  # type: ignore[no-any-return]

    @property
    def conflicts(self) -> int:
        return self._data["conflicts"]  # type: ignore[no-any-return]

    @property
    def change_requests(self) -> List[str]:
        return self._data["change_requests"]  # type: ignore[no-any-return]

    @property
    def error(self) -> Optional[str]:
        return self._data.get("error")  # type: ignore[no-any-return]


class FleetRow(Record):
    """One service in `idp fleet`."""

    __slots__ = ()

    @property
    def service(self) -> str:
        return self._data["service"]  # type: ignore[no-any-return]

    @property
    def owner(self) -> str:
        return self._data["owner"]  # type: ignore[no-any-return]

    @property
    def golden_path(self) -> str:
        return self._data["golden_path"]  # type: ignore[no-any-return]

    @property
    def version(self) -> str:
        return self._data["version"]  # type: ignore[no-any-return]

    @property
    def latest(self) -> str:
        return self._data["latest"]  # type: ignore[no-any-return]

    @property
    def behind(self) -> int:
        """How many released versions it is behind."""
        return self._data["behind"]  # type: ignore[no-any-return]

    @property
    def managed_edits(self) -> List[str]:
        """Platform-managed files edited in the repo (`repo:path`)."""
        return self._data["managed_edits"]  # type: ignore[no-any-return]

    @property
    def deleted(self) -> List[str]:
        """Files idp wrote that the team deleted (`repo:path`)."""
        return self._data["deleted"]  # type: ignore[no-any-return]

    @property
    def drift(self) -> List[str]:
        """Merged files whose team edits differ from what idp renders for the service's current parameters, with where (`repo:path: /key, /key` or line ranges)."""
        return self._data["drift"]  # type: ignore[no-any-return]


class IngestReport(Record):
    """What `ingest_events` did."""

    __slots__ = ()

    @property
    def source(self) -> str:
        return self._data["source"]  # type: ignore[no-any-return]

    @property
    def received(self) -> int:
        """Events the payload held for services idp knows."""
        return self._data["received"]  # type: ignore[no-any-return]

    @property
    def recorded(self) -> int:
        """Of them, new (the rest were recorded before: ingesting a payload twice is harmless)."""
        return self._data["recorded"]  # type: ignore[no-any-return]

    @property
    def duplicates(self) -> int:
        return self._data["duplicates"]  # type: ignore[no-any-return]

    @property
    def skipped(self) -> List[str]:
        """What was skipped and why (at most 50 reasons; `skipped_count` counts all)."""
        return self._data["skipped"]  # type: ignore[no-any-return]

    @property
    def skipped_count(self) -> int:
        return self._data["skipped_count"]  # type: ignore[no-any-return]


class InsightsReport(Record):
    """What `insights` reports."""

    __slots__ = ()

    @property
    def generated_at(self) -> str:
        return self._data["generated_at"]  # type: ignore[no-any-return]

    @property
    def period(self) -> Period:
        v = self._data["period"]
        return Period(v)

    @property
    def scope(self) -> Scope:
        v = self._data["scope"]
        return Scope(v)

    @property
    def four_keys(self) -> FourKeys:
        """The four keys of every service in scope together."""
        v = self._data["four_keys"]
        return FourKeys(v)

    @property
    def teams(self) -> List[TeamKeys]:
        v = self._data["teams"]
        return [TeamKeys(x0) for x0 in v]

    @property
    def services(self) -> List[ServiceKeys]:
        v = self._data["services"]
        return [ServiceKeys(x0) for x0 in v]

    @property
    def weekly(self) -> List[WeekRow]:
        v = self._data["weekly"]
        return [WeekRow(x0) for x0 in v]

    @property
    def lead_time_distribution(self) -> List[Bucket]:
        v = self._data["lead_time_distribution"]
        return [Bucket(x0) for x0 in v]

    @property
    def adoption(self) -> Adoption:
        v = self._data["adoption"]
        return Adoption(v)

    @property
    def drift(self) -> Drift:
        v = self._data["drift"]
        return Drift(v)

    @property
    def latches(self) -> Latches:
        v = self._data["latches"]
        return Latches(v)


class Period(Record):
    """Period"""

    __slots__ = ()

    @property
    def from_(self) -> str:
        return self._data["from"]  # type: ignore[no-any-return]

    @property
    def to(self) -> str:
        return self._data["to"]  # type: ignore[no-any-return]

    @property
    def days(self) -> float:
        return self._data["days"]  # type: ignore[no-any-return]


class Scope(Record):
    """The filters a report was made with (the principal's read scope always applies)."""

    __slots__ = ()

    @property
    def service(self) -> Optional[str]:
        return self._data["service"]  # type: ignore[no-any-return]

    @property
    def team(self) -> Optional[str]:
        return self._data["team"]  # type: ignore[no-any-return]


class FourKeys(Record):
    """The four keys of a service, a team or the whole scope, over a period."""

    __slots__ = ()

    @property
    def deployments(self) -> int:
        """Production deployments in the period, successful or not."""
        return self._data["deployments"]  # type: ignore[no-any-return]

    @property
    def successful_deployments(self) -> int:
        return self._data["successful_deployments"]  # type: ignore[no-any-return]

    @property
    def deploys_per_day(self) -> float:
        """Successful production deployments per day."""
        return self._data["deploys_per_day"]  # type: ignore[no-any-return]

    @property
    def deployment_frequency_band(self) -> Band:
        return self._data["deployment_frequency_band"]  # type: ignore[no-any-return]

    @property
    def changes(self) -> int:
        """Commits that reached production in the period."""
        return self._data["changes"]  # type: ignore[no-any-return]

    @property
    def lead_time_median_hours(self) -> Optional[float]:
        return self._data["lead_time_median_hours"]  # type: ignore[no-any-return]

    @property
    def lead_time_band(self) -> Optional[Band]:
        return self._data["lead_time_band"]  # type: ignore[no-any-return]

    @property
    def failed_deployments(self) -> int:
        """Deployments that failed, were rolled back, or were followed by an incident before the next deployment."""
        return self._data["failed_deployments"]  # type: ignore[no-any-return]

    @property
    def change_failure_rate(self) -> Optional[float]:
        return self._data["change_failure_rate"]  # type: ignore[no-any-return]

    @property
    def change_failure_rate_band(self) -> Optional[Band]:
        return self._data["change_failure_rate_band"]  # type: ignore[no-any-return]

    @property
    def incidents(self) -> int:
        """Production incidents (overlapping SLO alerts of a service form one) that began in the period."""
        return self._data["incidents"]  # type: ignore[no-any-return]

    @property
    def restored(self) -> int:
        return self._data["restored"]  # type: ignore[no-any-return]

    @property
    def time_to_restore_median_hours(self) -> Optional[float]:
        return self._data["time_to_restore_median_hours"]  # type: ignore[no-any-return]

    @property
    def time_to_restore_band(self) -> Optional[Band]:
        return self._data["time_to_restore_band"]  # type: ignore[no-any-return]


class TeamKeys(Record):
    """TeamKeys"""

    __slots__ = ()

    @property
    def team(self) -> str:
        return self._data["team"]  # type: ignore[no-any-return]

    @property
    def services(self) -> int:
        return self._data["services"]  # type: ignore[no-any-return]

    @property
    def four_keys(self) -> FourKeys:
        v = self._data["four_keys"]
        return FourKeys(v)


class ServiceKeys(Record):
    """ServiceKeys"""

    __slots__ = ()

    @property
    def service(self) -> str:
        return self._data["service"]  # type: ignore[no-any-return]

    @property
    def owner(self) -> str:
        return self._data["owner"]  # type: ignore[no-any-return]

    @property
    def four_keys(self) -> FourKeys:
        v = self._data["four_keys"]
        return FourKeys(v)


class WeekRow(Record):
    """One ISO week of the period."""

    __slots__ = ()

    @property
    def week(self) -> str:
        """`2026-W36`"""
        return self._data["week"]  # type: ignore[no-any-return]

    @property
    def start(self) -> str:
        """Its Monday."""
        return self._data["start"]  # type: ignore[no-any-return]

    @property
    def deployments(self) -> int:
        return self._data["deployments"]  # type: ignore[no-any-return]

    @property
    def failed_deployments(self) -> int:
        return self._data["failed_deployments"]  # type: ignore[no-any-return]

    @property
    def lead_time_median_hours(self) -> Optional[float]:
        return self._data["lead_time_median_hours"]  # type: ignore[no-any-return]

    @property
    def incidents(self) -> int:
        return self._data["incidents"]  # type: ignore[no-any-return]

    @property
    def time_to_restore_median_hours(self) -> Optional[float]:
        return self._data["time_to_restore_median_hours"]  # type: ignore[no-any-return]


class Bucket(Record):
    """How many changes reached production within a lead-time range."""

    __slots__ = ()

    @property
    def label(self) -> str:
        return self._data["label"]  # type: ignore[no-any-return]

    @property
    def changes(self) -> int:
        return self._data["changes"]  # type: ignore[no-any-return]


class Adoption(Record):
    """Who chooses the golden path."""

    __slots__ = ()

    @property
    def catalog_components(self) -> int:
        """Components in the catalog (the org directory's `Component` entities and the services idp created, which register themselves)."""
        return self._data["catalog_components"]  # type: ignore[no-any-return]

    @property
    def golden_path_components(self) -> int:
        """Of them, created or upgraded by a golden path."""
        return self._data["golden_path_components"]  # type: ignore[no-any-return]

    @property
    def share(self) -> Optional[float]:
        return self._data["share"]  # type: ignore[no-any-return]

    @property
    def runs(self) -> int:
        """Runs started in the period."""
        return self._data["runs"]  # type: ignore[no-any-return]

    @property
    def runs_by_face(self) -> Dict[str, int]:
        """By the face that started them: `cli`, `backstage`, `python`, `node`, `rust`, ..."""
        return self._data["runs_by_face"]  # type: ignore[no-any-return]

    @property
    def services_by_golden_path(self) -> Dict[str, int]:
        return self._data["services_by_golden_path"]  # type: ignore[no-any-return]


class Drift(Record):
    """How far services are behind their golden path's latest version."""

    __slots__ = ()

    @property
    def services(self) -> int:
        return self._data["services"]  # type: ignore[no-any-return]

    @property
    def behind(self) -> int:
        return self._data["behind"]  # type: ignore[no-any-return]

    @property
    def by_team(self) -> List[TeamDrift]:
        v = self._data["by_team"]
        return [TeamDrift(x0) for x0 in v]

    @property
    def services_behind(self) -> List[ServiceDrift]:
        v = self._data["services_behind"]
        return [ServiceDrift(x0) for x0 in v]


class TeamDrift(Record):
    """TeamDrift"""

    __slots__ = ()

    @property
    def team(self) -> str:
        return self._data["team"]  # type: ignore[no-any-return]

    @property
    def services(self) -> int:
        return self._data["services"]  # type: ignore[no-any-return]

    @property
    def behind(self) -> int:
        return self._data["behind"]  # type: ignore[no-any-return]

    @property
    def max_behind(self) -> int:
        return self._data["max_behind"]  # type: ignore[no-any-return]


class ServiceDrift(Record):
    """ServiceDrift"""

    __slots__ = ()

    @property
    def service(self) -> str:
        return self._data["service"]  # type: ignore[no-any-return]

    @property
    def owner(self) -> str:
        return self._data["owner"]  # type: ignore[no-any-return]

    @property
    def golden_path(self) -> str:
        return self._data["golden_path"]  # type: ignore[no-any-return]

    @property
    def version(self) -> str:
        return self._data["version"]  # type: ignore[no-any-return]

    @property
    def latest(self) -> str:
        return self._data["latest"]  # type: ignore[no-any-return]

    @property
    def behind(self) -> int:
        """Released versions between the service's and the latest."""
        return self._data["behind"]  # type: ignore[no-any-return]


class Latches(Record):
    """Escape latches in use: where teams stepped off the path, on purpose."""

    __slots__ = ()

    @property
    def active_waivers(self) -> List[ActiveWaiver]:
        """Approved waivers that have not expired."""
        v = self._data["active_waivers"]
        return [ActiveWaiver(x0) for x0 in v]

    @property
    def managed_edits(self) -> List[ManagedEdits]:
        """Platform-managed files a team edited in its repos."""
        v = self._data["managed_edits"]
        return [ManagedEdits(x0) for x0 in v]


class ActiveWaiver(Record):
    """ActiveWaiver"""

    __slots__ = ()

    @property
    def id(self) -> str:
        return self._data["id"]  # type: ignore[no-any-return]

    @property
    def service(self) -> str:
        return self._data["service"]  # type: ignore[no-any-return]

    @property
    def rule(self) -> str:
        return self._data["rule"]  # type: ignore[no-any-return]

    @property
    def environment(self) -> Optional[str]:
        return self._data["environment"]  # type: ignore[no-any-return]

    @property
    def expires_at(self) -> str:
        return self._data["expires_at"]  # type: ignore[no-any-return]


class ManagedEdits(Record):
    """ManagedEdits"""

    __slots__ = ()

    @property
    def service(self) -> str:
        return self._data["service"]  # type: ignore[no-any-return]

    @property
    def files(self) -> List[str]:
        """`repo:path`"""
        return self._data["files"]  # type: ignore[no-any-return]


@dataclasses.dataclass
class ServiceRequest(Args):
    """A request about one service: which service, which team owns it, which golden path, and the parameters. The same shape from every face (a JSON object with these keys)."""

    service: Optional[str] = None
    owner: Optional[str] = None
    golden_path: Optional[str] = None
    version: Optional[str] = None
    parameters: Optional[Dict[str, Any]] = None
    environments: Optional[Dict[str, EnvironmentValues]] = None
    intents: Optional[List[Any]] = None
    change_window: Optional[str] = None


@dataclasses.dataclass
class EnvironmentValues(Args):
    """What a request sets for one environment."""

    parameters: Optional[Dict[str, Any]] = None


@dataclasses.dataclass
class PlanArgs(Args):
    """Arguments of `plan`."""

    operation: str
    request: ServiceRequest


@dataclasses.dataclass
class ServiceArg(Args):
    """Arguments naming one service."""

    service: str


@dataclasses.dataclass
class RunArg(Args):
    """Arguments naming one run."""

    run_id: str


@dataclasses.dataclass
class WebhookDelivery(Args):
    """One webhook delivery as the forge sent it: its HTTP headers and its body, unparsed (the signature covers the exact bytes)."""

    headers: Dict[str, str]
    body: str


@dataclasses.dataclass
class ListArgs(Args):
    """Arguments of list methods (`runs`, `list_waivers`, `audit_list`)."""

    service: Optional[str] = None
    since: Optional[str] = None
    limit: Optional[int] = None


@dataclasses.dataclass
class WaiverRequest(Args):
    """What a requester asks for."""

    rule: str
    service: str
    justification: str
    expires: str
    environment: Optional[str] = None
    owner: Optional[str] = None
    operations: Optional[List[str]] = None


@dataclasses.dataclass
class IdArg(Args):
    """Arguments naming one waiver."""

    id: str


@dataclasses.dataclass
class KeyArg(Args):
    """Arguments of `audit_verify`."""

    key: Optional[str] = None
    anchors: Optional[List[CheckpointArgs]] = None


@dataclasses.dataclass
class CheckpointArgs(Args):
    """A signed statement "record `seq` has hash `hash`"."""

    seq: int
    hash: str
    signed_at: str
    public_key: str
    signature: str


@dataclasses.dataclass
class AuthzRequest(Args):
    """Who wants to do what to which resource, in which context."""

    principal: Principal
    action: str
    resource: AuthzResource
    context: Optional[AuthzContext] = None


@dataclasses.dataclass
class Principal(Args):
    """Who is acting: a user entity ref and the group refs it belongs to. Faces build it: the CLI from `--as`, Backstage from the request's credentials, scripts directly. [`Directory::principal`] fills the groups from the catalog."""

    user: str
    groups: Optional[List[str]] = None


@dataclasses.dataclass
class AuthzContext(Args):
    """The context of a service operation."""

    environment: Optional[str] = None
    approved: Optional[bool] = None
    change_window: Optional[bool] = None
    first_deploy: Optional[bool] = None
    dry_run: Optional[bool] = None
    operation: Optional[str] = None
    time: Optional[RequestTime] = None
    intent: Optional[IntentFacts] = None


@dataclasses.dataclass
class RequestTime(Args):
    """The time of a request as policies see it (`context.time`): in the organization's zone."""

    weekday: str
    hour: int
    date: str


@dataclasses.dataclass
class IntentFacts(Args):
    """An infrastructure intent as policies see it (`context.intent`)."""

    type: str
    key: str
    module: str
    class_: Optional[str] = None


@dataclasses.dataclass
class DirArg(Args):
    """Arguments of `test_policies`."""

    dir: str


@dataclasses.dataclass
class UpgradeRequest(Args):
    """What to upgrade."""

    service: str
    to: Optional[str] = None
    keep: Optional[bool] = None


@dataclasses.dataclass
class FleetArgs(Args):
    """Arguments of `upgrade_fleet`."""

    to: Optional[str] = None
    owner: Optional[str] = None
    keep: Optional[bool] = None
    plan: Optional[bool] = None


@dataclasses.dataclass
class IngestRequest(Args):
    """Arguments of `ingest_events`."""

    source: str
    payload: Any


@dataclasses.dataclass
class InsightsQuery(Args):
    """What `insights` reports on."""

    service: Optional[str] = None
    team: Optional[str] = None
    since: Optional[str] = None
    until: Optional[str] = None


StepId = Literal["bootstrap_service", "wire_ci", "provision_gitops", "attach_observability", "request_infra_resource"]

Operation = Literal["bootstrap_service", "wire_ci", "provision_gitops", "attach_observability", "request_infra_resource", "run_golden_path"]

RunStatus = Literal["running", "completed", "failed", "cancelled", "superseded", "waiting", "rejected"]

ChangeRequestState = Literal["pending", "open", "merged", "closed"]

Ownership = Literal["managed", "merged", "seeded"]

RepoRole = Literal["service", "gitops", "infra"]

FileAction = Literal["create", "update", "delete", "unchanged", "keep"]

Enforcement = Literal["deny", "warn", "off"]

Flavour = Literal["terraform", "crossplane"]

InputSource = Literal["locked", "org_default", "environment_default", "developer", "naming", "tags"]

Severity = Literal["error", "warning"]

WaiverState = Literal["pending", "approved", "expired"]

UpgradeStatus = Literal["up_to_date", "planned", "upgraded", "conflicts"]

UpgradeAction = Literal["replace", "merge_clean", "conflict", "add", "remove", "rename", "keep", "unchanged"]

Band = Literal["elite", "high", "medium", "low"]

NoArgs = Dict[str, Any]

AuthzResource = Dict[str, Any]


#: Every method, in the core's order.
METHODS = (
    "bootstrap_service",
    "wire_ci",
    "provision_gitops",
    "attach_observability",
    "request_infra_resource",
    "run_golden_path",
    "plan",
    "explain",
    "resume",
    "forge_webhook",
    "runs",
    "golden_paths",
    "check_golden_paths",
    "request_waiver",
    "approve_waiver",
    "list_waivers",
    "audit_verify",
    "audit_list",
    "audit_checkpoint",
    "authorize",
    "test_policies",
    "modules",
    "infra_impact",
    "upgrade",
    "upgrade_plan",
    "upgrade_fleet",
    "fleet",
    "ingest_events",
    "insights",
    "insights_html",
)

#: Who is acting: a user ref (`user:default/alice`) or `{"user": ..., "groups": [...]}`.
Principal = Union[str, Dict[str, Any]]


class Methods:
    """The typed methods of `Platform`, generated from the core's call surface.

    Each takes its arguments as a dict (or a request dataclass) and/or keyword arguments,
    `as_=` the principal, `progress=` a callable that receives each progress event as it
    happens, and `cancel=` an `idp.CancelToken`.
    """

    __slots__ = ()

    def bootstrap_service(
        self,
        request: Optional[Union[ServiceRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Receipt:
        """The service repo: app, tests, container, security baselines, catalog entry."""
        return self._invoke("bootstrap_service", request, as_, progress, cancel, kwargs, lambda v: Receipt(v))  # type: ignore[attr-defined, no-any-return]

    def wire_ci(
        self,
        request: Optional[Union[ServiceRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Receipt:
        """The CI pipeline in the service repo."""
        return self._invoke("wire_ci", request, as_, progress, cancel, kwargs, lambda v: Receipt(v))  # type: ignore[attr-defined, no-any-return]

    def provision_gitops(
        self,
        request: Optional[Union[ServiceRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Receipt:
        """Argo CD applications and Kubernetes manifests per environment."""
        return self._invoke("provision_gitops", request, as_, progress, cancel, kwargs, lambda v: Receipt(v))  # type: ignore[attr-defined, no-any-return]

    def attach_observability(
        self,
        request: Optional[Union[ServiceRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Receipt:
        """The Grafana dashboard and SLO burn-rate alerts."""
        return self._invoke("attach_observability", request, as_, progress, cancel, kwargs, lambda v: Receipt(v))  # type: ignore[attr-defined, no-any-return]

    def request_infra_resource(
        self,
        request: Optional[Union[ServiceRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Receipt:
        """The request's intents as org-approved modules in the infra repo, wired back to the service."""
        return self._invoke("request_infra_resource", request, as_, progress, cancel, kwargs, lambda v: Receipt(v))  # type: ignore[attr-defined, no-any-return]

    def run_golden_path(
        self,
        request: Optional[Union[ServiceRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Receipt:
        """Every step of the golden path, in order."""
        return self._invoke("run_golden_path", request, as_, progress, cancel, kwargs, lambda v: Receipt(v))  # type: ignore[attr-defined, no-any-return]

    def plan(
        self,
        request: Optional[Union[PlanArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Plan:
        """Dry run: the exact change sets with diffs and policy decisions. Writes nothing."""
        return self._invoke("plan", request, as_, progress, cancel, kwargs, lambda v: Plan(v))  # type: ignore[attr-defined, no-any-return]

    def explain(
        self,
        request: Optional[Union[ServiceArg, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Explanation:
        """What idp created for a service, and how to override each file safely."""
        return self._invoke("explain", request, as_, progress, cancel, kwargs, lambda v: Explanation(v))  # type: ignore[attr-defined, no-any-return]

    def resume(
        self,
        request: Optional[Union[RunArg, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Receipt:
        """Resumes an interrupted, failed or cancelled run; a completed run returns its receipt."""
        return self._invoke("resume", request, as_, progress, cancel, kwargs, lambda v: Receipt(v))  # type: ignore[attr-defined, no-any-return]

    def forge_webhook(
        self,
        request: Optional[Union[WebhookDelivery, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> WebhookReport:
        """A forge's webhook delivery (headers and raw body): verified with the configured secret; a pull request merged or closed resumes the runs waiting on it."""
        return self._invoke("forge_webhook", request, as_, progress, cancel, kwargs, lambda v: WebhookReport(v))  # type: ignore[attr-defined, no-any-return]

    def runs(
        self,
        request: Optional[Union[ListArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> List[RunSummary]:
        """Runs, newest first."""
        return self._invoke("runs", request, as_, progress, cancel, kwargs, lambda v: [RunSummary(x0) for x0 in v])  # type: ignore[attr-defined, no-any-return]

    def golden_paths(
        self,
        request: Optional[Union[NoArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> List[GoldenPathSummary]:
        """The golden paths and their versions, with each one's parameter schema."""
        return self._invoke("golden_paths", request, as_, progress, cancel, kwargs, lambda v: [GoldenPathSummary(x0) for x0 in v])  # type: ignore[attr-defined, no-any-return]

    def check_golden_paths(
        self,
        request: Optional[Union[NoArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> GoldenPathCheckReport:
        """Checks every golden path and version: it loads, its schema and defaults are sound, it renders with its defaults, and what it renders passes the guardrails. Writes nothing."""
        return self._invoke("check_golden_paths", request, as_, progress, cancel, kwargs, lambda v: GoldenPathCheckReport(v))  # type: ignore[attr-defined, no-any-return]

    def request_waiver(
        self,
        request: Optional[Union[WaiverRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Waiver:
        """Asks for an exception to a rule for a service (and environment), until it expires."""
        return self._invoke("request_waiver", request, as_, progress, cancel, kwargs, lambda v: Waiver(v))  # type: ignore[attr-defined, no-any-return]

    def approve_waiver(
        self,
        request: Optional[Union[IdArg, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Waiver:
        """Approves a waiver (someone other than its requester, allowed by policy)."""
        return self._invoke("approve_waiver", request, as_, progress, cancel, kwargs, lambda v: Waiver(v))  # type: ignore[attr-defined, no-any-return]

    def list_waivers(
        self,
        request: Optional[Union[ListArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> List[WaiverWithState]:
        """Waivers and their state, of one service when given."""
        return self._invoke("list_waivers", request, as_, progress, cancel, kwargs, lambda v: [WaiverWithState(x0) for x0 in v])  # type: ignore[attr-defined, no-any-return]

    def audit_verify(
        self,
        request: Optional[Union[KeyArg, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> VerifyReport:
        """Checks the audit chain and every signed checkpoint."""
        return self._invoke("audit_verify", request, as_, progress, cancel, kwargs, lambda v: VerifyReport(v))  # type: ignore[attr-defined, no-any-return]

    def audit_list(
        self,
        request: Optional[Union[ListArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> List[AuditRecord]:
        """Audit records, oldest first."""
        return self._invoke("audit_list", request, as_, progress, cancel, kwargs, lambda v: [AuditRecord(x0) for x0 in v])  # type: ignore[attr-defined, no-any-return]

    def audit_checkpoint(
        self,
        request: Optional[Union[NoArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Optional[Checkpoint]:
        """Signs a checkpoint of the audit chain's head (`null` when the log is empty). Platform admins only."""
        return self._invoke("audit_checkpoint", request, as_, progress, cancel, kwargs, lambda v: (None if v is None else Checkpoint(v)))  # type: ignore[attr-defined, no-any-return]

    def authorize(
        self,
        request: Optional[Union[AuthzRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Decided:
        """What the policy point decides for a request (nothing is recorded)."""
        return self._invoke("authorize", request, as_, progress, cancel, kwargs, lambda v: Decided(v))  # type: ignore[attr-defined, no-any-return]

    def test_policies(
        self,
        request: Optional[Union[DirArg, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> TestReport:
        """Runs the policy unit tests in a folder against this platform's policies."""
        return self._invoke("test_policies", request, as_, progress, cancel, kwargs, lambda v: TestReport(v))  # type: ignore[attr-defined, no-any-return]

    def modules(
        self,
        request: Optional[Union[NoArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> List[ModuleSummary]:
        """Every module of the catalog."""
        return self._invoke("modules", request, as_, progress, cancel, kwargs, lambda v: [ModuleSummary(x0) for x0 in v])  # type: ignore[attr-defined, no-any-return]

    def infra_impact(
        self,
        request: Optional[Union[NoArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> ImpactReport:
        """Every stored infrastructure request re-resolved against the catalog: what would change."""
        return self._invoke("infra_impact", request, as_, progress, cancel, kwargs, lambda v: ImpactReport(v))  # type: ignore[attr-defined, no-any-return]

    def upgrade(
        self,
        request: Optional[Union[UpgradeRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> UpgradeResult:
        """Moves a service to a newer golden-path version, keeping the team's edits."""
        return self._invoke("upgrade", request, as_, progress, cancel, kwargs, lambda v: UpgradeResult(v))  # type: ignore[attr-defined, no-any-return]

    def upgrade_plan(
        self,
        request: Optional[Union[UpgradeRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> UpgradeResult:
        """What an upgrade would do to every file, with diffs. Writes nothing."""
        return self._invoke("upgrade_plan", request, as_, progress, cancel, kwargs, lambda v: UpgradeResult(v))  # type: ignore[attr-defined, no-any-return]

    def upgrade_fleet(
        self,
        request: Optional[Union[FleetArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> FleetUpgradeReport:
        """Upgrades every service on an older version (of one team, when given)."""
        return self._invoke("upgrade_fleet", request, as_, progress, cancel, kwargs, lambda v: FleetUpgradeReport(v))  # type: ignore[attr-defined, no-any-return]

    def fleet(
        self,
        request: Optional[Union[NoArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> List[FleetRow]:
        """Every service with its golden path, version, how far behind it is, and its drift."""
        return self._invoke("fleet", request, as_, progress, cancel, kwargs, lambda v: [FleetRow(x0) for x0 in v])  # type: ignore[attr-defined, no-any-return]

    def ingest_events(
        self,
        request: Optional[Union[IngestRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> IngestReport:
        """Records the delivery events of a webhook payload (Argo CD, Alertmanager v4, GitHub)."""
        return self._invoke("ingest_events", request, as_, progress, cancel, kwargs, lambda v: IngestReport(v))  # type: ignore[attr-defined, no-any-return]

    def insights(
        self,
        request: Optional[Union[InsightsQuery, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> InsightsReport:
        """DORA four keys, adoption, version drift and escape latches over a period."""
        return self._invoke("insights", request, as_, progress, cancel, kwargs, lambda v: InsightsReport(v))  # type: ignore[attr-defined, no-any-return]

    def insights_html(
        self,
        request: Optional[Union[InsightsQuery, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> str:
        """The insights report as one self-contained HTML page with charts."""
        return self._invoke("insights_html", request, as_, progress, cancel, kwargs, None)  # type: ignore[attr-defined, no-any-return]


class AsyncMethods:
    """The typed methods of `aio.Platform`, generated from the core's call surface.

    Each takes its arguments as a dict (or a request dataclass) and/or keyword arguments,
    `as_=` the principal, `progress=` a callable that receives each progress event as it
    happens, and `cancel=` an `idp.CancelToken`.
    """

    __slots__ = ()

    async def bootstrap_service(
        self,
        request: Optional[Union[ServiceRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Receipt:
        """The service repo: app, tests, container, security baselines, catalog entry."""
        return await self._invoke("bootstrap_service", request, as_, progress, cancel, kwargs, lambda v: Receipt(v))  # type: ignore[attr-defined, no-any-return]

    async def wire_ci(
        self,
        request: Optional[Union[ServiceRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Receipt:
        """The CI pipeline in the service repo."""
        return await self._invoke("wire_ci", request, as_, progress, cancel, kwargs, lambda v: Receipt(v))  # type: ignore[attr-defined, no-any-return]

    async def provision_gitops(
        self,
        request: Optional[Union[ServiceRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Receipt:
        """Argo CD applications and Kubernetes manifests per environment."""
        return await self._invoke("provision_gitops", request, as_, progress, cancel, kwargs, lambda v: Receipt(v))  # type: ignore[attr-defined, no-any-return]

    async def attach_observability(
        self,
        request: Optional[Union[ServiceRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Receipt:
        """The Grafana dashboard and SLO burn-rate alerts."""
        return await self._invoke("attach_observability", request, as_, progress, cancel, kwargs, lambda v: Receipt(v))  # type: ignore[attr-defined, no-any-return]

    async def request_infra_resource(
        self,
        request: Optional[Union[ServiceRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Receipt:
        """The request's intents as org-approved modules in the infra repo, wired back to the service."""
        return await self._invoke("request_infra_resource", request, as_, progress, cancel, kwargs, lambda v: Receipt(v))  # type: ignore[attr-defined, no-any-return]

    async def run_golden_path(
        self,
        request: Optional[Union[ServiceRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Receipt:
        """Every step of the golden path, in order."""
        return await self._invoke("run_golden_path", request, as_, progress, cancel, kwargs, lambda v: Receipt(v))  # type: ignore[attr-defined, no-any-return]

    async def plan(
        self,
        request: Optional[Union[PlanArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Plan:
        """Dry run: the exact change sets with diffs and policy decisions. Writes nothing."""
        return await self._invoke("plan", request, as_, progress, cancel, kwargs, lambda v: Plan(v))  # type: ignore[attr-defined, no-any-return]

    async def explain(
        self,
        request: Optional[Union[ServiceArg, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Explanation:
        """What idp created for a service, and how to override each file safely."""
        return await self._invoke("explain", request, as_, progress, cancel, kwargs, lambda v: Explanation(v))  # type: ignore[attr-defined, no-any-return]

    async def resume(
        self,
        request: Optional[Union[RunArg, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Receipt:
        """Resumes an interrupted, failed or cancelled run; a completed run returns its receipt."""
        return await self._invoke("resume", request, as_, progress, cancel, kwargs, lambda v: Receipt(v))  # type: ignore[attr-defined, no-any-return]

    async def forge_webhook(
        self,
        request: Optional[Union[WebhookDelivery, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> WebhookReport:
        """A forge's webhook delivery (headers and raw body): verified with the configured secret; a pull request merged or closed resumes the runs waiting on it."""
        return await self._invoke("forge_webhook", request, as_, progress, cancel, kwargs, lambda v: WebhookReport(v))  # type: ignore[attr-defined, no-any-return]

    async def runs(
        self,
        request: Optional[Union[ListArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> List[RunSummary]:
        """Runs, newest first."""
        return await self._invoke("runs", request, as_, progress, cancel, kwargs, lambda v: [RunSummary(x0) for x0 in v])  # type: ignore[attr-defined, no-any-return]

    async def golden_paths(
        self,
        request: Optional[Union[NoArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> List[GoldenPathSummary]:
        """The golden paths and their versions, with each one's parameter schema."""
        return await self._invoke("golden_paths", request, as_, progress, cancel, kwargs, lambda v: [GoldenPathSummary(x0) for x0 in v])  # type: ignore[attr-defined, no-any-return]

    async def check_golden_paths(
        self,
        request: Optional[Union[NoArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> GoldenPathCheckReport:
        """Checks every golden path and version: it loads, its schema and defaults are sound, it renders with its defaults, and what it renders passes the guardrails. Writes nothing."""
        return await self._invoke("check_golden_paths", request, as_, progress, cancel, kwargs, lambda v: GoldenPathCheckReport(v))  # type: ignore[attr-defined, no-any-return]

    async def request_waiver(
        self,
        request: Optional[Union[WaiverRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Waiver:
        """Asks for an exception to a rule for a service (and environment), until it expires."""
        return await self._invoke("request_waiver", request, as_, progress, cancel, kwargs, lambda v: Waiver(v))  # type: ignore[attr-defined, no-any-return]

    async def approve_waiver(
        self,
        request: Optional[Union[IdArg, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Waiver:
        """Approves a waiver (someone other than its requester, allowed by policy)."""
        return await self._invoke("approve_waiver", request, as_, progress, cancel, kwargs, lambda v: Waiver(v))  # type: ignore[attr-defined, no-any-return]

    async def list_waivers(
        self,
        request: Optional[Union[ListArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> List[WaiverWithState]:
        """Waivers and their state, of one service when given."""
        return await self._invoke("list_waivers", request, as_, progress, cancel, kwargs, lambda v: [WaiverWithState(x0) for x0 in v])  # type: ignore[attr-defined, no-any-return]

    async def audit_verify(
        self,
        request: Optional[Union[KeyArg, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> VerifyReport:
        """Checks the audit chain and every signed checkpoint."""
        return await self._invoke("audit_verify", request, as_, progress, cancel, kwargs, lambda v: VerifyReport(v))  # type: ignore[attr-defined, no-any-return]

    async def audit_list(
        self,
        request: Optional[Union[ListArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> List[AuditRecord]:
        """Audit records, oldest first."""
        return await self._invoke("audit_list", request, as_, progress, cancel, kwargs, lambda v: [AuditRecord(x0) for x0 in v])  # type: ignore[attr-defined, no-any-return]

    async def audit_checkpoint(
        self,
        request: Optional[Union[NoArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Optional[Checkpoint]:
        """Signs a checkpoint of the audit chain's head (`null` when the log is empty). Platform admins only."""
        return await self._invoke("audit_checkpoint", request, as_, progress, cancel, kwargs, lambda v: (None if v is None else Checkpoint(v)))  # type: ignore[attr-defined, no-any-return]

    async def authorize(
        self,
        request: Optional[Union[AuthzRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> Decided:
        """What the policy point decides for a request (nothing is recorded)."""
        return await self._invoke("authorize", request, as_, progress, cancel, kwargs, lambda v: Decided(v))  # type: ignore[attr-defined, no-any-return]

    async def test_policies(
        self,
        request: Optional[Union[DirArg, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> TestReport:
        """Runs the policy unit tests in a folder against this platform's policies."""
        return await self._invoke("test_policies", request, as_, progress, cancel, kwargs, lambda v: TestReport(v))  # type: ignore[attr-defined, no-any-return]

    async def modules(
        self,
        request: Optional[Union[NoArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> List[ModuleSummary]:
        """Every module of the catalog."""
        return await self._invoke("modules", request, as_, progress, cancel, kwargs, lambda v: [ModuleSummary(x0) for x0 in v])  # type: ignore[attr-defined, no-any-return]

    async def infra_impact(
        self,
        request: Optional[Union[NoArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> ImpactReport:
        """Every stored infrastructure request re-resolved against the catalog: what would change."""
        return await self._invoke("infra_impact", request, as_, progress, cancel, kwargs, lambda v: ImpactReport(v))  # type: ignore[attr-defined, no-any-return]

    async def upgrade(
        self,
        request: Optional[Union[UpgradeRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> UpgradeResult:
        """Moves a service to a newer golden-path version, keeping the team's edits."""
        return await self._invoke("upgrade", request, as_, progress, cancel, kwargs, lambda v: UpgradeResult(v))  # type: ignore[attr-defined, no-any-return]

    async def upgrade_plan(
        self,
        request: Optional[Union[UpgradeRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> UpgradeResult:
        """What an upgrade would do to every file, with diffs. Writes nothing."""
        return await self._invoke("upgrade_plan", request, as_, progress, cancel, kwargs, lambda v: UpgradeResult(v))  # type: ignore[attr-defined, no-any-return]

    async def upgrade_fleet(
        self,
        request: Optional[Union[FleetArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> FleetUpgradeReport:
        """Upgrades every service on an older version (of one team, when given)."""
        return await self._invoke("upgrade_fleet", request, as_, progress, cancel, kwargs, lambda v: FleetUpgradeReport(v))  # type: ignore[attr-defined, no-any-return]

    async def fleet(
        self,
        request: Optional[Union[NoArgs, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> List[FleetRow]:
        """Every service with its golden path, version, how far behind it is, and its drift."""
        return await self._invoke("fleet", request, as_, progress, cancel, kwargs, lambda v: [FleetRow(x0) for x0 in v])  # type: ignore[attr-defined, no-any-return]

    async def ingest_events(
        self,
        request: Optional[Union[IngestRequest, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> IngestReport:
        """Records the delivery events of a webhook payload (Argo CD, Alertmanager v4, GitHub)."""
        return await self._invoke("ingest_events", request, as_, progress, cancel, kwargs, lambda v: IngestReport(v))  # type: ignore[attr-defined, no-any-return]

    async def insights(
        self,
        request: Optional[Union[InsightsQuery, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> InsightsReport:
        """DORA four keys, adoption, version drift and escape latches over a period."""
        return await self._invoke("insights", request, as_, progress, cancel, kwargs, lambda v: InsightsReport(v))  # type: ignore[attr-defined, no-any-return]

    async def insights_html(
        self,
        request: Optional[Union[InsightsQuery, Any]] = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        cancel: Any = None,
        **kwargs: Any,
    ) -> str:
        """The insights report as one self-contained HTML page with charts."""
        return await self._invoke("insights_html", request, as_, progress, cancel, kwargs, None)  # type: ignore[attr-defined, no-any-return]
