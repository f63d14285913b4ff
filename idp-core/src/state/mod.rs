//! Durable state: runs and their steps (so an interrupted run resumes), the service registry,
//! change request records, and rendered content by hash (the merge base for upgrades).
//!
//! [`StateStore`] is the trait; [`SqliteStateStore`] the embedded default.

mod sqlite;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use sqlite::SqliteStateStore;
pub(crate) use sqlite::open_wal;

use crate::error::Result;
use crate::golden_path::StepId;
use crate::receipt::{ChangeRequestState, RunStatus};

/// A run: one call of an operation, resumable until it completes.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
}

/// The persisted state of one step of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRecord {
    pub step: StepId,
    pub status: RunStatus,
    /// The step receipt once completed.
    pub result: Option<serde_json::Value>,
}

/// A service idp created, with the golden path and parameters it was last applied with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceRecord {
    pub name: String,
    pub owner: String,
    pub golden_path: String,
    pub version: String,
    /// Effective parameters, secrets redacted.
    pub parameters: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
}

/// A change request idp opened.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// Where runs, services, change requests and content live. Implementations must be safe to use
/// from several processes at once (the engine serializes identical requests with file locks, but
/// different requests run concurrently).
pub trait StateStore: Send + Sync {
    fn create_run(&self, run: &RunRecord) -> Result<()>;
    fn get_run(&self, id: &str) -> Result<Option<RunRecord>>;
    /// The newest run with `key` that has not completed.
    fn find_unfinished_run(&self, key: &str) -> Result<Option<RunRecord>>;
    /// Newest first.
    fn list_runs(&self, service: Option<&str>, limit: usize) -> Result<Vec<RunRecord>>;
    fn finish_run(
        &self,
        id: &str,
        status: RunStatus,
        receipt: Option<&serde_json::Value>,
        error: Option<&serde_json::Value>,
    ) -> Result<()>;

    fn save_step(&self, run_id: &str, step: &StepRecord) -> Result<()>;
    fn steps(&self, run_id: &str) -> Result<Vec<StepRecord>>;

    fn get_service(&self, name: &str) -> Result<Option<ServiceRecord>>;
    fn put_service(&self, rec: &ServiceRecord) -> Result<()>;
    fn list_services(&self) -> Result<Vec<ServiceRecord>>;

    fn put_change_request(&self, cr: &ChangeRequestRecord) -> Result<()>;
    fn change_request_by_key(&self, key: &str) -> Result<Option<ChangeRequestRecord>>;
    /// The newest non-pending change request of `service`/`step` in `repo` that brought `digest`.
    fn change_request_for(
        &self,
        service: &str,
        step: StepId,
        repo: &str,
        digest: &str,
    ) -> Result<Option<ChangeRequestRecord>>;
    fn list_change_requests(&self, service: Option<&str>) -> Result<Vec<ChangeRequestRecord>>;

    /// The infrastructure a service asked for: its intents and their resolutions (for explain,
    /// impact previews, and the files to remove when a resolution moves).
    fn put_infra(
        &self,
        service: &str,
        intents: &serde_json::Value,
        resolutions: &serde_json::Value,
    ) -> Result<()>;
    fn get_infra(&self, service: &str) -> Result<Option<(serde_json::Value, serde_json::Value)>>;
    /// Services that have infrastructure intents.
    fn infra_services(&self) -> Result<Vec<String>>;

    fn put_waiver(&self, w: &crate::policy::Waiver) -> Result<()>;
    fn get_waiver(&self, id: &str) -> Result<Option<crate::policy::Waiver>>;
    /// Waivers, oldest first; of one service when given.
    fn list_waivers(&self, service: Option<&str>) -> Result<Vec<crate::policy::Waiver>>;

    /// Stores contents by SHA-256 (idempotent).
    fn put_blobs(&self, blobs: &[(String, Arc<Vec<u8>>)]) -> Result<()>;
    fn get_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>>;
}
