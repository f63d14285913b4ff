//! The engine: steps plan, the engine applies. Every operation goes
//! prepare → (per step) plan → apply → record, under a per-service lock, with each step's state
//! persisted so a killed run resumes to the same end state without duplicate commits.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Platform;
use super::policy_point::{self, DecisionRecord, PolicyOutcome};
use super::prepare::{Prepared, check_service_repo, prepare};
use crate::changeset::{ChangeSet, FileAction, FileChange, STAMP_PROVENANCE, unified_diff};
use crate::digest::sha256_hex;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::golden_path::{Ownership, RenderedFile, RepoRole, StepId};
use crate::org::Principal;
use crate::policy::Violation;
use crate::providers::{ChangeRequestSpec, Signature};
use crate::receipt::{
    Artifact, ChangeRequestRef, ChangeRequestState, Receipt, RunStatus, StepReceipt,
};
use crate::request::{Operation, ServiceRequest};
use crate::scaffold::{Labels, STAMP_SCHEMA, Stamp, StampFile, merge_file};
use crate::state::{ChangeRequestRecord, RunRecord, ServiceLock, ServiceRecord, StepRecord};

/// A dry run: the exact change sets an operation would apply, with diffs. Nothing was written.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Plan {
    pub operation: Operation,
    pub service: String,
    pub owner: String,
    pub golden_path: String,
    pub scaffold_version: String,
    /// Effective parameters (secrets redacted).
    pub parameters: Value,
    pub change_sets: Vec<ChangeSet>,
    pub warnings: Vec<String>,
    /// Authorization decisions for the operation and every environment it writes to.
    pub decisions: Vec<DecisionRecord>,
    /// Guardrail findings on what it would write (waived ones carry `waived_by`).
    pub violations: Vec<Violation>,
    /// True when applying it would pass the policy point.
    pub allowed: bool,
}

impl Plan {
    /// The plan as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("plan serializes")
    }

    /// True when applying the plan would write anything.
    pub fn has_changes(&self) -> bool {
        self.change_sets.iter().any(ChangeSet::has_changes)
    }
}

/// Writes of earlier steps of the same plan, so later steps plan against them (a dry run of the
/// whole golden path shows exactly what a real run would do).
#[derive(Default)]
struct Overlay {
    files: HashMap<(String, String), Arc<Vec<u8>>>,
    repos: HashSet<String>,
}

/// Branch of the change request a step opens: one per step. A step whose change request is not
/// merged at once (a review) makes the run wait, so the next step always starts from a default
/// branch that has the steps before it.
fn branch_for(service: &str, step: StepId) -> String {
    format!("idp/{service}/{}", step.as_str().replace('_', "-"))
}

/// Takes the service's lock from the state store (so it holds across processes and replicas),
/// saying so when another run holds it.
pub(crate) async fn lock_service(p: &Platform, service: &str) -> Result<ServiceLock> {
    if let Some(lock) = p.state.try_lock_service(service).await? {
        return Ok(lock);
    }
    p.emit(
        "",
        None,
        format!("waiting for another run on {service} to finish"),
    );
    p.state.lock_service(service).await
}

/// Plans one step: render, compare with the repo, and compute the stamp.
async fn plan_step(
    p: &Platform,
    prep: &Prepared,
    step: StepId,
    overlay: Option<&Overlay>,
    with_diffs: bool,
) -> Result<(ChangeSet, Vec<String>, Vec<RenderedFile>)> {
    if step == StepId::RequestInfraResource {
        return plan_infra(p, prep, overlay, with_diffs).await;
    }
    let sd = prep.gp.step(step).ok_or_else(|| {
        Error::invalid(format!(
            "golden path {} has no step {step}",
            prep.gp.id_version()
        ))
    })?;
    let role = sd.repo;
    let repo = prep.repo_name(p, role);
    let repo_exists =
        overlay.is_some_and(|o| o.repos.contains(&repo)) || p.scm.repo_exists(&repo).await?;
    if !repo_exists && role == RepoRole::Service && step != StepId::BootstrapService {
        return Err(Error::not_found(format!(
            "service repository {repo} does not exist; run bootstrap-service (or golden-path run) first"
        ))
        .with("field", "service"));
    }
    let rendered = prep.gp.render_step(step, &prep.ctx)?;
    let stamp_path = prep.gp.stamp_path(role, &prep.ctx)?;

    let mut paths: Vec<String> = rendered.iter().map(|f| f.path.clone()).collect();
    if let Some(sp) = &stamp_path {
        paths.push(sp.clone());
    }
    let mut current = p.scm.read_files(&repo, None, &paths).await?;
    if let Some(o) = overlay {
        for (i, path) in paths.iter().enumerate() {
            if let Some(c) = o.files.get(&(repo.clone(), path.clone())) {
                current[i] = Some(c.as_ref().clone());
            }
        }
    }
    let old_stamp = match (&stamp_path, current.last()) {
        (Some(sp), Some(Some(bytes))) => Some(Stamp::parse(sp, bytes)?),
        _ => None,
    };

    let mut warnings = Vec::new();
    let mut files = Vec::new();
    let mut digest_lines = Vec::new();
    let mut conflicts = Vec::new();
    for (f, cur) in rendered.iter().zip(current.iter()) {
        let desired_hash = sha256_hex(&f.content);
        let cur_hash = cur.as_ref().map(|c| sha256_hex(c));
        let base_hash = old_stamp
            .as_ref()
            .and_then(|s| s.files.get(&f.path))
            .map(|e| e.sha256.clone());
        let mut content = f.content.clone();
        let (action, note) = match (&cur_hash, f.ownership) {
            (None, _) => (FileAction::Create, None),
            (Some(h), _) if *h == desired_hash => (FileAction::Unchanged, None),
            (Some(_), Ownership::Seeded) => (
                FileAction::Keep,
                Some("seeded: the team's file since creation".to_string()),
            ),
            (Some(h), Ownership::Merged) if base_hash.as_deref() != Some(h.as_str()) => {
                let ours = cur.as_deref().expect("the file exists");
                match merge_edited(p, prep, &f.path, base_hash.as_deref(), ours, &f.content).await?
                {
                    EditedMerge::Kept(note) => (FileAction::Keep, Some(note.to_string())),
                    EditedMerge::Clean(merged) if merged == *ours => (FileAction::Unchanged, None),
                    EditedMerge::Clean(merged) => {
                        content = Arc::new(merged);
                        (
                            FileAction::Update,
                            Some(
                                "merged: your edits kept and what idp renders now merged in"
                                    .to_string(),
                            ),
                        )
                    }
                    EditedMerge::Conflicts(at) => {
                        conflicts.push(format!("{repo}:{} ({at})", f.path));
                        (FileAction::Keep, None)
                    }
                }
            }
            (Some(h), Ownership::Managed)
                if base_hash.is_some() && base_hash.as_deref() != Some(h.as_str()) =>
            {
                warnings.push(format!(
                    "{repo}:{}: a local edit to this platform-managed file is replaced",
                    f.path
                ));
                (
                    FileAction::Update,
                    Some("managed: local edit replaced".to_string()),
                )
            }
            (Some(_), _) => (FileAction::Update, None),
        };
        // What the change set brings: the render, or the merge of it into the team's edits.
        let content_hash = if Arc::ptr_eq(&content, &f.content) {
            desired_hash
        } else {
            sha256_hex(&content)
        };
        digest_lines.push(format!("{}\0{}\n", f.path, content_hash));
        let sha256 = if action == FileAction::Keep {
            cur_hash.clone().unwrap_or_default()
        } else {
            content_hash
        };
        let diff = (with_diffs && matches!(action, FileAction::Create | FileAction::Update))
            .then(|| unified_diff(&f.path, cur.as_deref(), Some(&content)));
        files.push(FileChange {
            path: f.path.clone(),
            action,
            ownership: Some(f.ownership),
            provenance: f.provenance.clone(),
            sha256,
            diff,
            note,
            content: Some(content),
            override_hint: f.override_hint.clone(),
            environment: f.environment.clone(),
        });
    }
    if !conflicts.is_empty() {
        return Err(Error::conflict(format!(
            "{step}: the team's edits conflict with what idp renders now in {}; nothing was \
             written. Make the same change in the file (or undo the edit of those keys), or \
             change the request back, then run again",
            conflicts.join(", ")
        ))
        .with("step", step.as_str()));
    }

    if let Some(sp) = &stamp_path {
        let mut stamp = old_stamp.clone().unwrap_or_else(|| Stamp {
            schema: STAMP_SCHEMA,
            golden_path_id: prep.gp.def.id.clone(),
            scaffold_version: prep.gp.def.version.clone(),
            service: prep.service.clone(),
            owner: prep.team.name.clone(),
            parameters: Value::Null,
            environments: Default::default(),
            files: BTreeMap::new(),
        });
        stamp.schema = STAMP_SCHEMA;
        stamp.golden_path_id = prep.gp.def.id.clone();
        stamp.scaffold_version = prep.gp.def.version.clone();
        stamp.service = prep.service.clone();
        stamp.owner = prep.team.name.clone();
        stamp.parameters = Value::Object(prep.gp.schema.redact(&prep.params));
        stamp.environments = prep.env_overrides.clone();
        for (f, change) in rendered.iter().zip(&files) {
            // A file idp did not write keeps its merge base: what was last rendered *and* written.
            if change.action == FileAction::Keep && stamp.files.contains_key(&f.path) {
                continue;
            }
            stamp
                .files
                .insert(f.path.clone(), StampFile::rendered(f, step));
        }
        let bytes = Arc::new(stamp.to_bytes());
        let cur = current.last().cloned().flatten();
        let action = match &cur {
            None => FileAction::Create,
            Some(c) if c.as_slice() == bytes.as_slice() => FileAction::Unchanged,
            Some(_) => FileAction::Update,
        };
        let diff = (with_diffs && action != FileAction::Unchanged)
            .then(|| unified_diff(sp, cur.as_deref(), Some(&bytes)));
        files.push(FileChange {
            path: sp.clone(),
            action,
            ownership: None,
            provenance: STAMP_PROVENANCE.to_string(),
            sha256: sha256_hex(&bytes),
            diff,
            note: None,
            content: Some(bytes),
            override_hint: "Written by idp; do not edit (it is the merge base of upgrades).".into(),
            environment: None,
        });
    }

    let cs = ChangeSet {
        step,
        repo,
        repo_role: role,
        creates_repo: !repo_exists,
        files,
        digest: {
            digest_lines.sort();
            sha256_hex(digest_lines.concat().as_bytes())
        },
    };
    Ok((cs, warnings, rendered))
}

/// What becomes of a merged-ownership file the team edited since idp last wrote it.
enum EditedMerge {
    /// Left as the team has it, and why.
    Kept(&'static str),
    /// The team's edits and what idp renders now, merged without conflicts.
    Clean(Vec<u8>),
    /// Where they conflict (key paths, or "conflicting lines").
    Conflicts(String),
}

/// Three-way merges what idp renders now (`theirs`) into the team's edited file (`ours`), from
/// the file as idp last rendered it (the stamp's hash, read from the content store).
async fn merge_edited(
    p: &Platform,
    prep: &Prepared,
    path: &str,
    base_hash: Option<&str>,
    ours: &[u8],
    theirs: &[u8],
) -> Result<EditedMerge> {
    const KEPT: &str =
        "merged: has local edits, which are kept; `idp upgrade` merges platform changes";
    let Some(base_hash) = base_hash else {
        return Ok(EditedMerge::Kept(KEPT));
    };
    if base_hash == sha256_hex(theirs) {
        return Ok(EditedMerge::Kept(
            "merged: has local edits, which are kept (idp renders nothing new for it)",
        ));
    }
    let Some(base) = p.state.get_blob(base_hash).await? else {
        return Ok(EditedMerge::Kept(KEPT));
    };
    let (Ok(base), Ok(ours), Ok(theirs)) = (
        std::str::from_utf8(&base),
        std::str::from_utf8(ours),
        std::str::from_utf8(theirs),
    ) else {
        return Ok(EditedMerge::Kept(KEPT));
    };
    let m = merge_file(
        path,
        base,
        ours,
        theirs,
        &Labels {
            ours: "ours (your edits)",
            theirs: "theirs (idp)",
        },
        &prep.gp.merge_keys,
    );
    Ok(if m.conflicts == 0 {
        EditedMerge::Clean(m.content.into_bytes())
    } else if m.conflict_paths.is_empty() {
        EditedMerge::Conflicts("conflicting lines".into())
    } else {
        EditedMerge::Conflicts(format!("at {}", m.conflict_paths.join(", ")))
    })
}

/// Plans the infrastructure step: every resolution rendered into the infra repo, and the files of
/// earlier resolutions that are no longer produced (a module swapped by a catalog change, an
/// environment dropped) removed.
async fn plan_infra(
    p: &Platform,
    prep: &Prepared,
    overlay: Option<&Overlay>,
    with_diffs: bool,
) -> Result<(ChangeSet, Vec<String>, Vec<RenderedFile>)> {
    let repo = prep.repo_name(p, RepoRole::Infra);
    let repo_exists =
        overlay.is_some_and(|o| o.repos.contains(&repo)) || p.scm.repo_exists(&repo).await?;
    let mut rendered = Vec::new();
    for r in &prep.resolutions {
        let module = p
            .def
            .catalog
            .modules
            .iter()
            .find(|m| m.def.name == r.module)
            .ok_or_else(|| {
                Error::internal(format!(
                    "resolved module {} is not in the catalog",
                    r.module
                ))
            })?;
        let env = prep
            .ctx
            .environments
            .iter()
            .find(|e| e["name"] == r.environment.as_str());
        let namespace = env
            .and_then(|e| e["namespace"].as_str())
            .unwrap_or_default();
        let labels = env.map(|e| e["labels"].clone()).unwrap_or_default();
        let text = crate::intent::render::render_resolution(r, module, namespace, &labels)?;
        rendered.push(RenderedFile {
            path: r.file.clone(),
            content: Arc::new(text.into_bytes()),
            ownership: Ownership::Managed,
            provenance: format!("module:{}@{}", r.module, r.module_version),
            override_hint: "Managed by idp from your intent: change parameters with `idp request-infra-resource`; locked inputs need a change to the module catalog."
                .into(),
            environment: Some(r.environment.clone()),
        });
    }
    let mut stale: Vec<String> = Vec::new();
    if let Some((_, old)) = p.state.get_infra(&prep.service).await? {
        for r in old.as_array().into_iter().flatten() {
            if let Some(f) = r.get("file").and_then(Value::as_str)
                && !rendered.iter().any(|x| x.path == f)
                && !stale.iter().any(|s| s == f)
            {
                stale.push(f.to_string());
            }
        }
    }
    let mut paths: Vec<String> = rendered.iter().map(|f| f.path.clone()).collect();
    paths.extend(stale.iter().cloned());
    let mut current = p.scm.read_files(&repo, None, &paths).await?;
    if let Some(o) = overlay {
        for (i, path) in paths.iter().enumerate() {
            if let Some(c) = o.files.get(&(repo.clone(), path.clone())) {
                current[i] = Some(c.as_ref().clone());
            }
        }
    }
    let mut files = Vec::new();
    let mut digest_lines = Vec::new();
    for (f, cur) in rendered.iter().zip(current.iter()) {
        let hash = sha256_hex(&f.content);
        digest_lines.push(format!("{}\0{}\n", f.path, hash));
        let action = match cur {
            None => FileAction::Create,
            Some(c) if c.as_slice() == f.content.as_slice() => FileAction::Unchanged,
            Some(_) => FileAction::Update,
        };
        let diff = (with_diffs && action != FileAction::Unchanged)
            .then(|| unified_diff(&f.path, cur.as_deref(), Some(&f.content)));
        files.push(FileChange {
            path: f.path.clone(),
            action,
            ownership: Some(Ownership::Managed),
            provenance: f.provenance.clone(),
            sha256: hash,
            diff,
            note: None,
            content: Some(f.content.clone()),
            override_hint: f.override_hint.clone(),
            environment: f.environment.clone(),
        });
    }
    for (path, cur) in stale.iter().zip(current.iter().skip(rendered.len())) {
        let Some(cur) = cur else { continue };
        let environment = path.split('/').nth(1).map(str::to_string);
        files.push(FileChange {
            path: path.clone(),
            action: FileAction::Delete,
            ownership: Some(Ownership::Managed),
            provenance: "idp:no-longer-resolved".into(),
            sha256: sha256_hex(cur),
            diff: with_diffs.then(|| unified_diff(path, Some(cur), None)),
            note: Some("no intent resolves to this file any more".into()),
            content: None,
            override_hint: String::new(),
            environment,
        });
    }
    digest_lines.sort();
    let cs = ChangeSet {
        step: StepId::RequestInfraResource,
        repo,
        repo_role: RepoRole::Infra,
        creates_repo: !repo_exists,
        files,
        digest: sha256_hex(digest_lines.concat().as_bytes()),
    };
    Ok((cs, Vec::new(), rendered))
}

/// The infra change set of `prep` with diffs, for the impact preview.
pub(crate) async fn plan_infra_for_impact(
    p: &Platform,
    prep: &Prepared,
) -> Result<(ChangeSet, Vec<String>, Vec<RenderedFile>)> {
    plan_infra(p, prep, None, true).await
}

fn to_ref(cr: &ChangeRequestRecord) -> Option<ChangeRequestRef> {
    Some(ChangeRequestRef {
        id: cr.id.clone()?,
        repo: cr.repo.clone(),
        branch: cr.branch.clone(),
        commit: cr.commit.clone()?,
        url: cr.url.clone().unwrap_or_default(),
        state: cr.state,
    })
}

/// What planning one step produced.
struct StepPlan {
    cs: ChangeSet,
    warnings: Vec<String>,
    rendered: Vec<RenderedFile>,
}

/// Plans `steps` in order, each against the writes of the ones before it.
async fn plan_steps(
    p: &Platform,
    prep: &Prepared,
    steps: &[StepId],
    with_diffs: bool,
) -> Result<Vec<StepPlan>> {
    let mut overlay = Overlay::default();
    let mut out = Vec::new();
    for step in steps {
        let (cs, warnings, rendered) =
            plan_step(p, prep, *step, Some(&overlay), with_diffs).await?;
        if cs.creates_repo {
            overlay.repos.insert(cs.repo.clone());
        }
        for f in cs.files.iter().filter(|f| f.writes()) {
            if let Some(c) = &f.content {
                overlay
                    .files
                    .insert((cs.repo.clone(), f.path.clone()), c.clone());
            }
        }
        out.push(StepPlan {
            cs,
            warnings,
            rendered,
        });
    }
    Ok(out)
}

/// Applies one planned step: commit through the provider, record the change request.
async fn apply_step(
    p: &Platform,
    prep: &Prepared,
    run: &RunRecord,
    who: &Principal,
    plan: &StepPlan,
    outcome: &PolicyOutcome,
) -> Result<StepReceipt> {
    let cs = &plan.cs;
    let step = cs.step;
    let key = format!("{}:{step}", run.id);
    let branch = branch_for(&prep.service, step);
    let mut cr: Option<ChangeRequestRecord> = None;

    if cs.has_changes() {
        p.emit(
            &run.id,
            Some(step),
            format!(
                "{step}: writing {} file(s) to {}",
                cs.writes().len(),
                cs.repo
            ),
        );
        if cs.creates_repo {
            let desc = format!(
                "{} ({}), created by idp",
                prep.service,
                prep.gp.id_version()
            );
            p.scm.create_repo(&cs.repo, &desc).await?;
        }
        let blobs: Vec<(String, Arc<Vec<u8>>)> = plan
            .rendered
            .iter()
            .map(|f| (sha256_hex(&f.content), f.content.clone()))
            .collect();
        p.state.put_blobs(&blobs).await?;
        let mut record = ChangeRequestRecord {
            key: key.clone(),
            id: None,
            repo: cs.repo.clone(),
            service: prep.service.clone(),
            step,
            run_id: run.id.clone(),
            digest: cs.digest.clone(),
            branch: branch.clone(),
            commit: None,
            url: None,
            state: ChangeRequestState::Pending,
            created_at: p.now_text(),
        };
        p.state.put_change_request(&record).await?;
        let bot = &p.def.config.organization.bot;
        let mut trailers = vec![
            ("Idp-Run".to_string(), run.id.clone()),
            ("Idp-Requested-By".to_string(), who.user.clone()),
            ("Idp-Golden-Path".to_string(), prep.gp.id_version()),
        ];
        let policies = outcome.policy_ids();
        if !policies.is_empty() {
            trailers.push(("Idp-Policies".into(), policies.join(", ")));
        }
        let waivers = outcome.waiver_ids();
        if !waivers.is_empty() {
            trailers.push(("Idp-Waivers".into(), waivers.join(", ")));
        }
        let spec = ChangeRequestSpec {
            key: key.clone(),
            repo: cs.repo.clone(),
            branch: branch.clone(),
            title: format!(
                "idp: {step} for {} ({})",
                prep.service,
                prep.gp.id_version()
            ),
            body: change_request_body(prep, cs),
            files: cs.writes(),
            author: Signature {
                name: bot.name.clone(),
                email: bot.email.clone(),
            },
            committer: Signature {
                name: bot.name.clone(),
                email: bot.email.clone(),
            },
            trailers,
            hold: false,
        };
        let submitted = p.scm.submit(&spec).await?;
        failpoint::check(&format!("step:{step}:submitted"))?;
        if !submitted.id.is_empty() {
            record.id = Some(submitted.id);
            record.commit = Some(submitted.commit);
            record.url = Some(submitted.url);
            record.state = submitted.state;
            p.state.put_change_request(&record).await?;
            // A merged change to the GitOps repo is a deployment. (A run killed between the
            // merge and here finds nothing left to write when resumed, so that one deployment
            // goes unrecorded; Argo CD's own reports do not depend on it.)
            if let (ChangeRequestState::Merged, Some(commit)) = (record.state, &record.commit) {
                super::insights::record_gitops_merge(p, prep, cs, commit).await?;
            }
            cr = Some(record);
        }
    } else if let Some(found) = p.scm.find_change_request(&cs.repo, &key).await? {
        // This run committed before it was interrupted: record what it did.
        let record = ChangeRequestRecord {
            key: key.clone(),
            id: Some(found.id),
            repo: cs.repo.clone(),
            service: prep.service.clone(),
            step,
            run_id: run.id.clone(),
            digest: cs.digest.clone(),
            branch,
            commit: Some(found.commit),
            url: Some(found.url),
            state: found.state,
            created_at: p.now_text(),
        };
        p.state.put_change_request(&record).await?;
        cr = Some(record);
    }
    if cr.is_none() {
        cr = p
            .state
            .change_request_for(&prep.service, step, &cs.repo, &cs.digest)
            .await?;
        p.emit(
            &run.id,
            Some(step),
            format!("{step}: {} already up to date", cs.repo),
        );
    }

    let now = p.now_text();
    let created_at = prep
        .existing
        .as_ref()
        .map(|e| e.created_at.clone())
        .unwrap_or_else(|| now.clone());
    p.state
        .put_service(&ServiceRecord {
            name: prep.service.clone(),
            owner: prep.team.name.clone(),
            golden_path: prep.gp.def.id.clone(),
            version: prep.gp.def.version.clone(),
            parameters: Value::Object(prep.gp.schema.redact(&prep.params)),
            environments: serde_json::to_value(&prep.env_overrides)?,
            created_at,
            updated_at: now,
        })
        .await?;
    let mut receipt = step_receipt(plan, cr.as_ref().and_then(to_ref), outcome);
    if step == StepId::RequestInfraResource {
        let resolutions = serde_json::to_value(&prep.resolutions)?;
        p.state
            .put_infra(
                &prep.service,
                &serde_json::to_value(&prep.intents)?,
                &resolutions,
            )
            .await?;
        receipt.outputs.insert("resolutions".into(), resolutions);
    }
    Ok(receipt)
}

fn step_receipt(
    plan: &StepPlan,
    change_request: Option<ChangeRequestRef>,
    outcome: &PolicyOutcome,
) -> StepReceipt {
    let cs = &plan.cs;
    let artifacts = cs
        .files
        .iter()
        .filter(|f| !f.is_stamp() && f.action != FileAction::Delete)
        .map(|f| Artifact {
            repo: cs.repo.clone(),
            path: f.path.clone(),
            sha256: f.sha256.clone(),
            ownership: f.ownership.unwrap_or(Ownership::Managed),
            provenance: f.provenance.clone(),
        })
        .collect();
    let mine = |v: &&Violation| v.repo == cs.repo && cs.files.iter().any(|f| f.path == v.path);
    let mut warnings = plan.warnings.clone();
    warnings.extend(
        outcome
            .violations
            .iter()
            .filter(mine)
            .filter(|v| v.severity == crate::policy::Enforcement::Warn)
            .map(|v| format!("{}:{}: {} [{}]", v.repo, v.path, v.message, v.rule)),
    );
    let exceptions: Vec<Violation> = outcome
        .violations
        .iter()
        .filter(mine)
        .filter(|v| v.waived_by.is_some())
        .cloned()
        .collect();
    let mut outputs = serde_json::Map::new();
    if !warnings.is_empty() {
        outputs.insert("warnings".into(), Value::from(warnings));
    }
    if !exceptions.is_empty() {
        outputs.insert(
            "exceptions".into(),
            serde_json::to_value(exceptions).unwrap_or_default(),
        );
    }
    StepReceipt {
        step: cs.step,
        repo: cs.repo.clone(),
        change_request,
        artifacts,
        outputs,
    }
}

fn change_request_body(prep: &Prepared, cs: &ChangeSet) -> String {
    let mut body = format!(
        "Service `{}`, owned by `{}`, from golden path {}.\n\n{}\n\n",
        prep.service,
        prep.team.name,
        prep.gp.id_version(),
        prep.gp
            .step(cs.step)
            .map(|s| s.description.as_str())
            .unwrap_or(""),
    );
    for f in cs.files.iter().filter(|f| f.writes()) {
        let own = f.ownership.map(|o| o.as_str()).unwrap_or("idp");
        body.push_str(&format!("- {:?} `{}` ({own})\n", f.action, f.path));
    }
    body.push_str("\nRun `idp explain ");
    body.push_str(&prep.service);
    body.push_str("` to see what each file is and how to override it safely.");
    body
}

/// Preflight that cannot be answered without the service lock is answered under it: the name
/// check that keeps two teams from taking the same name at the same moment.
async fn prepare_audited(
    p: &Platform,
    who: &Principal,
    op: &str,
    o: Operation,
    req: &ServiceRequest,
) -> Result<Prepared> {
    match prepare(p, o, req).await {
        Ok(prep) => Ok(prep),
        Err(e) => {
            let _ = policy_point::audit_rejected(p, who, op, &req.service, &e).await;
            Err(e)
        }
    }
}

/// Executes `op`; `resume` is the run to continue (from `idp resume`).
pub(crate) async fn execute(
    p: &Platform,
    who: &Principal,
    op: Operation,
    req: &ServiceRequest,
    resume: Option<RunRecord>,
) -> Result<Receipt> {
    // The lock file is named after the service: check the name before touching the disk.
    if let Err(e) = crate::golden_path::params::check_string("service", &req.service, false)
        .and_then(|_| p.def.config.check_service_name(&req.service))
    {
        let _ = policy_point::audit_rejected(p, who, op.as_str(), &req.service, &e).await;
        return Err(e);
    }
    let _lock = lock_service(p, &req.service).await?;
    let prep = prepare_audited(p, who, op.as_str(), op, req).await?;

    // The policy point, before anything is written: the workspace's pin...
    super::pin::guard(p, who, op.as_str(), &format!("service:{}", prep.service)).await?;
    // ... the operation as a whole...
    let mut outcome = PolicyOutcome::default();
    outcome.decisions.push(policy_point::authorize_operation(
        p,
        who,
        &prep,
        op.as_str(),
        false,
    )?);
    if outcome.allowed() {
        check_service_repo(p, &prep).await?;
    }
    let explicit = resume.is_some();
    let resumed = match resume {
        Some(r) => Some(r),
        None => p.state.find_unfinished_run(&prep.key).await?,
    };
    // An unfinished run that a newer completed run of the service overtook would write its
    // older values over the newer ones (while stamps and state keep the newer): it is retired.
    // `resume` refuses it; the same request again starts afresh against the current state.
    // (Only for a caller the policy point lets through: an outsider's request changes nothing.)
    let resumed = match resumed {
        Some(r) if outcome.allowed() => match superseded_by(p, &r).await? {
            Some(newer) => {
                let err = Error::conflict(format!(
                    "run {} of {} was superseded by run {}, which started later and completed; \
                     resuming it would write its older values over newer ones. Send the request \
                     again to plan it against the current state",
                    r.id, r.service, newer.id
                ))
                .with("run", r.id.clone());
                p.state
                    .finish_run(&r.id, RunStatus::Superseded, None, Some(&err.to_json()))
                    .await?;
                let mut ev = policy_point::service_event(&prep, &r.operation, "superseded", "none");
                ev.correlation_id = r.id.clone();
                ev.details = serde_json::json!({"superseded_by": newer.id});
                policy_point::audit(p, &who.user, ev).await?;
                if explicit {
                    return Err(err);
                }
                None
            }
            None => Some(r),
        },
        other => other,
    };
    let recorded = match &resumed {
        Some(r) => p.state.steps(&r.id).await?,
        None => Vec::new(),
    };
    // Every step this run started is its own: completed, waiting for a review, or cut short
    // after its change request merged (a kill between the merge and the step's record).
    let applied: std::collections::BTreeSet<StepId> = recorded.iter().map(|s| s.step).collect();
    let done: HashMap<StepId, StepReceipt> = recorded
        .into_iter()
        .filter(|s| s.status == RunStatus::Completed)
        .filter_map(|s| Some((s.step, serde_json::from_value(s.result?).ok()?)))
        .collect();
    let remaining: Vec<StepId> = prep
        .steps
        .iter()
        .copied()
        .filter(|s| !done.contains_key(s))
        .collect();
    // ... then every change set it would make.
    let plans = if outcome.allowed() {
        plan_steps(p, &prep, &remaining, false).await?
    } else {
        Vec::new()
    };
    if outcome.allowed() {
        let sets: Vec<ChangeSet> = plans.iter().map(|pl| pl.cs.clone()).collect();
        // Steps this run already applied (before an interruption, or waiting for a review)
        // are part of the same first deploy, not an earlier one.
        let checked =
            policy_point::check_change_sets(p, who, &prep, &sets, false, &applied).await?;
        outcome.decisions.extend(checked.decisions);
        outcome.violations.extend(checked.violations);
    }
    if let Some(err) = outcome.error(who, &prep.service) {
        let verdict = if err.kind() == crate::ErrorKind::Denied {
            ("deny", "denied")
        } else {
            ("allow", "blocked")
        };
        let mut ev = policy_point::service_event(&prep, op.as_str(), verdict.1, verdict.0);
        ev.policies = outcome.policy_ids();
        ev.waivers = outcome.waiver_ids();
        ev.details = policy_point::outcome_details(&outcome);
        ev.correlation_id = resumed.as_ref().map(|r| r.id.clone()).unwrap_or_default();
        policy_point::audit(p, &who.user, ev).await?;
        return Err(err);
    }

    let is_resume = resumed.is_some();
    let run = match resumed {
        Some(mut r) => {
            p.emit(
                &r.id,
                None,
                format!("resuming run {} ({})", r.id, r.operation),
            );
            if r.status != RunStatus::Running {
                // A failed or cancelled run goes on under its own id; its completed steps stay.
                p.state
                    .finish_run(&r.id, RunStatus::Running, None, None)
                    .await?;
                r.status = RunStatus::Running;
            }
            r
        }
        None => {
            let now = p.now_text();
            let r = RunRecord {
                id: new_run_id(),
                key: prep.key.clone(),
                operation: op.as_str().to_string(),
                service: prep.service.clone(),
                principal: who.user.clone(),
                request: prep.request_redacted.clone(),
                has_secrets: prep.has_secrets,
                status: RunStatus::Running,
                created_at: now.clone(),
                updated_at: now,
                receipt: None,
                error: None,
                face: p.face().to_string(),
            };
            p.state.create_run(&r).await?;
            p.emit(
                &r.id,
                None,
                format!("run {} started: {} for {}", r.id, op, prep.service),
            );
            r
        }
    };
    failpoint::hit("run:created");
    // Recorded before the first commit, so a run killed after committing still has its record
    // (with the decisions that allowed it) even if it is never resumed.
    let mut ev = policy_point::service_event(
        &prep,
        op.as_str(),
        if is_resume { "resumed" } else { "started" },
        "allow",
    );
    ev.policies = outcome.policy_ids();
    ev.waivers = outcome.waiver_ids();
    ev.correlation_id = run.id.clone();
    ev.details = serde_json::json!({"decisions": outcome.decisions, "steps": remaining});
    policy_point::audit(p, &who.user, ev).await?;

    let mut by_step: HashMap<StepId, StepPlan> =
        plans.into_iter().map(|pl| (pl.cs.step, pl)).collect();
    let mut steps = Vec::new();
    for step in &prep.steps {
        if let Some(r) = done.get(step) {
            p.emit(
                &run.id,
                Some(*step),
                format!("{step}: completed before the interruption"),
            );
            steps.push(r.clone());
            continue;
        }
        let plan = by_step
            .remove(step)
            .ok_or_else(|| Error::internal(format!("no plan for step {step}")))?;
        if p.cancelled() {
            return Err(cancel_run(p, who, &prep, &run, *step, &outcome).await);
        }
        failpoint::hit(&format!("step:{step}:planned"));
        p.state
            .save_step(
                &run.id,
                &StepRecord {
                    step: *step,
                    status: RunStatus::Running,
                    result: None,
                },
            )
            .await?;
        let result = match apply_step(p, &prep, &run, who, &plan, &outcome).await {
            Ok(r) => r,
            Err(e) => {
                p.state
                    .finish_run(&run.id, RunStatus::Failed, None, Some(&e.to_json()))
                    .await?;
                let mut ev = policy_point::service_event(&prep, op.as_str(), "failed", "allow");
                ev.policies = outcome.policy_ids();
                ev.correlation_id = run.id.clone();
                ev.details = serde_json::json!({"step": step, "error": {"kind": e.kind().as_str(), "message": e.message()}});
                policy_point::audit(p, &who.user, ev).await?;
                return Err(e);
            }
        };
        // A change request left open (or closed) is not done: a resume looks at it again.
        let review = result
            .change_request
            .as_ref()
            .filter(|c| {
                matches!(
                    c.state,
                    ChangeRequestState::Open | ChangeRequestState::Closed
                )
            })
            .cloned();
        p.state
            .save_step(
                &run.id,
                &StepRecord {
                    step: *step,
                    status: if review.is_some() {
                        RunStatus::Waiting
                    } else {
                        RunStatus::Completed
                    },
                    result: Some(serde_json::to_value(&result)?),
                },
            )
            .await?;
        failpoint::hit(&format!("step:{step}:recorded"));
        steps.push(result);
        if let Some(cr) = review {
            return stop_for_review(p, who, &prep, &run, steps, &cr, &outcome).await;
        }
    }
    let receipt = build_receipt(p, &prep, &run, steps);
    let mut ev = policy_point::service_event(&prep, op.as_str(), "completed", "allow");
    ev.policies = outcome.policy_ids();
    ev.waivers = outcome.waiver_ids();
    ev.correlation_id = run.id.clone();
    ev.artifacts = receipt
        .steps
        .iter()
        .flat_map(|s| s.artifacts.iter())
        .map(|a| serde_json::json!({"repo": a.repo, "path": a.path, "sha256": a.sha256}))
        .collect();
    ev.details = serde_json::json!({
        "decisions": outcome.decisions,
        "change_requests": receipt.steps.iter().filter_map(|s| s.change_request.as_ref().map(|c| &c.id)).collect::<Vec<_>>(),
    });
    policy_point::audit(p, &who.user, ev).await?;
    p.state
        .finish_run(
            &run.id,
            RunStatus::Completed,
            Some(&receipt.to_json()),
            None,
        )
        .await?;
    p.emit(&run.id, None, format!("run {} completed", run.id));
    Ok(receipt)
}

/// Ends a run at a change request a person has to decide on. Open: the run waits (status
/// `waiting`, the receipt lists the change request to review); once it is merged, `resume` or
/// the same request again goes on from the next step. Closed without merging: the run is
/// rejected, and the error says so.
async fn stop_for_review(
    p: &Platform,
    who: &Principal,
    prep: &Prepared,
    run: &RunRecord,
    steps: Vec<StepReceipt>,
    cr: &ChangeRequestRef,
    outcome: &PolicyOutcome,
) -> Result<Receipt> {
    let step = steps.last().map(|s| s.step);
    let rejected = cr.state == ChangeRequestState::Closed;
    let mut receipt = build_receipt(p, prep, run, steps);
    receipt.status = if rejected {
        RunStatus::Rejected
    } else {
        RunStatus::Waiting
    };
    let verb = if rejected { "rejected" } else { "waiting" };
    let mut ev = policy_point::service_event(prep, &run.operation, verb, "allow");
    ev.policies = outcome.policy_ids();
    ev.correlation_id = run.id.clone();
    ev.details = serde_json::json!({"step": step, "change_request": {"id": cr.id, "url": cr.url, "state": cr.state}});
    policy_point::audit(p, &who.user, ev).await?;
    if rejected {
        let err = Error::conflict(format!(
            "change request {} ({}) was closed without merging: run {} of {} for {} is rejected. \
             Send the request again to open a new one",
            cr.id, cr.url, run.id, run.operation, prep.service
        ))
        .with("run", run.id.clone())
        .with("change_request", cr.url.clone())
        .with_retryable(false);
        p.state
            .finish_run(
                &run.id,
                RunStatus::Rejected,
                Some(&receipt.to_json()),
                Some(&err.to_json()),
            )
            .await?;
        p.emit(
            &run.id,
            step,
            format!("run {} rejected: {} was closed", run.id, cr.url),
        );
        return Err(err);
    }
    p.state
        .finish_run(&run.id, RunStatus::Waiting, Some(&receipt.to_json()), None)
        .await?;
    p.emit(
        &run.id,
        step,
        format!(
            "waiting for review: {}; once it is merged, `idp resume {}` goes on",
            cr.url, run.id
        ),
    );
    Ok(receipt)
}

/// The newest completed run of the same service that started after `run`, if any.
async fn superseded_by(p: &Platform, run: &RunRecord) -> Result<Option<RunRecord>> {
    Ok(p.state
        .list_runs(Some(&run.service), usize::MAX)
        .await?
        .into_iter()
        .find(|r| {
            r.id != run.id && r.status == RunStatus::Completed && r.created_at > run.created_at
        }))
}

/// Stops `run` before `step` because its caller cancelled it: the run is recorded as
/// `cancelled` (resumable) and audited; the returned error says how to finish it.
async fn cancel_run(
    p: &Platform,
    who: &Principal,
    prep: &Prepared,
    run: &RunRecord,
    step: StepId,
    outcome: &PolicyOutcome,
) -> Error {
    let err = Error::cancelled(format!(
        "run {} of {} for {} was cancelled before {step}; the steps before it are done. \
         `idp resume {}` (or the same request again) finishes it",
        run.id, run.operation, prep.service, run.id
    ))
    .with("run", run.id.clone());
    let recorded = async {
        p.state
            .finish_run(&run.id, RunStatus::Cancelled, None, Some(&err.to_json()))
            .await?;
        let mut ev = policy_point::service_event(prep, &run.operation, "cancelled", "allow");
        ev.policies = outcome.policy_ids();
        ev.correlation_id = run.id.clone();
        ev.details = serde_json::json!({"before_step": step});
        policy_point::audit(p, &who.user, ev).await
    };
    if let Err(e) = recorded.await {
        return e;
    }
    p.emit(&run.id, Some(step), format!("run {} cancelled", run.id));
    err
}

fn build_receipt(
    p: &Platform,
    prep: &Prepared,
    run: &RunRecord,
    steps: Vec<StepReceipt>,
) -> Receipt {
    let mut links = BTreeMap::new();
    let mut warnings = Vec::new();
    for s in &steps {
        let role = prep
            .gp
            .step(s.step)
            .map(|d| d.repo.as_str())
            .unwrap_or("infra");
        links.insert(format!("{role}_repo"), p.scm.repo_url(&s.repo));
        if let Some(cr) = &s.change_request {
            links.insert(format!("change_request:{}", cr.id), cr.url.clone());
        }
        if let Some(Value::Array(ws)) = s.outputs.get("warnings") {
            warnings.extend(ws.iter().filter_map(|w| w.as_str().map(str::to_string)));
        }
    }
    Receipt {
        run_id: run.id.clone(),
        operation: prep.op,
        service: prep.service.clone(),
        owner: prep.team.name.clone(),
        golden_path: prep.gp.def.id.clone(),
        scaffold_version: prep.gp.def.version.clone(),
        status: RunStatus::Completed,
        started_at: run.created_at.clone(),
        finished_at: p.now_text(),
        steps,
        links,
        warnings,
    }
}

/// `run-20261126T103000-1a2b3c4d`: sortable by start time, unique by its random tail.
fn new_run_id() -> String {
    format!(
        "run-{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S"),
        crate::digest::random_hex(4)
    )
}

pub(crate) async fn plan(
    p: &Platform,
    who: &Principal,
    op: Operation,
    req: &ServiceRequest,
) -> Result<Plan> {
    let prep = prepare_audited(p, who, "plan", op, req).await?;
    let first = policy_point::authorize_operation(p, who, &prep, "plan", true)?;
    if !first.allowed {
        let outcome = PolicyOutcome {
            decisions: vec![first],
            violations: vec![],
        };
        let err = outcome
            .error(who, &prep.service)
            .expect("a denial is an error");
        let mut ev = policy_point::service_event(&prep, "plan", "denied", "deny");
        ev.details = serde_json::json!({"operation": op.as_str(), "decisions": outcome.decisions});
        policy_point::audit(p, &who.user, ev).await?;
        return Err(err);
    }
    check_service_repo(p, &prep).await?;
    let plans = plan_steps(p, &prep, &prep.steps, true).await?;
    let sets: Vec<ChangeSet> = plans.iter().map(|pl| pl.cs.clone()).collect();
    let mut outcome = PolicyOutcome::default();
    outcome.decisions.push(first);
    outcome.decisions.push(policy_point::authorize_operation(
        p,
        who,
        &prep,
        op.as_str(),
        true,
    )?);
    let checked =
        policy_point::check_change_sets(p, who, &prep, &sets, true, &Default::default()).await?;
    outcome.decisions.extend(checked.decisions);
    outcome.violations.extend(checked.violations);
    let mut warnings: Vec<String> = plans
        .iter()
        .flat_map(|pl| pl.warnings.iter().cloned())
        .collect();
    warnings.extend(
        outcome
            .violations
            .iter()
            .filter(|v| v.severity == crate::policy::Enforcement::Warn)
            .map(|v| format!("{}:{}: {} [{}]", v.repo, v.path, v.message, v.rule)),
    );
    let mut ev = policy_point::service_event(&prep, "plan", "planned", "allow");
    ev.policies = outcome.policy_ids();
    ev.details = serde_json::json!({"operation": op.as_str(), "allowed": outcome.allowed(), "decisions": outcome.decisions});
    policy_point::audit(p, &who.user, ev).await?;
    Ok(Plan {
        operation: op,
        service: prep.service.clone(),
        owner: prep.team.name.clone(),
        golden_path: prep.gp.def.id.clone(),
        scaffold_version: prep.gp.def.version.clone(),
        parameters: Value::Object(prep.gp.schema.redact(&prep.params)),
        change_sets: sets,
        warnings,
        allowed: outcome.allowed(),
        decisions: outcome.decisions,
        violations: outcome.violations,
    })
}

pub(crate) async fn resume(p: &Platform, who: &Principal, run_id: &str) -> Result<Receipt> {
    let run = p.state.get_run(run_id).await?.ok_or_else(|| {
        Error::not_found(format!(
            "run {} does not exist; `idp runs` lists runs",
            crate::naming::shown(run_id)
        ))
    })?;
    if run.status == RunStatus::Completed {
        // Reading a finished run's receipt is reading the service: the owning team and admins.
        let owner = run
            .request
            .get("owner")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let d = p.authorize(&crate::policy::AuthzRequest {
            principal: who.clone(),
            action: "plan".into(),
            resource: crate::policy::AuthzResource::Service {
                name: run.service.clone(),
                owner,
                golden_path: String::new(),
            },
            context: Default::default(),
        })?;
        if !d.allowed {
            policy_point::audit(
                p,
                &who.user,
                crate::audit::AuditEvent {
                    operation: "resume".into(),
                    resource: format!("service:{}", run.service),
                    decision: "deny".into(),
                    outcome: "denied".into(),
                    correlation_id: run.id.clone(),
                    ..Default::default()
                },
            )
            .await?;
            return Err(Error::new(
                crate::ErrorKind::Denied,
                format!("{} may not read run {run_id} of {}", who.user, run.service),
            ));
        }
        let r = run
            .receipt
            .ok_or_else(|| Error::internal(format!("run {run_id} completed without a receipt")))?;
        return Ok(serde_json::from_value(r)?);
    }
    if run.has_secrets {
        return Err(Error::invalid(format!(
            "run {run_id} had write-only parameters, which idp never stores; repeat the original request to resume it"
        )));
    }
    let op = Operation::parse(&run.operation)?;
    let req = ServiceRequest::from_json(run.request.clone())?;
    execute(p, who, op, &req, Some(run)).await
}
