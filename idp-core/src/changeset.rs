//! Change sets: what a step will write, as data. A plan is a list of change sets; guardrails
//! check them; the engine applies them. Nothing here does I/O.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::golden_path::{Ownership, RepoRole, StepId};

/// What will happen to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileAction {
    /// The file does not exist yet and will be written.
    Create,
    /// The file exists with other content and will be replaced.
    Update,
    /// The file will be removed.
    Delete,
    /// The file already has the desired content.
    Unchanged,
    /// The file exists and is the team's (seeded, or a merged file with local edits): left alone.
    Keep,
}

/// Provenance of the scaffold stamp, which the engine writes (not a template).
pub const STAMP_PROVENANCE: &str = "idp:scaffold-stamp";

/// One file of a change set.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FileChange {
    pub path: String,
    pub action: FileAction,
    /// `None` for the scaffold stamp, which the engine owns.
    pub ownership: Option<Ownership>,
    /// `golden-path@version:template`, or `idp:scaffold-stamp`.
    pub provenance: String,
    /// SHA-256 of the content the file has after this change set.
    pub sha256: String,
    /// Unified diff from the current content (plans only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Why a file is kept or how it was merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The content to write (`None` for delete/keep/unchanged when not needed).
    #[serde(skip)]
    pub content: Option<Arc<Vec<u8>>>,
    /// How to override this file safely.
    #[serde(skip)]
    pub override_hint: String,
    /// The environment the file belongs to (for per-environment files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

impl FileChange {
    /// True when applying this change writes or removes something.
    pub fn writes(&self) -> bool {
        matches!(
            self.action,
            FileAction::Create | FileAction::Update | FileAction::Delete
        )
    }

    /// True for the engine-written scaffold stamp.
    pub fn is_stamp(&self) -> bool {
        self.provenance == STAMP_PROVENANCE
    }
}

/// Everything one step will do in one repo.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangeSet {
    pub step: StepId,
    pub repo: String,
    pub repo_role: RepoRole,
    /// True when the repo does not exist yet and will be created.
    pub creates_repo: bool,
    pub files: Vec<FileChange>,
    /// SHA-256 over the rendered files (path and content hash, in path order), stamp excluded:
    /// equal digests mean the same desired state.
    pub digest: String,
}

impl ChangeSet {
    /// Environments in which this change set writes something.
    pub fn environments_written(&self) -> std::collections::BTreeSet<&str> {
        self.files
            .iter()
            .filter(|f| f.writes())
            .filter_map(|f| f.environment.as_deref())
            .collect()
    }

    /// True when every file of `env` in this change set is new (nothing existed there before).
    pub fn first_in(&self, env: &str) -> bool {
        self.files
            .iter()
            .filter(|f| f.environment.as_deref() == Some(env))
            .all(|f| f.action == FileAction::Create)
    }

    /// True when applying it writes anything.
    pub fn has_changes(&self) -> bool {
        self.creates_repo || self.files.iter().any(FileChange::writes)
    }

    /// Files that applying it writes: `(path, Some(content))`, or `(path, None)` to delete.
    pub fn writes(&self) -> Vec<(String, Option<Arc<Vec<u8>>>)> {
        self.files
            .iter()
            .filter(|f| f.writes())
            .map(|f| {
                (
                    f.path.clone(),
                    if f.action == FileAction::Delete {
                        None
                    } else {
                        f.content.clone()
                    },
                )
            })
            .collect()
    }
}

/// A unified diff of two contents, labelled `a/path` and `b/path`.
pub fn unified_diff(path: &str, old: Option<&[u8]>, new: Option<&[u8]>) -> String {
    let (Ok(old_s), Ok(new_s)) = (
        std::str::from_utf8(old.unwrap_or_default()),
        std::str::from_utf8(new.unwrap_or_default()),
    ) else {
        return format!("Binary files a/{path} and b/{path} differ\n");
    };
    let a = if old.is_some() {
        format!("a/{path}")
    } else {
        "/dev/null".to_string()
    };
    let b = if new.is_some() {
        format!("b/{path}")
    } else {
        "/dev/null".to_string()
    };
    similar::TextDiff::from_lines(old_s, new_s)
        .unified_diff()
        .context_radius(3)
        .header(&a, &b)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_shows_only_changed_lines_with_headers() {
        let d = unified_diff("x.txt", Some(b"a\nb\nc\n"), Some(b"a\nB\nc\n"));
        assert!(d.starts_with("--- a/x.txt\n+++ b/x.txt\n"), "{d}");
        assert!(d.contains("-b\n+B\n"), "{d}");
        let created = unified_diff("y", None, Some(b"new\n"));
        assert!(
            created.contains("--- /dev/null") && created.contains("+new"),
            "{created}"
        );
    }
}
