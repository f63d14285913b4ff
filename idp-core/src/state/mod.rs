//! Durable state: runs and their steps (so an interrupted run resumes), the service registry,
//! change request records, and rendered content by hash (the merge base for upgrades).
//!
//! [`StateStore`] is the trait; [`SqliteStateStore`] the embedded default.

mod memory;
mod sqlite;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use memory::MemoryStateStore;
pub use sqlite::SqliteStateStore;
pub(crate) use sqlite::open_wal;

use crate::error::Result;
use crate::golden_path::StepId;
use crate::receipt::{ChangeRequestState, RunStatus};

/// A run: one call of an operation, resumable until it completes.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunRecord {
    pub id: String,
    /// Equal for identical requests: finds the run to resume, and serializes identical requests.
    pub key: String,
    pub operation: String,
    pub service: String,
    pub principal: String,
    /// The request with secret values redacted.
    pub request: serde_json::Value,
    /// True when the request had secret values (which are never stored): resuming then needs
    /// the original request again.
    pub has_secrets: bool,
    pub status: RunStatus,
    pub created_at: String,
    pub updated_at: String,
    pub receipt: Option<serde_json::Value>,
    pub error: Option<serde_json::Value>,
    /// The face that started it (`cli`, `backstage`, `python`, `node`, `rust` from the Rust API,
    /// or an embedder's own name; empty in runs recorded before faces were), for adoption
    /// insights.
    #[serde(default)]
    pub face: String,
}

/// The persisted state of one step of a run.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StepRecord {
    pub step: StepId,
    pub status: RunStatus,
    /// The step receipt once completed.
    pub result: Option<serde_json::Value>,
}

/// A service idp created, with the golden path and parameters it was last applied with.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServiceRecord {
    pub name: String,
    pub owner: String,
    pub golden_path: String,
    pub version: String,
    /// Effective parameters, secrets redacted.
    pub parameters: serde_json::Value,
    /// Values of single environments over `parameters` (`{"prod": {"memory_limit": "1Gi"}}`).
    #[serde(default)]
    pub environments: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
}

/// A change request idp opened.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangeRequestRecord {
    /// Provider key: unique per (run, step), so a resumed run finds its own change request.
    pub key: String,
    pub id: Option<String>,
    pub repo: String,
    pub service: String,
    pub step: StepId,
    pub run_id: String,
    /// Digest of the desired state it brings (see `ChangeSet::digest`).
    pub digest: String,
    pub branch: String,
    pub commit: Option<String>,
    pub url: Option<String>,
    pub state: ChangeRequestState,
    pub created_at: String,
}

/// Holds a service's lock until dropped (see [`StateStore::lock_service`]).
pub struct ServiceLock(#[allow(dead_code)] Box<dyn Send + Sync>);

impl ServiceLock {
    /// A lock released when `guard` is dropped.
    pub fn new(guard: impl Send + Sync + 'static) -> ServiceLock {
        ServiceLock(Box::new(guard))
    }
}

/// Where runs, services, change requests, waivers, locks and content live. Implementations must
/// be safe to use from several processes (or replicas) at once: different requests run
/// concurrently, and [`StateStore::lock_service`] serializes the writes to one service.
/// `idp_core::testing` (feature `testing`) has the contract every implementation must pass.
#[async_trait::async_trait]
pub trait StateStore: Send + Sync {
    /// The `kind:` string that selects this store.
    fn kind(&self) -> &'static str;

    async fn create_run(&self, run: &RunRecord) -> Result<()>;
    async fn get_run(&self, id: &str) -> Result<Option<RunRecord>>;
    /// The newest run with `key` that is running, failed, was cancelled or waits for a review
    /// (so the same request again resumes it, and finds what it committed before by its key).
    async fn find_unfinished_run(&self, key: &str) -> Result<Option<RunRecord>>;
    /// Newest first.
    async fn list_runs(&self, service: Option<&str>, limit: usize) -> Result<Vec<RunRecord>>;
    async fn finish_run(
        &self,
        id: &str,
        status: RunStatus,
        receipt: Option<&serde_json::Value>,
        error: Option<&serde_json::Value>,
    ) -> Result<()>;

    async fn save_step(&self, run_id: &str, step: &StepRecord) -> Result<()>;
    async fn steps(&self, run_id: &str) -> Result<Vec<StepRecord>>;

    async fn get_service(&self, name: &str) -> Result<Option<ServiceRecord>>;
    async fn put_service(&self, rec: &ServiceRecord) -> Result<()>;
    async fn list_services(&self) -> Result<Vec<ServiceRecord>>;

    async fn put_change_request(&self, cr: &ChangeRequestRecord) -> Result<()>;
    async fn change_request_by_key(&self, key: &str) -> Result<Option<ChangeRequestRecord>>;
    /// The newest non-pending change request of `service`/`step` in `repo` that brought `digest`.
    async fn change_request_for(
        &self,
        service: &str,
        step: StepId,
        repo: &str,
        digest: &str,
    ) -> Result<Option<ChangeRequestRecord>>;
    async fn list_change_requests(&self, service: Option<&str>)
    -> Result<Vec<ChangeRequestRecord>>;

    /// The infrastructure a service asked for: its intents and their resolutions (for explain,
    /// impact previews, and the files to remove when a resolution moves).
    async fn put_infra(
        &self,
        service: &str,
        intents: &serde_json::Value,
        resolutions: &serde_json::Value,
    ) -> Result<()>;
    async fn get_infra(
        &self,
        service: &str,
    ) -> Result<Option<(serde_json::Value, serde_json::Value)>>;
    /// Services that have infrastructure intents.
    async fn infra_services(&self) -> Result<Vec<String>>;

    async fn put_waiver(&self, w: &crate::policy::Waiver) -> Result<()>;
    async fn get_waiver(&self, id: &str) -> Result<Option<crate::policy::Waiver>>;
    /// Waivers, oldest first; of one service when given.
    async fn list_waivers(&self, service: Option<&str>) -> Result<Vec<crate::policy::Waiver>>;

    /// Records delivery events; an event whose id is stored already is kept as it was. Returns
    /// how many were new.
    async fn put_events(&self, events: &[crate::insights::DeliveryEvent]) -> Result<usize>;
    /// Delivery events before `until` (RFC 3339 as idp writes it; all when `None`), by time.
    async fn list_events(&self, until: Option<&str>)
    -> Result<Vec<crate::insights::DeliveryEvent>>;

    /// Stores contents by SHA-256 (idempotent).
    async fn put_blobs(&self, blobs: &[(String, Arc<Vec<u8>>)]) -> Result<()>;
    async fn get_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>>;

    /// Takes the service's lock, waiting while another run (in this process or another) holds it.
    async fn lock_service(&self, service: &str) -> Result<ServiceLock>;
    /// Takes the service's lock if it is free now.
    async fn try_lock_service(&self, service: &str) -> Result<Option<ServiceLock>>;
}

/// Opens the state store `cfg` selects, with local files under `workspace`.
pub async fn open(
    cfg: &crate::config::StateConfig,
    workspace: &std::path::Path,
) -> Result<Arc<dyn StateStore>> {
    match cfg {
        crate::config::StateConfig::Sqlite {} => {
            let path = workspace.join("state.db");
            Ok(Arc::new(
                crate::runtime::unblock(move || SqliteStateStore::open(&path)).await?,
            ))
        }
    }
}
