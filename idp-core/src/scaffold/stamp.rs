//! `.idp/scaffold.json`: which golden path and version made a service, with which parameters,
//! and the content hash of every file as rendered. It is the merge base of an upgrade (the
//! content itself is kept by hash in the state store), so old templates never need to render
//! again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::golden_path::{Ownership, StepId};

/// Version of the stamp format.
pub const STAMP_SCHEMA: u32 = 1;

/// One file recorded in a stamp.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StampFile {
    /// SHA-256 of the file as rendered (not as edited since).
    pub sha256: String,
    pub ownership: Ownership,
    /// The template it was rendered from.
    pub template: String,
    pub step: StepId,
    /// The environment of a per-environment file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

impl StampFile {
    /// The entry for `f` as rendered by `step`: its hash, ownership, environment and template
    /// (the part of its provenance after `golden-path@version:`).
    pub fn rendered(f: &crate::golden_path::RenderedFile, step: StepId) -> StampFile {
        StampFile {
            sha256: crate::digest::sha256_hex(&f.content),
            environment: f.environment.clone(),
            ownership: f.ownership,
            template: f
                .provenance
                .rsplit(':')
                .next()
                .unwrap_or_default()
                .to_string(),
            step,
        }
    }
}

/// The scaffold stamp of one service in one repo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stamp {
    pub schema: u32,
    pub golden_path_id: String,
    pub scaffold_version: String,
    pub service: String,
    pub owner: String,
    /// Effective parameters, secrets redacted.
    pub parameters: serde_json::Value,
    /// Values of single environments over `parameters` (as requested, not effective).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<String, crate::golden_path::Parameters>,
    pub files: BTreeMap<String, StampFile>,
}

impl Stamp {
    /// Parses a stamp read from a repo.
    pub fn parse(path: &str, bytes: &[u8]) -> Result<Stamp> {
        serde_json::from_slice(bytes).map_err(|e| {
            Error::invalid(format!(
                "{path} is not a valid idp scaffold stamp: {e}; restore it from git history"
            ))
            .with("file", path)
        })
    }

    /// The stamp as written to the repo (sorted keys, pretty, trailing newline).
    pub fn to_bytes(&self) -> Vec<u8> {
        let v = serde_json::to_value(self).expect("stamp serializes");
        super::pretty_sorted_json(&v).into_bytes()
    }
}
