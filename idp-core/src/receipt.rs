//! Receipts: what an operation did, as data. The same JSON from every face; running an operation
//! again with the same input returns the same receipt, less run id and timestamps.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::golden_path::{Ownership, StepId};
use crate::request::Operation;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Completed,
    Failed,
    /// Stopped at a safe point by its caller; `resume` (or the same request again) finishes it.
    Cancelled,
    /// Left unfinished while a newer run of the service completed: never resumed, because it
    /// would write older values over newer ones.
    Superseded,
    /// A change request is open for review (`auto_merge: false`, or the forge refused to merge
    /// it: required reviews or checks). Once it is merged, `resume` (or the same request again)
    /// goes on with the remaining steps.
    Waiting,
    /// A reviewer closed a change request without merging it: the run ends there.
    Rejected,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Superseded => "superseded",
            RunStatus::Waiting => "waiting",
            RunStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> RunStatus {
        match s {
            "completed" => RunStatus::Completed,
            "failed" => RunStatus::Failed,
            "cancelled" => RunStatus::Cancelled,
            "superseded" => RunStatus::Superseded,
            "waiting" => RunStatus::Waiting,
            "rejected" => RunStatus::Rejected,
            _ => RunStatus::Running,
        }
    }
}

/// State of a change request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeRequestState {
    /// Recorded before the commit, so a crash between the two is recoverable.
    Pending,
    /// Open for review.
    Open,
    /// Merged into the default branch.
    Merged,
    /// Closed without merging: rejected in review.
    Closed,
}

impl ChangeRequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeRequestState::Pending => "pending",
            ChangeRequestState::Open => "open",
            ChangeRequestState::Merged => "merged",
            ChangeRequestState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> ChangeRequestState {
        match s {
            "open" => ChangeRequestState::Open,
            "merged" => ChangeRequestState::Merged,
            "closed" => ChangeRequestState::Closed,
            _ => ChangeRequestState::Pending,
        }
    }
}

/// The change request (branch + commit + record) a step produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangeRequestRef {
    /// `payments-api#1`
    pub id: String,
    pub repo: String,
    pub branch: String,
    pub commit: String,
    pub url: String,
    pub state: ChangeRequestState,
}

/// One file a step produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Artifact {
    pub repo: String,
    pub path: String,
    pub sha256: String,
    pub ownership: Ownership,
    /// `python-fastapi-service@1.0.0:service/Dockerfile.tera`
    pub provenance: String,
}

/// The outcome of one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StepReceipt {
    pub step: StepId,
    pub repo: String,
    /// The change request that brought the repo to this state; `None` when it already was.
    pub change_request: Option<ChangeRequestRef>,
    pub artifacts: Vec<Artifact>,
    /// Step-specific outputs (e.g. the infra outputs wired back to the service).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub outputs: serde_json::Map<String, serde_json::Value>,
}

/// What an operation did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Receipt {
    pub run_id: String,
    pub operation: Operation,
    pub service: String,
    pub owner: String,
    pub golden_path: String,
    pub scaffold_version: String,
    pub status: RunStatus,
    pub started_at: String,
    pub finished_at: String,
    pub steps: Vec<StepReceipt>,
    /// Repo and change request URLs by name.
    pub links: BTreeMap<String, String>,
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl Receipt {
    /// The receipt as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("receipt serializes")
    }

    /// The receipt without what differs between two identical runs (run id, timestamps): equal
    /// for a rerun with the same input.
    pub fn stable_json(&self) -> serde_json::Value {
        let mut v = self.to_json();
        if let Some(o) = v.as_object_mut() {
            for k in ["run_id", "started_at", "finished_at"] {
                o.remove(k);
            }
        }
        v
    }
}
