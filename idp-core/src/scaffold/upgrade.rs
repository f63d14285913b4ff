//! Upgrading one repo of a service to a newer golden-path version, as a pure planner: from the
//! repo's files ("ours"), the merge base (each file as last rendered, by hash from the content
//! store — never by re-rendering old templates) and each later version's render ("theirs"),
//! compute what every file becomes. Ownership decides: managed files are replaced (a local edit
//! is reported, and kept only with `keep`), merged files are three-way merged, seeded files are
//! left alone; files the team deleted stay deleted; migrations rename, delete and set keys.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::merge::{Labels, MergeKeys, merge_file, set_key};
use crate::golden_path::{Migration, Ownership, RenderedFile};

/// What an upgrade does to one file.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum UpgradeAction {
    /// Replaced by the new version (a managed file).
    Replace,
    /// Three-way merged without conflicts (a merged file with local edits).
    MergeClean,
    /// Three-way merged with conflicts, written with conflict markers.
    Conflict,
    /// New in the new version.
    Add,
    /// Removed by the new version.
    Remove,
    /// Moved by a migration (content updated as its ownership says).
    Rename,
    /// Left as it is: seeded, deleted by the team, or a local edit kept.
    Keep,
    /// Already what the new version renders.
    Unchanged,
}

/// The outcome for one file.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FileUpgrade {
    pub repo: String,
    pub path: String,
    pub action: UpgradeAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership: Option<Ownership>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// Conflicting regions (for `conflict`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub conflicts: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Unified diff from the repo's current content (plans only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// The content after the upgrade (`None`: removed).
    #[serde(skip)]
    pub content: Option<Arc<Vec<u8>>>,
    #[serde(skip)]
    pub environment: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl FileUpgrade {
    /// True when the upgrade writes or removes the file.
    pub fn writes(&self) -> bool {
        !matches!(self.action, UpgradeAction::Keep | UpgradeAction::Unchanged)
    }
}

/// One version step of an upgrade: its migrations and what it renders.
pub struct Hop<'a> {
    /// `python-fastapi-service@2.0.0`, for conflict markers.
    pub label: String,
    pub migrations: Vec<Migration>,
    pub theirs: &'a [RenderedFile],
    /// How the version's structured files merge.
    pub keys: &'a MergeKeys,
}

/// The repo before the upgrade.
pub struct RepoBefore {
    /// Current content of every path of interest (absent: not in the repo).
    pub ours: BTreeMap<String, Vec<u8>>,
    /// Each stamped path: its content as last rendered (`None`: not in the content store) and
    /// ownership.
    pub base: BTreeMap<String, (Option<Vec<u8>>, Ownership)>,
}

#[derive(Default, Clone)]
struct Track {
    origin: Option<String>,
    conflicts: usize,
    merged: bool,
    replaced_edit: bool,
    kept: Option<String>,
}

/// Plans the upgrade of one repo through `hops`. `keep` keeps local edits of managed files.
pub fn plan_repo(
    repo: &str,
    before: &RepoBefore,
    hops: &[Hop<'_>],
    keep: bool,
) -> Vec<FileUpgrade> {
    let mut ours: BTreeMap<String, Vec<u8>> = before.ours.clone();
    let mut base: BTreeMap<String, (Option<Vec<u8>>, Ownership)> = before.base.clone();
    let mut track: BTreeMap<String, Track> = BTreeMap::new();
    let mut ownership: BTreeMap<String, Ownership> = before
        .base
        .iter()
        .map(|(p, (_, o))| (p.clone(), *o))
        .collect();
    let mut envs: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut touched: BTreeSet<String> = before.ours.keys().cloned().collect();
    touched.extend(before.base.keys().cloned());

    for hop in hops {
        let labels = Labels {
            ours: "ours (your edits)",
            theirs: &hop.label,
        };
        for m in &hop.migrations {
            match m {
                Migration::Rename { from, to } => {
                    if let Some(c) = ours.remove(from) {
                        ours.entry(to.clone()).or_insert(c);
                    }
                    if let Some(b) = base.remove(from) {
                        base.insert(to.clone(), b);
                    }
                    let t = track.remove(from).unwrap_or_default();
                    let origin = t.origin.clone().unwrap_or_else(|| from.clone());
                    track.insert(
                        to.clone(),
                        Track {
                            origin: Some(origin),
                            ..t
                        },
                    );
                    if let Some(o) = ownership.remove(from) {
                        ownership.insert(to.clone(), o);
                    }
                    touched.insert(to.clone());
                }
                Migration::Delete { path } => {
                    let edited = match (ours.get(path), base.get(path)) {
                        (Some(o), Some((Some(b), _))) => o != b,
                        (Some(_), _) => true,
                        _ => false,
                    };
                    let own = ownership.get(path).copied().unwrap_or(Ownership::Managed);
                    if edited && (own != Ownership::Managed || keep) {
                        track.entry(path.clone()).or_default().kept = Some(
                            "the platform no longer ships this file; your edited copy is kept"
                                .into(),
                        );
                    } else {
                        if edited {
                            track.entry(path.clone()).or_default().replaced_edit = true;
                        }
                        ours.remove(path);
                    }
                    base.remove(path);
                }
                Migration::Set { file, key, value } => {
                    if let Some(text) = ours.get(file).and_then(|b| std::str::from_utf8(b).ok())
                        && let Some(new) = set_key(file, text, key, value)
                    {
                        ours.insert(file.clone(), new.into_bytes());
                    }
                }
            }
        }

        let theirs: BTreeMap<&str, &RenderedFile> =
            hop.theirs.iter().map(|f| (f.path.as_str(), f)).collect();
        for (path, f) in &theirs {
            let path = path.to_string();
            touched.insert(path.clone());
            ownership.insert(path.clone(), f.ownership);
            envs.insert(path.clone(), f.environment.clone());
            let new = f.content.as_slice();
            let t = track.entry(path.clone()).or_default();
            let in_base = base.get(&path);
            match (ours.get(&path), in_base) {
                // The team deleted a file idp had written: it stays deleted.
                (None, Some(_)) => {
                    t.kept = Some("deleted by the team; stays deleted".into());
                }
                // New in this version (or never written).
                (None, None) => {
                    ours.insert(path.clone(), new.to_vec());
                }
                (Some(cur), b) => {
                    let cur = cur.clone();
                    let base_content = b.and_then(|(c, _)| c.clone());
                    match f.ownership {
                        Ownership::Seeded => {
                            t.kept = Some("seeded: the team's file".into());
                        }
                        Ownership::Managed => {
                            let edited = base_content.as_ref().is_some_and(|b| *b != cur)
                                || (b.is_none() && cur != new);
                            if edited && keep {
                                t.kept = Some("local edit to a managed file kept (keep)".into());
                            } else {
                                if edited && cur != new {
                                    t.replaced_edit = true;
                                }
                                ours.insert(path.clone(), new.to_vec());
                            }
                        }
                        Ownership::Merged => {
                            let base_text = base_content.as_deref().map(String::from_utf8_lossy);
                            let cur_text = String::from_utf8_lossy(&cur);
                            let new_text = String::from_utf8_lossy(new);
                            match base_text {
                                Some(bt) if bt == cur_text => {
                                    ours.insert(path.clone(), new.to_vec());
                                }
                                _ if cur_text == new_text => {}
                                // No base (content store lost it): a two-way merge from nothing.
                                bt => {
                                    let m = merge_file(
                                        &path,
                                        bt.as_deref().unwrap_or(""),
                                        &cur_text,
                                        &new_text,
                                        &labels,
                                        hop.keys,
                                    );
                                    t.conflicts += m.conflicts;
                                    t.merged = true;
                                    ours.insert(path.clone(), m.content.into_bytes());
                                }
                            }
                        }
                    }
                }
            }
        }
        // Files the previous version rendered and this one does not (without a migration).
        let gone: Vec<String> = base
            .keys()
            .filter(|p| !theirs.contains_key(p.as_str()))
            .cloned()
            .collect();
        for p in gone {
            let (b, _) = base.remove(&p).expect("listed");
            match ours.get(&p) {
                Some(cur) if b.as_ref() == Some(cur) => {
                    ours.remove(&p);
                }
                Some(_) => {
                    track.entry(p).or_default().kept = Some(
                        "the platform no longer ships this file; your edited copy is kept".into(),
                    );
                }
                None => {}
            }
        }
        for (path, f) in &theirs {
            base.insert(path.to_string(), (Some(f.content.to_vec()), f.ownership));
        }
    }

    let mut out = Vec::new();
    for path in touched {
        let t = track.get(&path).cloned().unwrap_or_default();
        let now = ours.get(&path);
        let was = before.ours.get(&path);
        let from = t.origin.clone().filter(|o| o != &path);
        let action = match (was, now) {
            (None, None) if from.is_none() => continue,
            (Some(_), None) => UpgradeAction::Remove,
            _ if t.conflicts > 0 => UpgradeAction::Conflict,
            _ if from.is_some() && now.is_some() => UpgradeAction::Rename,
            (None, Some(_)) => UpgradeAction::Add,
            (Some(a), Some(b)) if a == b => {
                if t.kept.is_some() {
                    UpgradeAction::Keep
                } else {
                    UpgradeAction::Unchanged
                }
            }
            (Some(_), Some(_)) if t.merged => UpgradeAction::MergeClean,
            (Some(_), Some(_)) => UpgradeAction::Replace,
            (None, None) => UpgradeAction::Keep,
        };
        let mut note = t.kept.clone();
        if t.replaced_edit {
            note = Some("a local edit to this platform-managed file is replaced; rerun with keep (or a waiver) to keep it".into());
        }
        if action == UpgradeAction::Conflict {
            note = Some(format!(
                "{} conflicting region(s), marked with <<<<<<< / >>>>>>>",
                t.conflicts
            ));
        }
        out.push(FileUpgrade {
            repo: repo.to_string(),
            path: path.clone(),
            action,
            ownership: ownership.get(&path).copied(),
            renamed_from: from,
            conflicts: t.conflicts,
            note,
            diff: None,
            content: now.map(|c| Arc::new(c.clone())),
            environment: envs.get(&path).cloned().flatten(),
        });
    }
    // A renamed file's old path is removed.
    let renamed: Vec<String> = out.iter().filter_map(|f| f.renamed_from.clone()).collect();
    for old in renamed {
        if let Some(f) = out.iter_mut().find(|f| f.path == old) {
            f.action = UpgradeAction::Remove;
            f.note = Some("renamed by the new version".into());
        } else if before.ours.contains_key(&old) {
            out.push(FileUpgrade {
                repo: repo.to_string(),
                path: old,
                action: UpgradeAction::Remove,
                ownership: None,
                renamed_from: None,
                conflicts: 0,
                note: Some("renamed by the new version".into()),
                diff: None,
                content: None,
                environment: None,
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}
