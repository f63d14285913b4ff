//! # idp-core
//!
//! The engine of idp, the muscle of an internal developer platform. One [`Platform`] entry point
//! runs golden-path operations (bootstrap a service, wire CI, provision GitOps, attach
//! observability, request infrastructure) as plans that are checked before they are applied,
//! idempotent, resumable, and explained.
//!
//! Operations are `async` (the periphery talks to git, databases and forges); synchronous
//! callers use [`blocking::Platform`], which has the same methods.
//!
//! ```no_run
//! # async fn demo() -> idp_core::Result<()> {
//! use idp_core::{Platform, ServiceRequest};
//! let platform = Platform::builtin(".idp").await?;
//! let who = platform.principal("user:default/alice");
//! let req = ServiceRequest::new("payments-api", "team-payments").param("port", 8080);
//! let plan = platform.plan(&who, idp_core::Operation::RunGoldenPath, &req).await?;
//! assert!(plan.has_changes());
//! let receipt = platform.run_golden_path(&who, &req).await?;
//! println!("{}", serde_json::to_string_pretty(&receipt.to_json()).unwrap());
//! # Ok(()) }
//! ```

pub mod api;
pub mod audit;
pub mod blocking;
pub mod changeset;
pub mod config;
pub mod digest;
pub mod error;
pub mod failpoint;
pub mod golden_path;
pub mod insights;
pub mod intent;
pub mod naming;
pub mod org;
pub mod platform;
pub mod policy;
pub mod providers;
pub mod receipt;
pub mod request;
pub mod runtime;
pub mod scaffold;
pub mod state;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;

pub use changeset::{ChangeSet, FileAction, FileChange};
pub use error::{Error, ErrorKind, Result};
pub use org::Principal;
pub use platform::explain::Explanation;
pub use platform::{Plan, Platform, Progress, RunSummary};
pub use receipt::{Artifact, ChangeRequestRef, Receipt, RunStatus, StepReceipt};
pub use request::{EnvironmentValues, Operation, ServiceRequest};
pub use runtime::CancelToken;
