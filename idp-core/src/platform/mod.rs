//! [`Platform`]: the one entry point. A face builds a [`Principal`] and a request, calls one
//! method, and gets a [`Receipt`], a [`Plan`] or a typed [`Error`].
//!
//! ```text
//! request ─► validate (preflight) ─► plan (steps → change sets) ─► apply (providers) ─► Receipt
//! ```
//!
//! Planning, rendering, merging and policy are synchronous; everything that talks to a provider
//! is `async`.

pub mod check;
mod definition;
mod engine;
pub mod explain;
mod infra;
pub mod insights;
pub mod pin;
mod policy_point;
pub mod policy_tests;
mod prepare;
mod reads;
mod service;
mod source;
mod upgrade;
mod waivers;
pub mod webhooks;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use check::GoldenPathCheckReport;
pub use definition::{LoadProblem, PlatformDef};
pub use engine::Plan;
pub use infra::{ImpactReport, ModuleSummary, ResolutionChange, ServiceImpact};
pub use policy_point::DecisionRecord;
pub use source::PlatformFiles;
pub use upgrade::{
    FleetRow, FleetUpgradeReport, FleetUpgradeRequest, FleetUpgradeRow, UpgradeRequest,
    UpgradeResult, UpgradeStatus,
};

use crate::audit::{AuditEvent, AuditLog};
use crate::error::{Error, Result};
use crate::org::Principal;
use crate::providers::SourceControl;
use crate::receipt::Receipt;
use crate::request::{Operation, ServiceRequest};
use crate::runtime::CancelToken;
use crate::state::StateStore;
use crate::time::{Clock, SystemClock};

/// A progress event, for faces that show what is happening (the CLI prints them on stderr; the
/// bindings pass them to a callback as they happen).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Progress {
    pub run_id: String,
    pub step: Option<crate::golden_path::StepId>,
    pub message: String,
}

/// Receives progress events.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// A run as listed by `runs`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunSummary {
    pub run_id: String,
    pub operation: String,
    pub service: String,
    pub principal: String,
    pub status: crate::receipt::RunStatus,
    pub created_at: String,
    pub updated_at: String,
    /// Steps completed so far.
    pub steps_completed: Vec<crate::golden_path::StepId>,
}

/// The platform: a definition (config, org, golden paths, policies) bound to a workspace and to
/// its providers (repos, state, audit, clock). Operations are `async`; [`crate::blocking`] has
/// the same methods for synchronous callers. Cloning is cheap and clones share everything, so a
/// clone can carry call-scoped options ([`Platform::with_progress`], [`Platform::with_cancel`]).
///
/// ```no_run
/// # async fn demo() -> idp_core::Result<()> {
/// use idp_core::{Platform, ServiceRequest};
/// let platform = Platform::builtin(".idp").await?;
/// let alice = platform.principal("user:default/alice");
/// let receipt = platform
///     .run_golden_path(&alice, &ServiceRequest::new("payments-api", "team-payments"))
///     .await?;
/// println!("{}", receipt.to_json());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Platform {
    def: Arc<PlatformDef>,
    workspace: Arc<PathBuf>,
    scm: Arc<dyn SourceControl>,
    state: Arc<dyn StateStore>,
    audit: Arc<dyn AuditLog>,
    clock: Arc<dyn Clock>,
    /// The workspace's idempotency MAC key (`idempotency.key`, owner-only).
    mac_key: Arc<[u8; 32]>,
    progress: Option<ProgressFn>,
    cancel: Option<CancelToken>,
    /// Guardrails on the calling thread only (set for the tasks of a fleet upgrade).
    sequential_checks: bool,
    /// The face its calls come through (`cli`, `backstage`, ...), recorded on runs.
    face: Arc<str>,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("platform", &self.def.files.origin)
            .field("workspace", &self.workspace)
            .field("source_control", &self.scm.kind())
            .field("state", &self.state.kind())
            .field("audit", &self.audit.kind())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Platform`]: the definition (the built-in one unless given), the workspace, and any
/// provider the embedder brings; the others come from `providers:` in idp.yaml.
///
/// ```no_run
/// # async fn demo() -> idp_core::Result<()> {
/// use std::sync::Arc;
/// use idp_core::providers::MemorySourceControl;
/// let platform = idp_core::Platform::builder()
///     .workspace(".idp")
///     .source_control(Arc::new(MemorySourceControl::new("main", true)))
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Default)]
#[must_use]
pub struct PlatformBuilder {
    files: Option<PlatformFiles>,
    dir: Option<PathBuf>,
    workspace: Option<PathBuf>,
    scm: Option<Arc<dyn SourceControl>>,
    state: Option<Arc<dyn StateStore>>,
    audit: Option<Arc<dyn AuditLog>>,
    clock: Option<Arc<dyn Clock>>,
    host_tokens: std::collections::BTreeMap<String, crate::config::Secret>,
}

impl PlatformBuilder {
    /// A token for the forge at `host` (`github.com`, `ghe.example:8443`), used when
    /// `providers.source_control.token` is not set: how a host that already holds the forge's
    /// credentials (Backstage's `integrations`) shares them without writing them anywhere.
    pub fn host_token(mut self, host: impl Into<String>, token: crate::config::Secret) -> Self {
        self.host_tokens.insert(host.into(), token);
        self
    }

    /// The platform defined by `files` (default: the built-in platform).
    pub fn definition(mut self, files: PlatformFiles) -> Self {
        self.files = Some(files);
        self.dir = None;
        self
    }

    /// The platform defined in folder `dir` (idp.yaml, golden-paths/, ...), read at `build`.
    pub fn platform_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.dir = Some(dir.as_ref().to_path_buf());
        self.files = None;
        self
    }

    /// Where local state lives: repos and databases of the embedded providers, locks, keys.
    pub fn workspace(mut self, dir: impl AsRef<Path>) -> Self {
        self.workspace = Some(dir.as_ref().to_path_buf());
        self
    }

    pub fn source_control(mut self, p: Arc<dyn SourceControl>) -> Self {
        self.scm = Some(p);
        self
    }

    pub fn state(mut self, p: Arc<dyn StateStore>) -> Self {
        self.state = Some(p);
        self
    }

    pub fn audit(mut self, p: Arc<dyn AuditLog>) -> Self {
        self.audit = Some(p);
        self
    }

    pub fn clock(mut self, c: Arc<dyn Clock>) -> Self {
        self.clock = Some(c);
        self
    }

    /// Loads the definition, opens the providers that were not given, and records the policies
    /// in force in the audit log.
    pub async fn build(self) -> Result<Platform> {
        let workspace = self.workspace.ok_or_else(|| {
            Error::invalid("Platform::builder() needs a workspace folder")
                .with("field", "workspace")
        })?;
        let (files, dir) = (self.files, self.dir);
        let def = {
            crate::runtime::unblock(move || {
                let files = match (files, dir) {
                    (Some(f), _) => f,
                    (None, Some(d)) => PlatformFiles::from_dir(&d)?,
                    (None, None) => PlatformFiles::builtin(),
                };
                Ok(Arc::new(PlatformDef::load(files)?))
            })
            .await?
        };
        let providers = &def.config.providers;
        // The source control first: a forge's missing token or bad URL is refused before the
        // workspace is written.
        let scm = match self.scm {
            Some(p) => p,
            None => {
                crate::providers::source_control(
                    &providers.source_control,
                    &workspace,
                    &self.host_tokens,
                )
                .await?
            }
        };
        {
            let workspace = workspace.clone();
            crate::runtime::unblock(move || {
                std::fs::create_dir_all(&workspace).map_err(|e| {
                    Error::invalid(format!(
                        "cannot create workspace {}: {e}",
                        workspace.display()
                    ))
                    .with("field", "workspace")
                })
            })
            .await?;
        }
        let state = match self.state {
            Some(p) => p,
            None => crate::state::open(&providers.state, &workspace).await?,
        };
        let audit = match self.audit {
            Some(p) => p,
            None => {
                crate::audit::open(providers.audit.as_ref(), &providers.state, &workspace).await?
            }
        };
        let mac_key = {
            let ws = workspace.clone();
            crate::runtime::unblock(move || workspace_mac_key(&ws)).await?
        };
        let p = Platform {
            def,
            workspace: Arc::new(workspace),
            scm,
            state,
            audit,
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            mac_key: Arc::new(mac_key),
            progress: None,
            cancel: None,
            sequential_checks: false,
            face: "rust".into(),
        };
        p.record_policy_load().await?;
        Ok(p)
    }
}

impl Platform {
    /// A builder: definition, workspace, and any provider to inject.
    pub fn builder() -> PlatformBuilder {
        PlatformBuilder::default()
    }

    /// The built-in default platform, with repos and state under `workspace`.
    pub async fn builtin(workspace: impl AsRef<Path>) -> Result<Platform> {
        Platform::builder().workspace(workspace).build().await
    }

    /// The platform defined in folder `dir`, with repos and state under `workspace`.
    pub async fn from_dir(dir: impl AsRef<Path>, workspace: impl AsRef<Path>) -> Result<Platform> {
        Platform::builder()
            .platform_dir(dir)
            .workspace(workspace)
            .build()
            .await
    }

    /// A platform from already-read files.
    pub async fn from_files(files: PlatformFiles, workspace: impl AsRef<Path>) -> Result<Platform> {
        Platform::builder()
            .definition(files)
            .workspace(workspace)
            .build()
            .await
    }

    /// Appends a `policy_load` record when the policies differ from the last ones recorded, so
    /// the log says which policies were in force for every later decision.
    async fn record_policy_load(&self) -> Result<()> {
        // Atomic in the log: many processes opening the same platform at once record it once.
        self.audit
            .append_if_changed(
                AuditEvent {
                    time: self.now_text(),
                    principal: "system:idp".into(),
                    operation: "policy_load".into(),
                    resource: format!("platform:{}", self.def.files.origin),
                    input_digest: self.def.policy_digest.clone(),
                    decision: "none".into(),
                    policies: self.def.authz.policy_ids().to_vec(),
                    outcome: "loaded".into(),
                    details: serde_json::json!({
                        "digest": self.def.policy_digest,
                        "cedar_policies": self.def.authz.len(),
                        "rego_rules": self.def.guardrails.rego_rules(),
                    }),
                    platform: self.def.digest.clone(),
                    ..Default::default()
                },
                "digest",
            )
            .await?;
        Ok(())
    }

    /// The parsed built-in `idp.yaml` (handy for tests and docs).
    pub fn builtin_config() -> Result<crate::config::PlatformConfig> {
        Ok(PlatformDef::load(PlatformFiles::builtin())?.config)
    }

    /// Writes the built-in platform folder to `dir` for a team to edit (`idp init`).
    pub fn init_dir(dir: impl AsRef<Path>) -> Result<usize> {
        PlatformFiles::builtin().write_to(dir.as_ref())
    }

    /// This platform, sending the progress events of its calls to `f` as they happen.
    pub fn with_progress(&self, f: ProgressFn) -> Platform {
        Platform {
            progress: Some(f),
            ..self.clone()
        }
    }

    /// This platform, with its runs stopping at the next safe point once `token` is cancelled.
    pub fn with_cancel(&self, token: CancelToken) -> Platform {
        Platform {
            cancel: Some(token),
            ..self.clone()
        }
    }

    /// This platform, recording its runs as started through `face` (`cli`, `backstage`,
    /// `python`, `node`, or an embedder's own name: 1-32 lower-case letters, digits or `-`), so
    /// that insights can say which faces teams use. The Rust API's runs record `rust`.
    pub fn with_face(&self, face: &str) -> Result<Platform> {
        let ok = (1..=32).contains(&face.len())
            && face
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(Error::invalid(format!(
                "face {} must be 1-32 lower-case letters, digits or '-'",
                crate::naming::shown(face)
            ))
            .with("field", "face"));
        }
        Ok(Platform {
            face: face.into(),
            ..self.clone()
        })
    }

    /// The face its calls come through (see [`Platform::with_face`]).
    pub fn face(&self) -> &str {
        &self.face
    }

    /// The loaded definition.
    pub fn definition(&self) -> &PlatformDef {
        &self.def
    }

    /// Where local state lives.
    pub fn workspace(&self) -> &Path {
        &self.workspace
    }

    /// The source-control provider.
    pub fn source_control(&self) -> &dyn SourceControl {
        self.scm.as_ref()
    }

    /// The state store.
    pub fn state(&self) -> &dyn StateStore {
        self.state.as_ref()
    }

    /// The audit log (hash-chained; see [`AuditLog::verify`]).
    pub fn audit(&self) -> &dyn AuditLog {
        self.audit.as_ref()
    }

    /// The current time, from the platform's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// [`Platform::now`] as idp writes times.
    pub(crate) fn now_text(&self) -> String {
        crate::time::rfc3339(self.clock.now())
    }

    /// The time of a request as policies see it: now, in the organization's time zone.
    pub fn request_time(&self) -> crate::policy::RequestTime {
        crate::policy::RequestTime::at(self.now(), self.def.config.organization.tz())
    }

    /// Asks the policy point whether `req` is allowed (no side effects, nothing recorded).
    /// A write action (anything but `plan` and `explain`) is refused while the workspace is
    /// pinned to another platform folder. Without a time in its context, the request is decided
    /// at [`Platform::request_time`].
    pub fn authorize(&self, req: &crate::policy::AuthzRequest) -> Result<crate::policy::Decided> {
        if !matches!(req.action.as_str(), "plan" | "explain") {
            pin::check_write(self, &req.action)?;
        }
        let timed;
        let req = if req.context.time.is_none() {
            let mut r = req.clone();
            r.context.time = Some(self.request_time());
            timed = r;
            &timed
        } else {
            req
        };
        let env = req
            .context
            .environment
            .as_deref()
            .and_then(|e| self.def.config.environment(e))
            .map(|e| crate::policy::authz::EnvFacts {
                protected: e.protected,
                kind: e.env_type.clone(),
            });
        self.def
            .authz
            .decide(req, &self.def.directory, env.as_ref())
    }

    /// The principal for `user` (`alice` or `user:default/alice`), with its teams from the org
    /// directory.
    pub fn principal(&self, user: &str) -> Principal {
        self.def.directory.principal(user)
    }

    /// `bootstrap_service`: the service repo with app, tests, container, baselines and stamp.
    pub async fn bootstrap_service(
        &self,
        who: &Principal,
        req: &ServiceRequest,
    ) -> Result<Receipt> {
        self.execute(who, Operation::BootstrapService, req).await
    }

    /// `wire_ci`: the CI pipeline in the service repo.
    pub async fn wire_ci(&self, who: &Principal, req: &ServiceRequest) -> Result<Receipt> {
        self.execute(who, Operation::WireCi, req).await
    }

    /// `provision_gitops`: Argo CD applications and manifests per environment.
    pub async fn provision_gitops(&self, who: &Principal, req: &ServiceRequest) -> Result<Receipt> {
        self.execute(who, Operation::ProvisionGitops, req).await
    }

    /// `attach_observability`: dashboard and SLO alerts per environment.
    pub async fn attach_observability(
        &self,
        who: &Principal,
        req: &ServiceRequest,
    ) -> Result<Receipt> {
        self.execute(who, Operation::AttachObservability, req).await
    }

    /// `request_infra_resource`: the request's intents as org-approved modules in the infra repo.
    pub async fn request_infra_resource(
        &self,
        who: &Principal,
        req: &ServiceRequest,
    ) -> Result<Receipt> {
        self.execute(who, Operation::RequestInfraResource, req)
            .await
    }

    /// `run_golden_path`: every step in order.
    pub async fn run_golden_path(&self, who: &Principal, req: &ServiceRequest) -> Result<Receipt> {
        self.execute(who, Operation::RunGoldenPath, req).await
    }

    /// Runs `op`: preflight, plan, apply, receipt. Idempotent; resumes an interrupted identical run.
    pub async fn execute(
        &self,
        who: &Principal,
        op: Operation,
        req: &ServiceRequest,
    ) -> Result<Receipt> {
        engine::execute(self, who, op, req, None).await
    }

    /// The dry run of `op`: the exact change sets with diffs. Writes nothing.
    pub async fn plan(&self, who: &Principal, op: Operation, req: &ServiceRequest) -> Result<Plan> {
        engine::plan(self, who, op, req).await
    }

    /// Resumes run `run_id` (interrupted, failed or cancelled) to the end state an uninterrupted
    /// run would have reached. A completed run returns its receipt.
    pub async fn resume(&self, who: &Principal, run_id: &str) -> Result<Receipt> {
        engine::resume(self, who, run_id).await
    }

    /// Runs, newest first.
    pub async fn runs(
        &self,
        who: &Principal,
        service: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RunSummary>> {
        let scope = reads::scope(self, who).await?;
        reads::check_filter(self, who, "list_runs", &scope, service).await?;
        let mut out = Vec::new();
        // A service whose first run has not recorded it yet is read as its request's owner's.
        let mut unrecorded: std::collections::HashMap<String, bool> = Default::default();
        for r in self.state.list_runs(service, usize::MAX).await? {
            if out.len() >= limit {
                break;
            }
            let visible = if scope.known.contains_key(&r.service) {
                scope.service(&r.service)
            } else {
                let owner = r.request["owner"].as_str().unwrap_or_default();
                match unrecorded.get(&r.service) {
                    Some(v) => *v,
                    None => {
                        let v = reads::may_read(self, who, &r.service, owner)?;
                        unrecorded.insert(r.service.clone(), v);
                        v
                    }
                }
            };
            if !visible {
                continue;
            }
            let mut steps_completed: Vec<_> = self
                .state
                .steps(&r.id)
                .await?
                .into_iter()
                .filter(|s| s.status == crate::receipt::RunStatus::Completed)
                .map(|s| s.step)
                .collect();
            steps_completed.sort();
            out.push(RunSummary {
                run_id: r.id,
                operation: r.operation,
                service: r.service,
                principal: r.principal,
                status: r.status,
                created_at: r.created_at,
                updated_at: r.updated_at,
                steps_completed,
            });
        }
        reads::record(self, who, "list_runs", service, true, out.len()).await?;
        Ok(out)
    }

    /// What idp created for `service`, and how to override each file safely.
    pub async fn explain(&self, who: &Principal, service: &str) -> Result<explain::Explanation> {
        explain::explain(self, who, service).await
    }

    /// Verifies the audit chain, every checkpoint (against `opts.trusted_key`, hex ed25519, or
    /// the log's own key) and the exported checkpoints in `opts.anchors`. Writes nothing.
    pub async fn audit_verify(
        &self,
        opts: &crate::audit::VerifyOptions,
    ) -> Result<crate::audit::VerifyReport> {
        self.audit.verify(opts).await
    }

    /// Appends the newest signed checkpoint to `to` (outside the workspace, refused inside it) and
    /// returns it. Reads the log only.
    pub async fn audit_export(&self, to: &Path) -> Result<crate::audit::Checkpoint> {
        let cp = self.audit_latest_checkpoint().await?.ok_or_else(|| {
            Error::not_found("the audit log has no signed checkpoint yet; nothing to export")
        })?;
        let (ws, to, c) = (self.workspace().to_path_buf(), to.to_path_buf(), cp.clone());
        crate::runtime::unblock(move || crate::audit::export_checkpoint(&ws, &to, &c)).await?;
        Ok(cp)
    }

    /// The newest signed checkpoint: what an auditor exports to a place outside the workspace
    /// (`idp audit export`), to verify against later. Reads only.
    pub async fn audit_latest_checkpoint(&self) -> Result<Option<crate::audit::Checkpoint>> {
        Ok(self
            .audit
            .checkpoints()
            .await?
            .into_iter()
            .max_by_key(|c| c.seq))
    }

    /// Audit records, oldest first: `who`'s own, those of the services `who` may read, and the
    /// rest for platform admins. The read is recorded.
    pub async fn audit_list(
        &self,
        who: &Principal,
        filter: &crate::audit::AuditFilter,
    ) -> Result<Vec<crate::audit::AuditRecord>> {
        let scope = reads::scope(self, who).await?;
        reads::check_filter(self, who, "audit_list", &scope, filter.service.as_deref()).await?;
        let limit = filter.limit.unwrap_or(usize::MAX);
        let all = crate::audit::AuditFilter {
            limit: None,
            ..filter.clone()
        };
        let out: Vec<_> = self
            .audit
            .list(&all)
            .await?
            .into_iter()
            .filter(|r| {
                // One's own actions, the records of services one may read, and (for platform
                // admins) everything else.
                r.event.principal == who.user
                    || match r.event.resource.strip_prefix("service:") {
                        Some(s) => {
                            scope.service(s) || (scope.platform && !scope.known.contains_key(s))
                        }
                        None => scope.platform,
                    }
            })
            .take(limit)
            .collect();
        reads::record(
            self,
            who,
            "audit_list",
            filter.service.as_deref(),
            true,
            out.len(),
        )
        .await?;
        Ok(out)
    }

    /// Signs a checkpoint of the audit chain's head now. Every append signs the new head
    /// already; this is for logs written before that. Platform admins only; recorded.
    pub async fn audit_checkpoint(
        &self,
        who: &Principal,
    ) -> Result<Option<crate::audit::Checkpoint>> {
        pin::guard(
            self,
            who,
            "audit_checkpoint",
            &format!("platform:{}", self.def.files.origin),
        )
        .await?;
        pin::require_admin(self, who, "audit_checkpoint", "sign audit checkpoints").await?;
        let cp = self.audit.checkpoint().await?;
        pin::record_platform_action(
            self,
            who,
            "audit_checkpoint",
            true,
            serde_json::json!({"seq": cp.as_ref().map(|c| c.seq)}),
        )
        .await?;
        // Recording it appended (and signed) a new head: return that one.
        Ok(self.audit_latest_checkpoint().await?.or(cp))
    }

    pub(crate) fn emit(
        &self,
        run_id: &str,
        step: Option<crate::golden_path::StepId>,
        message: String,
    ) {
        if let Some(p) = &self.progress {
            p(&Progress {
                run_id: run_id.to_string(),
                step,
                message,
            });
        }
    }

    /// True once the caller cancelled this call.
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(CancelToken::is_cancelled)
    }

    /// HMAC-SHA-256 under the workspace's private key: how idempotency keys cover secret values
    /// without revealing them (a plain salted hash of a short secret is guessed offline).
    pub(crate) fn mac(&self, msg: &[u8]) -> String {
        crate::digest::hmac_sha256_hex(&self.mac_key[..], msg)
    }
}

/// The workspace's idempotency MAC key, readable by its owner only. The salt file earlier
/// versions kept beside the state (readable by everyone) is removed.
fn workspace_mac_key(ws: &Path) -> Result<[u8; 32]> {
    std::fs::create_dir_all(ws)?;
    let _ = std::fs::remove_file(ws.join("salt"));
    crate::digest::load_or_create_key(&ws.join("idempotency.key"))
}

/// The repo name a role maps to for `service` (used by explain).
pub(crate) fn prepare_repo_name(
    p: &Platform,
    role: crate::golden_path::RepoRole,
    service: &str,
) -> String {
    prepare::repo_name_for(p, role, service)
}

impl Platform {
    /// Adds `key=value` strings (from a command line or a form) to `req.parameters`, or, with an
    /// environment, to `req.environments[env].parameters`, typed by the parameter schema of the
    /// golden path the request resolves to. Each pair is `(environment, key, value)`; for an
    /// environment, the value `null` removes the value it kept from an earlier request.
    pub async fn add_string_parameters(
        &self,
        req: &mut ServiceRequest,
        pairs: &[(Option<String>, String, String)],
    ) -> Result<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        let existing = if crate::naming::is_dns1123_label(&req.service) {
            self.service_record(&req.service).await?
        } else {
            None
        };
        let gp = self.def.golden_path(
            req.golden_path
                .as_deref()
                .or(existing.as_ref().map(|e| e.golden_path.as_str())),
            req.version
                .as_deref()
                .or(existing.as_ref().map(|e| e.version.as_str())),
        )?;
        for (env, k, v) in pairs {
            match env {
                None => {
                    req.parameters.insert(k.clone(), gp.schema.coerce(k, v));
                }
                Some(env) => {
                    let value = if v == "null" {
                        serde_json::Value::Null
                    } else {
                        gp.schema.coerce(k, v)
                    };
                    let values = &mut req.environments.entry(env.clone()).or_default().parameters;
                    values.insert(k.clone(), value);
                }
            }
        }
        Ok(())
    }
}

impl Platform {
    /// Runs the policy unit tests in `dir` (see [`crate::platform::policy_tests`]) against this
    /// platform's policies. Nothing is written.
    pub fn test_policies(&self, dir: impl AsRef<Path>) -> Result<policy_tests::TestReport> {
        policy_tests::run(&self.def, dir.as_ref())
    }
}
