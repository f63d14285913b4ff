//! [`Platform`]: the one entry point. A face builds a [`Principal`] and a request, calls one
//! method, and gets a [`Receipt`], a [`Plan`] or a typed [`Error`].
//!
//! ```text
//! request ─► validate (preflight) ─► plan (steps → change sets) ─► apply (providers) ─► Receipt
//! ```

mod definition;
mod engine;
pub mod explain;
mod infra;
mod policy_point;
pub mod policy_tests;
mod prepare;
mod service;
mod source;
mod upgrade;
mod waivers;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use definition::PlatformDef;
pub use engine::Plan;
pub use infra::{ImpactReport, ModuleSummary, ResolutionChange, ServiceImpact};
pub use policy_point::DecisionRecord;
pub use source::PlatformFiles;
pub use upgrade::{
    FleetRow, FleetUpgradeReport, FleetUpgradeRequest, FleetUpgradeRow, UpgradeRequest,
    UpgradeResult, UpgradeStatus,
};

use crate::audit::{AuditEvent, AuditLog, SqliteAuditLog};
use crate::error::{Error, Result};
use crate::org::Principal;
use crate::providers::SourceControl;
use crate::receipt::Receipt;
use crate::request::{Operation, ServiceRequest};
use crate::state::{SqliteStateStore, StateStore};

/// A progress event, for faces that show what is happening (the CLI prints them on stderr).
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub run_id: String,
    pub step: Option<crate::golden_path::StepId>,
    pub message: String,
}

/// Receives progress events.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// A run as listed by `runs`.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// The platform: a definition (config, org, golden paths) bound to a workspace (repos, state).
///
/// ```no_run
/// use idp_core::{Platform, ServiceRequest};
/// let platform = Platform::builtin(".idp")?;
/// let alice = platform.principal("user:default/alice");
/// let receipt = platform.run_golden_path(&alice, &ServiceRequest::new("payments-api", "team-payments"))?;
/// println!("{}", receipt.to_json());
/// # Ok::<(), idp_core::Error>(())
/// ```
pub struct Platform {
    def: Arc<PlatformDef>,
    workspace: PathBuf,
    scm: Arc<dyn SourceControl>,
    state: Arc<dyn StateStore>,
    audit: Arc<SqliteAuditLog>,
    progress: Option<ProgressFn>,
    salt: String,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("platform", &self.def.files.origin)
            .field("workspace", &self.workspace)
            .finish_non_exhaustive()
    }
}

/// The current time as RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Platform {
    /// The built-in default platform, with repos and state under `workspace`.
    pub fn builtin(workspace: impl AsRef<Path>) -> Result<Platform> {
        Self::from_files(PlatformFiles::builtin(), workspace)
    }

    /// The platform defined in folder `dir`, with repos and state under `workspace`.
    pub fn from_dir(dir: impl AsRef<Path>, workspace: impl AsRef<Path>) -> Result<Platform> {
        Self::from_files(PlatformFiles::from_dir(dir.as_ref())?, workspace)
    }

    /// A platform from already-read files.
    pub fn from_files(files: PlatformFiles, workspace: impl AsRef<Path>) -> Result<Platform> {
        let def = Arc::new(PlatformDef::load(files)?);
        let workspace = workspace.as_ref().to_path_buf();
        std::fs::create_dir_all(&workspace).map_err(|e| {
            Error::invalid(format!(
                "cannot create workspace {}: {e}",
                workspace.display()
            ))
            .with("field", "workspace")
        })?;
        let scm =
            crate::providers::source_control(&def.config.providers.source_control, &workspace)?;
        let state: Arc<dyn StateStore> = match def.config.providers.state.kind.as_str() {
            "sqlite" => Arc::new(SqliteStateStore::open(&workspace.join("state.db"))?),
            other => {
                return Err(Error::invalid(format!(
                    "idp.yaml: unknown providers.state.kind {}; known: sqlite",
                    crate::naming::shown(other)
                ))
                .with("file", "idp.yaml")
                .with("field", "providers.state.kind"));
            }
        };
        let salt = workspace_salt(&workspace)?;
        let audit = Arc::new(SqliteAuditLog::open(
            &workspace.join("audit.db"),
            &workspace.join("audit-signing.key"),
        )?);
        let p = Platform {
            def,
            workspace,
            scm,
            state,
            audit,
            progress: None,
            salt,
        };
        p.record_policy_load()?;
        Ok(p)
    }

    /// Appends a `policy_load` record when the policies differ from the last ones recorded, so
    /// the log says which policies were in force for every later decision.
    fn record_policy_load(&self) -> Result<()> {
        let last = self.audit.last_of("policy_load")?;
        if last
            .as_ref()
            .and_then(|e| e.details.get("digest"))
            .and_then(|d| d.as_str())
            == Some(&self.def.policy_digest)
        {
            return Ok(());
        }
        self.audit.append(AuditEvent {
            time: now_rfc3339(),
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
            ..Default::default()
        })?;
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

    /// Sends progress events to `f`.
    pub fn with_progress(mut self, f: ProgressFn) -> Platform {
        self.progress = Some(f);
        self
    }

    /// The loaded definition.
    pub fn definition(&self) -> &PlatformDef {
        &self.def
    }

    /// Where repos and state live.
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
    pub fn audit(&self) -> &SqliteAuditLog {
        &self.audit
    }

    /// Asks the policy point whether `req` is allowed (no side effects, nothing recorded).
    pub fn authorize(&self, req: &crate::policy::AuthzRequest) -> Result<crate::policy::Decided> {
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
    pub fn bootstrap_service(&self, who: &Principal, req: &ServiceRequest) -> Result<Receipt> {
        self.execute(who, Operation::BootstrapService, req)
    }

    /// `wire_ci`: the CI pipeline in the service repo.
    pub fn wire_ci(&self, who: &Principal, req: &ServiceRequest) -> Result<Receipt> {
        self.execute(who, Operation::WireCi, req)
    }

    /// `provision_gitops`: Argo CD applications and manifests per environment.
    pub fn provision_gitops(&self, who: &Principal, req: &ServiceRequest) -> Result<Receipt> {
        self.execute(who, Operation::ProvisionGitops, req)
    }

    /// `attach_observability`: dashboard and SLO alerts per environment.
    pub fn attach_observability(&self, who: &Principal, req: &ServiceRequest) -> Result<Receipt> {
        self.execute(who, Operation::AttachObservability, req)
    }

    /// `request_infra_resource`: the request's intents as org-approved modules in the infra repo.
    pub fn request_infra_resource(&self, who: &Principal, req: &ServiceRequest) -> Result<Receipt> {
        self.execute(who, Operation::RequestInfraResource, req)
    }

    /// `run_golden_path`: every step in order.
    pub fn run_golden_path(&self, who: &Principal, req: &ServiceRequest) -> Result<Receipt> {
        self.execute(who, Operation::RunGoldenPath, req)
    }

    /// Runs `op`: preflight, plan, apply, receipt. Idempotent; resumes an interrupted identical run.
    pub fn execute(&self, who: &Principal, op: Operation, req: &ServiceRequest) -> Result<Receipt> {
        engine::execute(self, who, op, req, None)
    }

    /// The dry run of `op`: the exact change sets with diffs. Writes nothing.
    pub fn plan(&self, who: &Principal, op: Operation, req: &ServiceRequest) -> Result<Plan> {
        engine::plan(self, who, op, req)
    }

    /// Resumes run `run_id` to the end state an uninterrupted run would have reached. A completed
    /// run returns its receipt.
    pub fn resume(&self, who: &Principal, run_id: &str) -> Result<Receipt> {
        engine::resume(self, who, run_id)
    }

    /// Runs, newest first.
    pub fn runs(&self, service: Option<&str>, limit: usize) -> Result<Vec<RunSummary>> {
        let mut out = Vec::new();
        for r in self.state.list_runs(service, limit)? {
            let mut steps_completed: Vec<_> = self
                .state
                .steps(&r.id)?
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
        Ok(out)
    }

    /// What idp created for `service`, and how to override each file safely.
    pub fn explain(
        &self,
        who: &Principal,
        service: &str,
    ) -> Result<crate::platform::explain::Explanation> {
        crate::platform::explain::explain(self, who, service)
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

    pub(crate) fn salt(&self) -> &str {
        &self.salt
    }
}

/// A random per-workspace salt: idempotency keys hash secret values with it, so a key never
/// reveals a guessable secret.
fn workspace_salt(ws: &Path) -> Result<String> {
    let p = ws.join("salt");
    match std::fs::read_to_string(&p) {
        Ok(s) if s.trim().len() == 64 => Ok(s.trim().to_string()),
        _ => {
            let s = crate::digest::random_hex(32);
            let tmp = ws.join(format!("salt.{}", crate::digest::random_hex(4)));
            std::fs::write(&tmp, &s)?;
            // Two processes racing here: the first rename wins for both (they re-read).
            if !p.exists() {
                std::fs::rename(&tmp, &p)?;
            } else {
                let _ = std::fs::remove_file(&tmp);
            }
            Ok(std::fs::read_to_string(&p)?.trim().to_string())
        }
    }
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
    /// Adds `key=value` strings (from a command line or a form) to `req.parameters`, typed by the
    /// parameter schema of the golden path the request resolves to.
    pub fn add_string_parameters(
        &self,
        req: &mut ServiceRequest,
        pairs: &[(String, String)],
    ) -> Result<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        let existing = if crate::naming::is_dns1123_label(&req.service) {
            self.service_record(&req.service)?
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
        for (k, v) in pairs {
            req.parameters.insert(k.clone(), gp.schema.coerce(k, v));
        }
        Ok(())
    }
}

impl Platform {
    /// Runs the policy unit tests in `dir` (see [`crate::platform::policy_tests`]) against this
    /// platform's policies. Nothing is written.
    pub fn test_policies(
        &self,
        dir: impl AsRef<Path>,
    ) -> Result<crate::platform::policy_tests::TestReport> {
        crate::platform::policy_tests::run(&self.def, dir.as_ref())
    }
}
