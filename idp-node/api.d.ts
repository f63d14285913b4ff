// Generated from idp-core's Rust types by `idp_core::api::schema::typescript`; do not edit.
// A test in idp-core regenerates it and fails when it drifts (IDP_BLESS=1 rewrites it).

/** A request about one service: which service, which team owns it, which golden path, and the parameters. The same shape from every face (a JSON object with these keys). */
export interface ServiceRequest {
  /** The service name (a DNS-1123 label that also matches the org's naming rule). Required by every operation; a request file may leave it to a flag (`--service`). */
  service?: string
  /** The owning team (`team-payments` or `group:default/team-payments`). */
  owner?: string
  /** The golden path id; default: `defaults.golden_path` of idp.yaml. */
  golden_path?: string | null
  /** The golden path version; default: the latest. */
  version?: string | null
  /** Parameters, checked against the golden path's JSON Schema. */
  parameters?: Record<string, unknown>
  /** Values for single environments (names from idp.yaml), over `parameters` in that environment's files: `{"prod": {"parameters": {"memory_limit": "1Gi"}}}`. Kept for later requests like parameters are; `null` removes a kept value. */
  environments?: Record<string, EnvironmentValues>
  /** Infrastructure intents (`{type, class?, id?, params}`), for `request_infra_resource`. */
  intents?: unknown[]
  /** A change window of idp.yaml that pre-approves changes to protected environments while open. */
  change_window?: string | null
}

/** What a request sets for one environment. */
export interface EnvironmentValues {
  /** Golden-path parameters for this environment (non-secret ones), checked against the schema with the bounds of the environment's type. */
  parameters?: Record<string, unknown>
}

/** Arguments of `plan`. */
export interface PlanArgs {
  /** The operation to plan: `run_golden_path`, `bootstrap_service`, ... (`golden-path` and kebab-case are accepted too). */
  operation: string
  request: ServiceRequest
}

/** Arguments naming one service. */
export interface ServiceArg {
  service: string
}

/** Arguments naming one run. */
export interface RunArg {
  run_id: string
}

/** One webhook delivery as the forge sent it: its HTTP headers and its body, unparsed (the signature covers the exact bytes). */
export interface WebhookDelivery {
  headers: Record<string, string>
  body: string
}

/** Arguments of list methods (`runs`, `list_waivers`, `audit_list`). */
export interface ListArgs {
  /** Only this service. */
  service?: string | null
  /** Only records at or after this RFC 3339 time (`audit_list`). */
  since?: string | null
  limit?: number | null
}

/** No arguments. */
export type NoArgs = Record<string, never>

/** What a requester asks for. */
export interface WaiverRequest {
  rule: string
  service: string
  environment?: string | null
  justification: string
  /** RFC 3339 time, or a duration from now: `12h`, `7d`. */
  expires: string
  /** The owning team, needed only for a service idp has not created yet (e.g. one whose first run a guardrail stops). */
  owner?: string | null
  /** The operations it applies to ([`waivable_operations`]); required for `protected-environment`. Empty: every operation. */
  operations?: string[]
}

/** Arguments naming one waiver. */
export interface IdArg {
  id: string
}

/** Arguments of `audit_verify`. */
export interface KeyArg {
  /** Verify checkpoints against this ed25519 public key (hex) instead of the log's own. */
  key?: string | null
  /** Checkpoints exported earlier (kept outside the workspace): each must still match. */
  anchors?: Checkpoint[]
}

/** A signed statement "record `seq` has hash `hash`". */
export interface Checkpoint {
  seq: number
  hash: string
  signed_at: string
  /** Hex ed25519 public key. */
  public_key: string
  /** Hex ed25519 signature over [`checkpoint_message`]. */
  signature: string
}

/** Who wants to do what to which resource, in which context. */
export interface AuthzRequest {
  principal: Principal
  /** `bootstrap_service`, `approve_waiver`, ... */
  action: string
  resource: AuthzResource
  context?: AuthzContext
}

/** Who is acting: a user entity ref and the group refs it belongs to. Faces build it: the CLI from `--as`, Backstage from the request's credentials, scripts directly. [`Directory::principal`] fills the groups from the catalog. */
export interface Principal {
  /** `user:default/alice` */
  user: string
  /** `group:default/team-payments`, ... */
  groups?: string[]
}

/** The resource of a request. */
export type AuthzResource = {
  type: "service"
  name: string
  /** Owning team (`team-payments`). */
  owner: string
  golden_path?: string
} | {
  type: "waiver"
  id: string
  rule: string
  service: string
  service_owner: string
  requested_by: string
}

/** The context of a service operation. */
export interface AuthzContext {
  /** The environment the change touches (name from idp.yaml). */
  environment?: string | null
  approved?: boolean
  change_window?: boolean
  first_deploy?: boolean
  dry_run?: boolean
  /** The operation requested (`run_golden_path`, `provision_gitops`, `upgrade`, `plan`, ...); default: the action. */
  operation?: string | null
  /** When the request is made, in the organization's time zone; default: now, in UTC. */
  time?: RequestTime | null
  /** For infrastructure: the intent and the module chosen for it in `environment`. */
  intent?: IntentFacts | null
}

/** The time of a request as policies see it (`context.time`): in the organization's zone. */
export interface RequestTime {
  /** `monday` ... `sunday`. */
  weekday: string
  /** 0-23. */
  hour: number
  /** `2026-11-27`. */
  date: string
}

/** An infrastructure intent as policies see it (`context.intent`). */
export interface IntentFacts {
  /** `bucket`, `postgres`, ... */
  type: string
  /** The class (`logs`), or `""`. */
  class?: string
  /** `bucket:logs`. */
  key: string
  /** The module chosen (`aws-rds-postgres`). */
  module: string
}

/** Arguments of `test_policies`. */
export interface DirArg {
  dir: string
}

/** What to upgrade. */
export interface UpgradeRequest {
  service: string
  /** Target version (default: the latest). */
  to?: string | null
  /** Keep local edits of platform-managed files instead of replacing them. */
  keep?: boolean
}

/** Arguments of `upgrade_fleet`. */
export interface FleetArgs {
  to?: string | null
  owner?: string | null
  keep?: boolean
  /** Plan only: write nothing. */
  plan?: boolean
}

/** Arguments of `ingest_events`. */
export interface IngestRequest {
  /** `argocd`, `alertmanager` or `github`. */
  source: string
  /** The webhook payload as the source sends it (or an array of them). */
  payload: unknown
}

/** What `insights` reports on. */
export interface InsightsQuery {
  /** Only this service. */
  service?: string | null
  /** Only the services of this team (`team-payments` or `group:default/team-payments`). */
  team?: string | null
  /** Start of the period (RFC 3339, or a date `2026-09-01`); default 90 days before `until`. */
  since?: string | null
  /** End of the period, exclusive (RFC 3339, or a date); default now. */
  until?: string | null
}

/** A progress event, for faces that show what is happening (the CLI prints them on stderr; the bindings pass them to a callback as they happen). */
export interface Progress {
  run_id: string
  step: StepId | null
  message: string
}

/** A step of a golden path: one operation that produces a change set in one repo. */
export type StepId = "bootstrap_service" | "wire_ci" | "provision_gitops" | "attach_observability" | "request_infra_resource"

/** What an operation did. */
export interface Receipt {
  run_id: string
  operation: Operation
  service: string
  owner: string
  golden_path: string
  scaffold_version: string
  status: RunStatus
  started_at: string
  finished_at: string
  steps: StepReceipt[]
  /** Repo and change request URLs by name. */
  links: Record<string, string>
  warnings: string[]
}

/** An operation of the platform. Every face exposes the same set under the same names (snake_case in Rust and Python, camelCase in Node, kebab-case in the CLI). */
export type Operation = "bootstrap_service" | "wire_ci" | "provision_gitops" | "attach_observability" | "request_infra_resource" | "run_golden_path"

/** How a run ended. */
export type RunStatus = "running" | "completed" | "failed" | "cancelled" | "superseded" | "waiting" | "rejected"

/** The outcome of one step. */
export interface StepReceipt {
  step: StepId
  repo: string
  /** The change request that brought the repo to this state; `None` when it already was. */
  change_request: ChangeRequestRef | null
  artifacts: Artifact[]
  /** Step-specific outputs (e.g. the infra outputs wired back to the service). */
  outputs?: Record<string, unknown>
}

/** The change request (branch + commit + record) a step produced. */
export interface ChangeRequestRef {
  /** `payments-api#1` */
  id: string
  repo: string
  branch: string
  commit: string
  url: string
  state: ChangeRequestState
}

/** State of a change request. */
export type ChangeRequestState = "pending" | "open" | "merged" | "closed"

/** One file a step produced. */
export interface Artifact {
  repo: string
  path: string
  sha256: string
  ownership: Ownership
  /** `python-fastapi-service@1.0.0:service/Dockerfile.tera` */
  provenance: string
}

/** Who owns a file after it is written. */
export type Ownership = "managed" | "merged" | "seeded"

/** A dry run: the exact change sets an operation would apply, with diffs. Nothing was written. */
export interface Plan {
  operation: Operation
  service: string
  owner: string
  golden_path: string
  scaffold_version: string
  /** Effective parameters (secrets redacted). */
  parameters: unknown
  change_sets: ChangeSet[]
  warnings: string[]
  /** Authorization decisions for the operation and every environment it writes to. */
  decisions: DecisionRecord[]
  /** Guardrail findings on what it would write (waived ones carry `waived_by`). */
  violations: Violation[]
  /** True when applying it would pass the policy point. */
  allowed: boolean
}

/** Everything one step will do in one repo. */
export interface ChangeSet {
  step: StepId
  repo: string
  repo_role: RepoRole
  /** True when the repo does not exist yet and will be created. */
  creates_repo: boolean
  files: FileChange[]
  /** SHA-256 over the rendered files (path and content hash, in path order), stamp excluded: equal digests mean the same desired state. */
  digest: string
}

/** Which repository a step writes to. */
export type RepoRole = "service" | "gitops" | "infra"

/** One file of a change set. */
export interface FileChange {
  path: string
  action: FileAction
  /** `None` for the scaffold stamp, which the engine owns. */
  ownership: Ownership | null
  /** `golden-path@version:template`, or `idp:scaffold-stamp`. */
  provenance: string
  /** SHA-256 of the content the file has after this change set. */
  sha256: string
  /** Unified diff from the current content (plans only). */
  diff?: string | null
  /** Why a file is kept or how it was merged. */
  note?: string | null
  /** The environment the file belongs to (for per-environment files). */
  environment?: string | null
}

/** What will happen to one file. */
export type FileAction = "create" | "update" | "delete" | "unchanged" | "keep"

/** One authorization decision, as shown in plans and kept in the audit log. */
export interface DecisionRecord {
  action: string
  environment?: string | null
  /** For infrastructure: the intent decided on (`bucket:logs`). */
  intent?: string | null
  allowed: boolean
  /** Ids of the deciding policies (empty: denied by default). */
  policies: string[]
  /** The waiver that approved a protected change, if one did. */
  waiver?: string | null
}

/** One finding. */
export interface Violation {
  /** `labels-required`, `deny_privileged`, ... */
  rule: string
  severity: Enforcement
  repo: string
  path: string
  environment?: string | null
  message: string
  /** `convention` or `rego:<file>`. */
  source: string
  /** The waiver that turns this deny into an allowed exception. */
  waived_by?: string | null
}

/** What a rule does when it finds something. */
export type Enforcement = "deny" | "warn" | "off"

/** Everything idp knows about what it created for a service. */
export interface Explanation {
  service: string
  owner: string
  golden_path: string
  scaffold_version: string
  parameters: unknown
  /** Values of single environments over `parameters` (`{"prod": {"memory_limit": "1Gi"}}`). */
  environments?: Record<string, unknown>
  /** Repo name -> URL. */
  repos: Record<string, string>
  files: FileExplanation[]
  change_requests: ChangeRequestSummary[]
  /** General advice on changing what the golden path generates. */
  overrides: string[]
  /** The service's infrastructure: each intent in each environment, the module chosen (and every candidate with why), where each input's value comes from, and the bindings. */
  infrastructure: Resolution[]
}

/** One file idp created. */
export interface FileExplanation {
  repo: string
  path: string
  step: StepId
  ownership: Ownership
  /** True when platform updates replace or merge into this file. */
  managed_by_platform: boolean
  /** `golden-path@version:template` */
  provenance: string
  /** Hash of the file as idp rendered it. */
  rendered_sha256: string
  /** Hash of the file in the repo now; `None` if the team deleted it. */
  current_sha256: string | null
  /** True when the file in the repo differs from what idp rendered. */
  locally_modified: boolean
  /** Where a platform-managed (managed or merged) file differs from what idp rendered for the service's current parameters: key paths for YAML, JSON and TOML (`/spec/template/spec/containers[name=app]/ports[name=http]/containerPort`), line ranges for other files. Empty when it does not differ or the render is not in the content store. */
  drift?: string[]
  how_to_override: string
}

/** A change request idp opened for the service. */
export interface ChangeRequestSummary {
  id: string
  repo: string
  step: StepId
  branch: string
  commit: string | null
  state: string
  url: string | null
}

/** An intent resolved in one environment. */
export interface Resolution {
  /** `bucket:logs` */
  intent: string
  type: string
  class: string | null
  id: string
  environment: string
  module: string
  module_version: string
  flavour: Flavour
  /** Terraform module address, or the claim's `apiVersion/kind`. */
  source: string
  resource_name: string
  /** The Secret the outputs land in. */
  secret: string
  /** Where the rendered file goes in the infra repo. */
  file: string
  candidates: Candidate[]
  inputs: ResolvedInput[]
  outputs: ResolvedOutput[]
  bindings: Binding[]
  /** Waiver rules (`module-override:<param>`) this resolution needs to be applied. */
  approvals?: string[]
}

/** How a module is provisioned. */
export type Flavour = "terraform" | "crossplane"

/** One module the resolver considered. */
export interface Candidate {
  module: string
  file: string
  matched: boolean
  specificity: number
  chosen: boolean
  /** One line per constraint: what was compared and the outcome. */
  reasons: string[]
}

/** One input of the chosen module. */
export interface ResolvedInput {
  name: string
  value: unknown
  source: InputSource
  /** The developer-facing parameter that sets it, if any. */
  param?: string | null
}

/** Where an input's value comes from. */
export type InputSource = "locked" | "org_default" | "environment_default" | "developer" | "naming" | "tags"

/** An output of the chosen module. */
export interface ResolvedOutput {
  name: string
  secret: boolean
}

/** An environment variable the service gets from the resource. */
export interface Binding {
  /** `LOGS_BUCKET_NAME` */
  name: string
  /** The Secret holding the module's outputs. */
  secret: string
  /** The key (module output) in that Secret. */
  key: string
  /** `bucket:logs` */
  intent: string
  /** `aws-s3-bucket@4.2.0` */
  module: string
  /** The output is a secret (a password, a token): the Deployment mounts it as a file and passes its path in `<name>_FILE`, instead of putting the value in the environment. */
  sensitive: boolean
}

/** What a delivery did. */
export interface WebhookReport {
  /** What the forge said; `null` for events about no change request (ping, push). */
  event: ForgeEvent | null
  /** The waiting runs the event resumed. */
  runs: ResumedRun[]
}

/** A forge's news about a change request, from a verified webhook delivery. */
export interface ForgeEvent {
  /** The forge's event, e.g. `pull_request.closed`. */
  event: string
  repo: string
  /** The change request's web address. */
  url: string
  merged: boolean
  closed: boolean
  /** The change request keys the pull request carries (idp's runs and steps). */
  keys: string[]
}

/** A run a webhook resumed, and where it is now. */
export interface ResumedRun {
  run_id: string
  status: RunStatus
  receipt: Receipt | null
  /** The error that ended it (a rejected review, a policy that now denies). */
  error: unknown
}

/** A run as listed by `runs`. */
export interface RunSummary {
  run_id: string
  operation: string
  service: string
  principal: string
  status: RunStatus
  created_at: string
  updated_at: string
  /** Steps completed so far. */
  steps_completed: StepId[]
}

/** A golden path version (what `golden_paths` returns). */
export interface GoldenPathSummary {
  id: string
  version: string
  title: string
  /** The parameters' JSON Schema. */
  parameters: unknown
}

/** The outcome of `idp golden-path check`. */
export interface GoldenPathCheckReport {
  /** Every golden path version looked at (`id@version`). */
  checked: string[]
  problems: Problem[]
  /** True when no problem is an error. */
  ok: boolean
}

/** One problem of one golden path version. */
export interface Problem {
  golden_path: string
  version: string
  severity: Severity
  /** The file at fault: `golden-paths/<id>/<version>/path.yaml`, a template, or a file the version renders (`apps/<service>/dev/deployment.yaml`). */
  file?: string | null
  /** Where in it: `parameters.properties.port.default`, `steps.wire_ci.files[0].path`, the guardrail rule of a rendered file, ... */
  field?: string | null
  message: string
}

/** How bad a problem is. */
export type Severity = "error" | "warning"

/** A waiver and its approval. */
export interface Waiver {
  /** `wv-…` */
  id: string
  /** The rule it excepts: a guardrail rule (`image-tag-pinned`, `deny_privileged`), `protected-environment`, or `module-override:<param>`. */
  rule: string
  service: string
  /** `None`: every environment. */
  environment: string | null
  justification: string
  requested_by: string
  requested_at: string
  expires_at: string
  approved_by: string | null
  approved_at: string | null
  /** The owning team named at request time, for a service idp has not created yet. */
  owner?: string | null
  /** The operations it applies to (`provision_gitops`, `request_infra_resource`, `upgrade`, ...): an operation requested, or a step of one. Empty: every operation (not allowed for `protected-environment`, whose waivers approve named changes). */
  operations?: string[]
}

/** A waiver with its state now (what `list_waivers` returns). */
export interface WaiverWithState {
  /** `wv-…` */
  id: string
  /** The rule it excepts: a guardrail rule (`image-tag-pinned`, `deny_privileged`), `protected-environment`, or `module-override:<param>`. */
  rule: string
  service: string
  /** `None`: every environment. */
  environment: string | null
  justification: string
  requested_by: string
  requested_at: string
  expires_at: string
  approved_by: string | null
  approved_at: string | null
  /** The owning team named at request time, for a service idp has not created yet. */
  owner?: string | null
  /** The operations it applies to (`provision_gitops`, `request_infra_resource`, `upgrade`, ...): an operation requested, or a step of one. Empty: every operation (not allowed for `protected-environment`, whose waivers approve named changes). */
  operations?: string[]
  state: WaiverState
}

/** Where a waiver stands. */
export type WaiverState = "pending" | "approved" | "expired"

/** The result of verifying the chain. */
export interface VerifyReport {
  ok: boolean
  records: number
  /** Last record's hash (the head of the chain). */
  head: string
  checkpoints_verified: number
  /** The first record (by position) that does not verify, and why. */
  first_bad: BadRecord | null
}

/** Where and why the chain breaks. */
export interface BadRecord {
  /** The sequence number expected at this position. */
  seq: number
  reason: string
}

/** A sequenced, hash-chained record. */
export interface AuditRecord {
  seq: number
  prev_hash: string
  hash: string
  event: AuditEvent
}

/** What happened, as the engine reports it (before sequencing and hashing). */
export interface AuditEvent {
  /** RFC 3339 UTC. */
  time: string
  /** `user:default/alice` */
  principal: string
  /** `run_golden_path`, `plan`, `request_waiver`, `policy_load`, ... */
  operation: string
  /** What it acted on: `service:payments-api` (waiver actions too, with the waiver id in `waivers`), or `platform:…` for policy loads. */
  resource: string
  /** SHA-256 of the canonical, redacted request. */
  input_digest: string
  /** `allow`, `deny`, or `none` when no decision was needed. */
  decision: string
  /** Ids of the policies that decided. */
  policies: string[]
  /** Waivers that turned a deny into an allowed exception. */
  waivers: string[]
  /** `completed`, `denied`, `failed`, `planned`, `requested`, `approved`, `loaded`, ... */
  outcome: string
  /** `repo:path` -> sha256 of what was written. */
  artifacts: unknown[]
  /** Run id or another correlation id. */
  correlation_id: string
  /** Anything else worth keeping (redacted). */
  details: unknown
  /** SHA-256 of the platform folder whose policies made the decision (`PlatformDef::digest`). Empty in records written before it was kept. */
  platform?: string
}

/** A decision and the policies that made it. */
export interface Decided {
  allowed: boolean
  /** `@id`s of the policies that decided (the permits that allowed, or the forbids that denied; empty for a deny by default). */
  policies: string[]
  /** Evaluation errors (a policy that failed to evaluate does not apply). */
  errors?: string[]
}

/** Every test's outcome. */
export interface TestReport {
  passed: number
  failed: number
  results: TestResult[]
}

/** The outcome of one test. */
export interface TestResult {
  file: string
  name: string
  passed: boolean
  /** What happened, for a person reading the report. */
  detail: string
}

/** A module of the catalog, as listed by `idp modules list`. */
export interface ModuleSummary {
  file: string
  apiVersion: string
  kind: string
  name: string
  type: string
  description: string
  flavour: Flavour
  /** Terraform module address (registry or git). */
  source: string | null
  version: string
  claim: ClaimKind | null
  /** The XRD file (next to the module) whose schema every claim must satisfy. */
  xrd: string | null
  match: MatchRule
  naming: NamingDef
  locked: Record<string, unknown>
  params: Record<string, ParamDef>
  /** Environment name or type -> parameter defaults there. */
  environment_defaults: Record<string, Record<string, unknown>>
  outputs: Record<string, OutputDef>
}

/** A Crossplane claim kind. */
export interface ClaimKind {
  apiVersion: string
  kind: string
}

/** When a module is chosen. Every constraint that is set must hold; unset constraints match anything. */
export interface MatchRule {
  class: string[] | null
  environment: string[] | null
  environment_type: string | null
  team: string[] | null
  service: string[] | null
}

/** Where the generated name goes, and the cloud's limit on it. */
export interface NamingDef {
  input: string
  max_length: number
}

/** A parameter a developer may set. */
export interface ParamDef {
  type: string
  description: string
  default: unknown
  minimum: number | null
  maximum: number | null
  enum: unknown[] | null
  /** The module input it sets (default: the parameter's own name). */
  input: string | null
  /** Any value other than the default needs an approved waiver `module-override:<param>`. */
  approval: boolean
  /** Values below this need an approved waiver. */
  approval_below: number | null
  /** Values above this need an approved waiver. */
  approval_above: number | null
}

/** An output the module provides. */
export interface OutputDef {
  secret: boolean
}

/** The impact preview over every service with infrastructure. */
export interface ImpactReport {
  /** Services whose infrastructure would change (or could not be resolved). */
  affected: ServiceImpact[]
  /** Services checked and unchanged. */
  unchanged: string[]
  /** How many services with infrastructure the caller may not plan (not named: which services other teams own is not the caller's business). */
  not_allowed: number
}

/** What a catalog change would do to one service. */
export interface ServiceImpact {
  service: string
  owner: string
  changes: ResolutionChange[]
  /** The infra repo files that would change, with diffs. */
  files: FileChange[]
  /** Why the service could not be re-resolved (e.g. no module matches any more). */
  error?: string | null
}

/** How one resolution would change. */
export interface ResolutionChange {
  intent: string
  environment: string
  /** `module@version` now in force (`None`: new). */
  before: string | null
  /** `module@version` after the change (`None`: no longer resolved). */
  after: string | null
  /** Inputs whose value changes: `{name, before, after}`. */
  inputs: unknown[]
}

/** The result of upgrading one service. */
export interface UpgradeResult {
  service: string
  owner: string
  golden_path: string
  from: string
  to: string
  /** Every version stepped through, in order. */
  versions: string[]
  status: UpgradeStatus
  /** Every file the upgrade changes or deliberately leaves alone (unchanged files omitted). */
  files: FileUpgrade[]
  /** `repo:path` of every file with conflicts. */
  conflicts: string[]
  change_requests: ChangeRequestRef[]
  decisions: DecisionRecord[]
  violations: Violation[]
  warnings: string[]
}

/** How an upgrade ended. */
export type UpgradeStatus = "up_to_date" | "planned" | "upgraded" | "conflicts"

/** The outcome for one file. */
export interface FileUpgrade {
  repo: string
  path: string
  action: UpgradeAction
  ownership?: Ownership | null
  renamed_from?: string | null
  /** Conflicting regions (for `conflict`). */
  conflicts?: number
  note?: string | null
  /** Unified diff from the repo's current content (plans only). */
  diff?: string | null
}

/** What an upgrade does to one file. */
export type UpgradeAction = "replace" | "merge_clean" | "conflict" | "add" | "remove" | "rename" | "keep" | "unchanged"

/** A fleet upgrade: one row per service, in name order. */
export interface FleetUpgradeReport {
  rows: FleetUpgradeRow[]
  upgraded: number
  conflicts: number
  failed: number
  up_to_date: number
}

/** One row of a fleet upgrade. */
export interface FleetUpgradeRow {
  service: string
  owner: string
  from: string
  to: string
  /** `up_to_date`, `planned`, `upgraded`, `conflicts`, or `failed`. */
  outcome: string
  conflicts: number
  change_requests: string[]
  error?: string | null
}

/** One service in `idp fleet`. */
export interface FleetRow {
  service: string
  owner: string
  golden_path: string
  version: string
  latest: string
  /** How many released versions it is behind. */
  behind: number
  /** Platform-managed files edited in the repo (`repo:path`). */
  managed_edits: string[]
  /** Files idp wrote that the team deleted (`repo:path`). */
  deleted: string[]
  /** Merged files whose team edits differ from what idp renders for the service's current parameters, with where (`repo:path: /key, /key` or line ranges). */
  drift: string[]
}

/** What `ingest_events` did. */
export interface IngestReport {
  source: string
  /** Events the payload held for services idp knows. */
  received: number
  /** Of them, new (the rest were recorded before: ingesting a payload twice is harmless). */
  recorded: number
  duplicates: number
  /** What was skipped and why (at most 50 reasons; `skipped_count` counts all). */
  skipped: string[]
  skipped_count: number
}

/** What `insights` reports. */
export interface InsightsReport {
  generated_at: string
  period: Period
  scope: Scope
  /** The four keys of every service in scope together. */
  four_keys: FourKeys
  teams: TeamKeys[]
  services: ServiceKeys[]
  weekly: WeekRow[]
  lead_time_distribution: Bucket[]
  adoption: Adoption
  drift: Drift
  latches: Latches
}

export interface Period {
  from: string
  to: string
  days: number
}

/** The filters a report was made with (the principal's read scope always applies). */
export interface Scope {
  service: string | null
  team: string | null
}

/** The four keys of a service, a team or the whole scope, over a period. */
export interface FourKeys {
  /** Production deployments in the period, successful or not. */
  deployments: number
  successful_deployments: number
  /** Successful production deployments per day. */
  deploys_per_day: number
  deployment_frequency_band: Band
  /** Commits that reached production in the period. */
  changes: number
  lead_time_median_hours: number | null
  lead_time_band: Band | null
  /** Deployments that failed, were rolled back, or were followed by an incident before the next deployment. */
  failed_deployments: number
  change_failure_rate: number | null
  change_failure_rate_band: Band | null
  /** Production incidents (overlapping SLO alerts of a service form one) that began in the period. */
  incidents: number
  restored: number
  time_to_restore_median_hours: number | null
  time_to_restore_band: Band | null
}

/** DORA's performance bands. */
export type Band = "elite" | "high" | "medium" | "low"

export interface TeamKeys {
  team: string
  services: number
  four_keys: FourKeys
}

export interface ServiceKeys {
  service: string
  owner: string
  four_keys: FourKeys
}

/** One ISO week of the period. */
export interface WeekRow {
  /** `2026-W36` */
  week: string
  /** Its Monday. */
  start: string
  deployments: number
  failed_deployments: number
  lead_time_median_hours: number | null
  incidents: number
  time_to_restore_median_hours: number | null
}

/** How many changes reached production within a lead-time range. */
export interface Bucket {
  label: string
  changes: number
}

/** Who chooses the golden path. */
export interface Adoption {
  /** Components in the catalog (the org directory's `Component` entities and the services idp created, which register themselves). */
  catalog_components: number
  /** Of them, created or upgraded by a golden path. */
  golden_path_components: number
  share: number | null
  /** Runs started in the period. */
  runs: number
  /** By the face that started them: `cli`, `backstage`, `python`, `node`, `rust`, ... */
  runs_by_face: Record<string, number>
  services_by_golden_path: Record<string, number>
}

/** How far services are behind their golden path's latest version. */
export interface Drift {
  services: number
  behind: number
  by_team: TeamDrift[]
  services_behind: ServiceDrift[]
}

export interface TeamDrift {
  team: string
  services: number
  behind: number
  max_behind: number
}

export interface ServiceDrift {
  service: string
  owner: string
  golden_path: string
  version: string
  latest: string
  /** Released versions between the service's and the latest. */
  behind: number
}

/** Escape latches in use: where teams stepped off the path, on purpose. */
export interface Latches {
  /** Approved waivers that have not expired. */
  active_waivers: ActiveWaiver[]
  /** Platform-managed files a team edited in its repos. */
  managed_edits: ManagedEdits[]
}

export interface ActiveWaiver {
  id: string
  service: string
  rule: string
  environment: string | null
  expires_at: string
}

export interface ManagedEdits {
  service: string
  /** `repo:path` */
  files: string[]
}

/** Every method of the call surface: its arguments and result. */
export interface IdpMethods {
  /** The service repo: app, tests, container, security baselines, catalog entry. */
  bootstrap_service: { args: ServiceRequest; result: Receipt }
  /** The CI pipeline in the service repo. */
  wire_ci: { args: ServiceRequest; result: Receipt }
  /** Argo CD applications and Kubernetes manifests per environment. */
  provision_gitops: { args: ServiceRequest; result: Receipt }
  /** The Grafana dashboard and SLO burn-rate alerts. */
  attach_observability: { args: ServiceRequest; result: Receipt }
  /** The request's intents as org-approved modules in the infra repo, wired back to the service. */
  request_infra_resource: { args: ServiceRequest; result: Receipt }
  /** Every step of the golden path, in order. */
  run_golden_path: { args: ServiceRequest; result: Receipt }
  /** Dry run: the exact change sets with diffs and policy decisions. Writes nothing. */
  plan: { args: PlanArgs; result: Plan }
  /** What idp created for a service, and how to override each file safely. */
  explain: { args: ServiceArg; result: Explanation }
  /** Resumes an interrupted, failed or cancelled run; a completed run returns its receipt. */
  resume: { args: RunArg; result: Receipt }
  /** A forge's webhook delivery (headers and raw body): verified with the configured secret; a pull request merged or closed resumes the runs waiting on it. */
  forge_webhook: { args: WebhookDelivery; result: WebhookReport }
  /** Runs, newest first. */
  runs: { args: ListArgs; result: RunSummary[] }
  /** The golden paths and their versions, with each one's parameter schema. */
  golden_paths: { args: NoArgs; result: GoldenPathSummary[] }
  /** Checks every golden path and version: it loads, its schema and defaults are sound, it renders with its defaults, and what it renders passes the guardrails. Writes nothing. */
  check_golden_paths: { args: NoArgs; result: GoldenPathCheckReport }
  /** Asks for an exception to a rule for a service (and environment), until it expires. */
  request_waiver: { args: WaiverRequest; result: Waiver }
  /** Approves a waiver (someone other than its requester, allowed by policy). */
  approve_waiver: { args: IdArg; result: Waiver }
  /** Waivers and their state, of one service when given. */
  list_waivers: { args: ListArgs; result: WaiverWithState[] }
  /** Checks the audit chain and every signed checkpoint. */
  audit_verify: { args: KeyArg; result: VerifyReport }
  /** Audit records, oldest first. */
  audit_list: { args: ListArgs; result: AuditRecord[] }
  /** Signs a checkpoint of the audit chain's head (`null` when the log is empty). Platform admins only. */
  audit_checkpoint: { args: NoArgs; result: Checkpoint | null }
  /** What the policy point decides for a request (nothing is recorded). */
  authorize: { args: AuthzRequest; result: Decided }
  /** Runs the policy unit tests in a folder against this platform's policies. */
  test_policies: { args: DirArg; result: TestReport }
  /** Every module of the catalog. */
  modules: { args: NoArgs; result: ModuleSummary[] }
  /** Every stored infrastructure request re-resolved against the catalog: what would change. */
  infra_impact: { args: NoArgs; result: ImpactReport }
  /** Moves a service to a newer golden-path version, keeping the team's edits. */
  upgrade: { args: UpgradeRequest; result: UpgradeResult }
  /** What an upgrade would do to every file, with diffs. Writes nothing. */
  upgrade_plan: { args: UpgradeRequest; result: UpgradeResult }
  /** Upgrades every service on an older version (of one team, when given). */
  upgrade_fleet: { args: FleetArgs; result: FleetUpgradeReport }
  /** Every service with its golden path, version, how far behind it is, and its drift. */
  fleet: { args: NoArgs; result: FleetRow[] }
  /** Records the delivery events of a webhook payload (Argo CD, Alertmanager v4, GitHub). */
  ingest_events: { args: IngestRequest; result: IngestReport }
  /** DORA four keys, adoption, version drift and escape latches over a period. */
  insights: { args: InsightsQuery; result: InsightsReport }
  /** The insights report as one self-contained HTML page with charts. */
  insights_html: { args: InsightsQuery; result: string }
}

/** Method names (snake_case), in the core's order. */
export type IdpMethod = keyof IdpMethods

/** The camelCase name each method has on `Platform`. */
export interface IdpMethodNames {
  bootstrap_service: 'bootstrapService'
  wire_ci: 'wireCi'
  provision_gitops: 'provisionGitops'
  attach_observability: 'attachObservability'
  request_infra_resource: 'requestInfraResource'
  run_golden_path: 'runGoldenPath'
  plan: 'plan'
  explain: 'explain'
  resume: 'resume'
  forge_webhook: 'forgeWebhook'
  runs: 'runs'
  golden_paths: 'goldenPaths'
  check_golden_paths: 'checkGoldenPaths'
  request_waiver: 'requestWaiver'
  approve_waiver: 'approveWaiver'
  list_waivers: 'listWaivers'
  audit_verify: 'auditVerify'
  audit_list: 'auditList'
  audit_checkpoint: 'auditCheckpoint'
  authorize: 'authorize'
  test_policies: 'testPolicies'
  modules: 'modules'
  infra_impact: 'infraImpact'
  upgrade: 'upgrade'
  upgrade_plan: 'upgradePlan'
  upgrade_fleet: 'upgradeFleet'
  fleet: 'fleet'
  ingest_events: 'ingestEvents'
  insights: 'insights'
  insights_html: 'insightsHtml'
}
