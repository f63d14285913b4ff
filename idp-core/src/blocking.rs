//! The platform for synchronous callers (the CLI, scripts, tests): the same operations as
//! [`crate::Platform`], each blocking until done on a tokio runtime this facade owns. Nothing
//! else in idp starts a runtime, and this one is explicit: an async host uses
//! [`crate::Platform`] directly, on its own runtime. Calling a blocking method from inside an
//! async runtime is refused with an error instead of deadlocking or panicking.
//!
//! ```no_run
//! use idp_core::ServiceRequest;
//! let platform = idp_core::blocking::Platform::builtin(".idp")?;
//! let alice = platform.principal("user:default/alice");
//! let receipt = platform.run_golden_path(&alice, &ServiceRequest::new("payments-api", "team-payments"))?;
//! # Ok::<(), idp_core::Error>(())
//! ```

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use crate::audit::{AuditFilter, AuditRecord, Checkpoint, VerifyReport};
use crate::error::{Error, Result};
use crate::org::Principal;
use crate::platform::{
    FleetRow, FleetUpgradeReport, FleetUpgradeRequest, ImpactReport, Plan, PlatformBuilder,
    PlatformFiles, ProgressFn, RunSummary, UpgradeRequest, UpgradeResult,
};
use crate::policy::{Waiver, WaiverRequest, WaiverState};
use crate::receipt::Receipt;
use crate::request::{Operation, ServiceRequest};
use crate::runtime::CancelToken;

/// [`crate::Platform`] with blocking methods. Cheap to clone; clones share the runtime.
#[derive(Clone)]
pub struct Platform {
    inner: crate::Platform,
    rt: Arc<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

/// A runtime with a worker per core (a fleet upgrade works on every core) and tokio's blocking
/// pool for git and SQLite.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("idp")
        .build()
        .map_err(|e| Error::internal(format!("cannot start a runtime: {e}")))
}

macro_rules! blocking {
    ($( $(#[doc = $doc:literal])* fn $name:ident(&self $(, $a:ident: $t:ty)*) -> $r:ty; )*) => {$(
        $(#[doc = $doc])*
        pub fn $name(&self $(, $a: $t)*) -> Result<$r> {
            self.block_on(self.inner.$name($($a),*))?
        }
    )*};
}

impl Platform {
    /// Builds the platform `builder` describes, on a new runtime.
    pub fn build(builder: PlatformBuilder) -> Result<Platform> {
        refuse_inside_a_runtime()?;
        let rt = runtime()?;
        let inner = rt.block_on(builder.build())?;
        Ok(Platform {
            inner,
            rt: Arc::new(rt),
        })
    }

    /// The built-in default platform, with repos and state under `workspace`.
    pub fn builtin(workspace: impl AsRef<Path>) -> Result<Platform> {
        Platform::build(crate::Platform::builder().workspace(workspace))
    }

    /// The platform defined in folder `dir`, with repos and state under `workspace`.
    pub fn from_dir(dir: impl AsRef<Path>, workspace: impl AsRef<Path>) -> Result<Platform> {
        Platform::build(
            crate::Platform::builder()
                .platform_dir(dir)
                .workspace(workspace),
        )
    }

    /// A platform from already-read files.
    pub fn from_files(files: PlatformFiles, workspace: impl AsRef<Path>) -> Result<Platform> {
        Platform::build(
            crate::Platform::builder()
                .definition(files)
                .workspace(workspace),
        )
    }

    /// Writes the built-in platform folder to `dir` for a team to edit (`idp init`).
    pub fn init_dir(dir: impl AsRef<Path>) -> Result<usize> {
        crate::Platform::init_dir(dir)
    }

    /// The async platform underneath (its non-async methods are reachable through `Deref`).
    pub fn inner(&self) -> &crate::Platform {
        &self.inner
    }

    /// Runs any future (a provider call, say) to completion on this facade's runtime.
    pub fn block_on<F: Future>(&self, f: F) -> Result<F::Output> {
        refuse_inside_a_runtime()?;
        Ok(self.rt.block_on(f))
    }

    /// This platform, sending progress events of its calls to `f` as they happen.
    pub fn with_progress(&self, f: ProgressFn) -> Platform {
        Platform {
            inner: self.inner.with_progress(f),
            rt: self.rt.clone(),
        }
    }

    /// This platform, with its runs stopping at the next safe point once `token` is cancelled.
    pub fn with_cancel(&self, token: CancelToken) -> Platform {
        Platform {
            inner: self.inner.with_cancel(token),
            rt: self.rt.clone(),
        }
    }

    /// This platform, recording its runs as started through `face` (see
    /// [`crate::Platform::with_face`]).
    pub fn with_face(&self, face: &str) -> Result<Platform> {
        Ok(Platform {
            inner: self.inner.with_face(face)?,
            rt: self.rt.clone(),
        })
    }

    /// Calls `method` of the JSON call surface ([`crate::api`]) with `args` as `who`.
    pub fn call(
        &self,
        who: &Principal,
        method: &str,
        args: serde_json::Value,
    ) -> Result<serde_json::Value> {
        self.block_on(crate::api::call(&self.inner, who, method, args))?
    }

    blocking! {
        /// `bootstrap_service`: the service repo with app, tests, container, baselines and stamp.
        fn bootstrap_service(&self, who: &Principal, req: &ServiceRequest) -> Receipt;
        /// `wire_ci`: the CI pipeline in the service repo.
        fn wire_ci(&self, who: &Principal, req: &ServiceRequest) -> Receipt;
        /// `provision_gitops`: Argo CD applications and manifests per environment.
        fn provision_gitops(&self, who: &Principal, req: &ServiceRequest) -> Receipt;
        /// `attach_observability`: dashboard and SLO alerts per environment.
        fn attach_observability(&self, who: &Principal, req: &ServiceRequest) -> Receipt;
        /// `request_infra_resource`: intents as org-approved modules in the infra repo.
        fn request_infra_resource(&self, who: &Principal, req: &ServiceRequest) -> Receipt;
        /// `run_golden_path`: every step in order.
        fn run_golden_path(&self, who: &Principal, req: &ServiceRequest) -> Receipt;
        /// Runs `op`: preflight, plan, apply, receipt.
        fn execute(&self, who: &Principal, op: Operation, req: &ServiceRequest) -> Receipt;
        /// The dry run of `op`. Writes nothing.
        fn plan(&self, who: &Principal, op: Operation, req: &ServiceRequest) -> Plan;
        /// Resumes run `run_id`.
        fn resume(&self, who: &Principal, run_id: &str) -> Receipt;
        /// Verifies a forge's webhook delivery; resumes the runs waiting on its pull request.
        fn forge_webhook(
            &self,
            who: &Principal,
            delivery: &crate::platform::webhooks::WebhookDelivery
        ) -> crate::platform::webhooks::WebhookReport;
        /// Runs, newest first.
        fn runs(&self, who: &Principal, service: Option<&str>, limit: usize) -> Vec<RunSummary>;
        /// What idp created for `service`, and how to override each file safely.
        fn explain(&self, who: &Principal, service: &str) -> crate::Explanation;
        /// Verifies the audit chain, its checkpoints and exported ones. Writes nothing.
        fn audit_verify(&self, opts: &crate::audit::VerifyOptions) -> VerifyReport;
        /// The newest signed checkpoint (to export outside the workspace).
        fn audit_latest_checkpoint(&self) -> Option<Checkpoint>;
        /// Appends the newest signed checkpoint to a file outside the workspace.
        fn audit_export(&self, to: &std::path::Path) -> Checkpoint;
        /// Audit records, oldest first.
        fn audit_list(&self, who: &Principal, filter: &AuditFilter) -> Vec<AuditRecord>;
        /// Signs a checkpoint of the audit chain's head (platform admins only).
        fn audit_checkpoint(&self, who: &Principal) -> Option<Checkpoint>;
        /// Asks for a waiver.
        fn request_waiver(&self, who: &Principal, req: &WaiverRequest) -> Waiver;
        /// Approves a waiver.
        fn approve_waiver(&self, who: &Principal, id: &str) -> Waiver;
        /// Waivers with their state.
        fn list_waivers(&self, who: &Principal, service: Option<&str>) -> Vec<(Waiver, WaiverState)>;
        /// Upgrades a service (or plans it).
        fn upgrade(&self, who: &Principal, req: &UpgradeRequest, plan: bool) -> UpgradeResult;
        /// Upgrades the fleet (or plans it).
        fn upgrade_fleet(&self, who: &Principal, req: &FleetUpgradeRequest, plan: bool) -> FleetUpgradeReport;
        /// Every service with its version and drift.
        fn fleet(&self, who: &Principal) -> Vec<FleetRow>;
        /// Records the delivery events of a webhook payload.
        fn ingest_events(&self, who: &Principal, req: &crate::platform::insights::IngestRequest) -> crate::platform::insights::IngestReport;
        /// The four keys, adoption, drift and latches over a period.
        fn insights(&self, who: &Principal, q: &crate::platform::insights::InsightsQuery) -> crate::insights::InsightsReport;
        /// The insights report as one self-contained HTML page.
        fn insights_html(&self, who: &Principal, q: &crate::platform::insights::InsightsQuery) -> String;
        /// What a catalog change would do to every service's infrastructure.
        fn infra_impact(&self, who: &Principal) -> ImpactReport;
        /// Pins the workspace to this platform folder (platform admins only).
        fn pin(&self, who: &Principal, by: crate::platform::pin::PinBy) -> crate::platform::pin::PlatformPin;
        /// Removes the workspace's pin (platform admins, with the pinned platform only).
        fn unpin(&self, who: &Principal) -> ();
    }

    /// Adds `key=value` strings to `req.parameters` (or, with an environment, to that
    /// environment's), typed by the golden path's schema. Each pair is `(environment, key, value)`.
    pub fn add_string_parameters(
        &self,
        req: &mut ServiceRequest,
        pairs: &[(Option<String>, String, String)],
    ) -> Result<()> {
        self.block_on(self.inner.add_string_parameters(req, pairs))?
    }
}

impl std::ops::Deref for Platform {
    type Target = crate::Platform;
    fn deref(&self) -> &crate::Platform {
        &self.inner
    }
}

fn refuse_inside_a_runtime() -> Result<()> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::internal(
            "idp_core::blocking::Platform was called from inside an async runtime, where blocking \
             would stall it; call the async idp_core::Platform instead",
        ));
    }
    Ok(())
}
