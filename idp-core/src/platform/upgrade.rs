//! Upgrades on the platform: one service, or the whole fleet, to a newer golden-path version.
//! Each repo of a service moves in one commit on a branch with a change request, or not at all;
//! a change request with conflicts stays open (never auto-merged) for the team to resolve.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::policy_point::{self, DecisionRecord, PolicyOutcome};
use super::service::{STAMPED_ROLES, stamp_path_for};
use super::{Platform, prepare};
use crate::changeset::unified_diff;
use crate::digest::sha256_hex;
use crate::error::{Error, Result};
use crate::golden_path::{
    GoldenPath, Ownership, RenderedFile, RepoRole, StepId, Version, build_context,
};
use crate::org::{Principal, Team};
use crate::policy::{
    AuthzContext, AuthzRequest, AuthzResource, GuardContext, GuardedFile, Violation,
};
use crate::providers::{ChangeRequestSpec, Signature};
use crate::receipt::ChangeRequestRef;
use crate::scaffold::upgrade::{FileUpgrade, Hop, RepoBefore, UpgradeAction, plan_repo};
use crate::scaffold::{STAMP_SCHEMA, Stamp, StampFile};
use crate::state::ServiceRecord;

/// What to upgrade.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpgradeRequest {
    pub service: String,
    /// Target version (default: the latest).
    #[serde(default)]
    pub to: Option<String>,
    /// Keep local edits of platform-managed files instead of replacing them.
    #[serde(default)]
    pub keep: bool,
}

/// Which services a fleet upgrade covers.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FleetUpgradeRequest {
    #[serde(default)]
    pub to: Option<String>,
    /// Only services of this team.
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub keep: bool,
}

/// How an upgrade ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UpgradeStatus {
    /// Already at the target version: nothing to do.
    UpToDate,
    /// A plan: nothing was written.
    Planned,
    /// Upgraded cleanly (merged, or open for review when the provider does not auto-merge).
    Upgraded,
    /// Upgraded with conflicts: the change request is open with conflict markers to resolve.
    Conflicts,
}

/// The result of upgrading one service.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UpgradeResult {
    pub service: String,
    pub owner: String,
    pub golden_path: String,
    pub from: String,
    pub to: String,
    /// Every version stepped through, in order.
    pub versions: Vec<String>,
    pub status: UpgradeStatus,
    /// Every file the upgrade changes or deliberately leaves alone (unchanged files omitted).
    pub files: Vec<FileUpgrade>,
    /// `repo:path` of every file with conflicts.
    pub conflicts: Vec<String>,
    pub change_requests: Vec<ChangeRequestRef>,
    pub decisions: Vec<DecisionRecord>,
    pub violations: Vec<Violation>,
    pub warnings: Vec<String>,
}

/// One row of a fleet upgrade.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FleetUpgradeRow {
    pub service: String,
    pub owner: String,
    pub from: String,
    pub to: String,
    /// `up_to_date`, `planned`, `upgraded`, `conflicts`, or `failed`.
    pub outcome: String,
    pub conflicts: usize,
    pub change_requests: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A fleet upgrade: one row per service, in name order.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FleetUpgradeReport {
    pub rows: Vec<FleetUpgradeRow>,
    pub upgraded: usize,
    pub conflicts: usize,
    pub failed: usize,
    pub up_to_date: usize,
}

/// One service in `idp fleet`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FleetRow {
    pub service: String,
    pub owner: String,
    pub golden_path: String,
    pub version: String,
    pub latest: String,
    /// How many released versions it is behind.
    pub behind: usize,
    /// Platform-managed files edited in the repo (`repo:path`).
    pub managed_edits: Vec<String>,
    /// Files idp wrote that the team deleted (`repo:path`).
    pub deleted: Vec<String>,
    /// Merged files whose team edits differ from what idp renders for the service's current
    /// parameters, with where (`repo:path: /key, /key` or line ranges).
    #[serde(default)]
    pub drift: Vec<String>,
}

struct RepoPlan {
    role: RepoRole,
    repo: String,
    from: Version,
    files: Vec<FileUpgrade>,
    theirs: Vec<Vec<RenderedFile>>,
}

impl Platform {
    /// Upgrades `req.service` to `req.to` (default: the latest version). With `plan`, returns
    /// what would happen, with diffs, and writes nothing.
    pub async fn upgrade(
        &self,
        who: &Principal,
        req: &UpgradeRequest,
        plan: bool,
    ) -> Result<UpgradeResult> {
        crate::golden_path::params::check_string("service", &req.service, false)?;
        self.def.config.check_service_name(&req.service)?;
        let _lock = if plan {
            None
        } else {
            Some(super::engine::lock_service(self, &req.service).await?)
        };
        let state = self.service_state(&req.service).await?.ok_or_else(|| {
            Error::not_found(format!("idp has no service called {}", req.service))
                .with("field", "service")
        })?;
        let rec = state.record;
        let versions = self.def.golden_paths.get(&rec.golden_path).ok_or_else(|| {
            Error::not_found(format!(
                "golden path {} is no longer in the platform",
                rec.golden_path
            ))
        })?;
        let target = match &req.to {
            Some(v) => self.def.golden_path(Some(&rec.golden_path), Some(v))?,
            None => versions
                .values()
                .next_back()
                .expect("a golden path has a version")
                .clone(),
        };
        let team = self
            .def
            .directory
            .team(&rec.owner)
            .cloned()
            .ok_or_else(|| {
                Error::not_found(format!(
                    "owner team {} of {} is not in the org directory",
                    rec.owner, req.service
                ))
            })?;
        let resolutions: Vec<crate::intent::Resolution> =
            match self.state.get_infra(&req.service).await? {
                Some((_, r)) => serde_json::from_value(r).unwrap_or_default(),
                None => Vec::new(),
            };
        let mut bindings: BTreeMap<String, Vec<crate::intent::Binding>> = BTreeMap::new();
        for r in &resolutions {
            bindings
                .entry(r.environment.clone())
                .or_default()
                .extend(r.bindings.iter().cloned());
        }
        let repo_urls: Vec<(&str, String, String)> =
            [RepoRole::Service, RepoRole::Gitops, RepoRole::Infra]
                .into_iter()
                .map(|role| {
                    let name = prepare::repo_name_for(self, role, &req.service);
                    let url = prepare::remote_url(self, &name);
                    (role.as_str(), name, url)
                })
                .collect();

        let mut plans = Vec::new();
        let mut from_version: Option<Version> = None;
        let mut stepped: BTreeSet<Version> = BTreeSet::new();
        let mut params_to = serde_json::Map::new();
        // The stamps the service's state was read with, when they are at the target's paths.
        let mut known = (state.stamps_at.as_deref() == Some(target.def.version.as_str()))
            .then_some(state.stamps);
        for role in STAMPED_ROLES {
            let found = match known.as_mut() {
                Some(stamps) => stamps
                    .iter()
                    .position(|(r, ..)| *r == role)
                    .map(|i| stamps.swap_remove(i))
                    .map(|(_, repo, path, stamp)| (repo, path, stamp)),
                None => self.read_stamp(&target, role, &req.service).await?,
            };
            let Some((repo, _path, stamp)) = found else {
                continue;
            };
            let from = Version::parse(&stamp.scaffold_version).ok_or_else(|| {
                Error::invalid(format!(
                    "{repo}: stamp version {} is not X.Y.Z",
                    stamp.scaffold_version
                ))
            })?;
            from_version = Some(from_version.map_or(from, |f: Version| f.min(from)));
            if from > target.version {
                return Err(Error::conflict(format!(
                    "{} is at {from} in {repo}, newer than {}; downgrades are not supported",
                    req.service, target.version
                )));
            }
            let hops_gp: Vec<Arc<GoldenPath>> = versions
                .range((Bound::Excluded(from), Bound::Included(target.version)))
                .map(|(_, gp)| gp.clone())
                .collect();
            if hops_gp.is_empty() {
                continue;
            }
            let applied: BTreeSet<StepId> = stamp.files.values().map(|f| f.step).collect();
            let stored: serde_json::Map<String, Value> = match &stamp.parameters {
                Value::Object(m) => m
                    .iter()
                    .filter(|(_, v)| v.as_str() != Some("***"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                _ => Default::default(),
            };
            let mut theirs_all = Vec::new();
            let mut migrations_all = Vec::new();
            let mut env_overrides = BTreeMap::new();
            let mut prev = from;
            for gp in &hops_gp {
                stepped.insert(gp.version);
                let given: serde_json::Map<String, Value> = stored
                    .iter()
                    .filter(|(k, _)| gp.def.parameters["properties"].get(k.as_str()).is_some())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let doesnt_fit = |e: Error| {
                    Error::invalid(format!(
                        "{}'s parameters do not fit {}: {e}",
                        req.service,
                        gp.id_version()
                    ))
                };
                let params = gp.schema.resolve(&given).map_err(doesnt_fit)?;
                // Values of single environments come along, for the parameters the version has.
                env_overrides = stamp
                    .environments
                    .iter()
                    .map(|(env, values)| {
                        let kept: crate::golden_path::Parameters = values
                            .iter()
                            .filter(|(k, _)| {
                                gp.def.parameters["properties"].get(k.as_str()).is_some()
                            })
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        (env.clone(), kept)
                    })
                    .filter(|(_, kept)| !kept.is_empty())
                    .collect();
                let env_params = gp
                    .environment_parameters(&self.def.config, &given, &env_overrides)
                    .map_err(doesnt_fit)?;
                let ctx = build_context(
                    &self.def.config,
                    &team,
                    gp,
                    &req.service,
                    &params,
                    &env_params,
                    &repo_urls,
                    &bindings,
                );
                let mut theirs = Vec::new();
                for step in StepId::ORDER {
                    if applied.contains(&step) && gp.step(step).is_some_and(|d| d.repo == role) {
                        theirs.extend(gp.render_step(step, &ctx)?);
                    }
                }
                migrations_all.push(gp.migrations_from(&prev, role, &ctx)?);
                theirs_all.push(theirs);
                prev = gp.version;
                params_to = gp.schema.redact(&params);
            }
            let mut paths: BTreeSet<String> = stamp.files.keys().cloned().collect();
            for t in &theirs_all {
                paths.extend(t.iter().map(|f| f.path.clone()));
            }
            for ms in &migrations_all {
                for m in ms {
                    match m {
                        crate::golden_path::Migration::Rename { from, to } => {
                            paths.insert(from.clone());
                            paths.insert(to.clone());
                        }
                        crate::golden_path::Migration::Delete { path } => {
                            paths.insert(path.clone());
                        }
                        crate::golden_path::Migration::Set { file, .. } => {
                            paths.insert(file.clone());
                        }
                    }
                }
            }
            let stamp_path = stamp_path_for(&self.def.config, &target, role, &req.service)
                .expect("target has a stamp for this repo");
            // The stamp as it is in the repo (to skip rewriting it unchanged) in the same read.
            let mut paths: Vec<String> = paths.into_iter().collect();
            paths.push(stamp_path.clone());
            let mut current = self.scm.read_files(&repo, None, &paths).await?;
            let old_stamp = current.pop().flatten();
            paths.pop();
            let ours: BTreeMap<String, Vec<u8>> = paths
                .iter()
                .cloned()
                .zip(current)
                .filter_map(|(p, c)| c.map(|c| (p, c)))
                .collect();
            let mut base = BTreeMap::new();
            for (p, e) in &stamp.files {
                base.insert(
                    p.clone(),
                    (self.state.get_blob(&e.sha256).await?, e.ownership),
                );
            }
            let hops: Vec<Hop<'_>> = hops_gp
                .iter()
                .zip(&theirs_all)
                .zip(migrations_all)
                .map(|((gp, theirs), migrations)| Hop {
                    label: format!("theirs ({})", gp.id_version()),
                    migrations,
                    theirs,
                    keys: &gp.merge_keys,
                })
                .collect();
            let mut files = plan_repo(
                &repo,
                &RepoBefore {
                    ours: ours.clone(),
                    base,
                },
                &hops,
                req.keep,
            );
            // The new stamp: what the target version renders, as rendered (the next merge base).
            let last = theirs_all.last().expect("at least one hop");
            let new_stamp = Stamp {
                schema: STAMP_SCHEMA,
                golden_path_id: target.def.id.clone(),
                scaffold_version: target.def.version.clone(),
                service: req.service.clone(),
                owner: team.name.clone(),
                parameters: Value::Object(params_to.clone()),
                environments: env_overrides,
                files: last
                    .iter()
                    .map(|f| {
                        let step = stamp
                            .files
                            .get(&f.path)
                            .map(|e| e.step)
                            .or_else(|| {
                                applied.iter().copied().find(|s| {
                                    target.step(*s).is_some_and(|d| {
                                        d.files.iter().any(|x| f.provenance.ends_with(&x.template))
                                    })
                                })
                            })
                            .unwrap_or(StepId::BootstrapService);
                        (f.path.clone(), StampFile::rendered(f, step))
                    })
                    .collect(),
            };
            let stamp_bytes = Arc::new(new_stamp.to_bytes());
            files.retain(|f| f.path != stamp_path);
            if old_stamp.as_deref() != Some(stamp_bytes.as_slice()) {
                files.push(FileUpgrade {
                    repo: repo.clone(),
                    path: stamp_path,
                    action: UpgradeAction::Replace,
                    ownership: None,
                    renamed_from: None,
                    conflicts: 0,
                    note: Some(format!("scaffold stamp now at {}", target.def.version)),
                    diff: None,
                    content: Some(stamp_bytes),
                    environment: None,
                });
            }
            if plan {
                for f in &mut files {
                    if f.writes() {
                        let cur = ours.get(&f.path).map(Vec::as_slice);
                        f.diff = Some(unified_diff(
                            &f.path,
                            cur,
                            f.content.as_deref().map(Vec::as_slice),
                        ));
                    }
                }
            }
            plans.push(RepoPlan {
                role,
                repo,
                from,
                files,
                theirs: theirs_all,
            });
        }

        let from = from_version
            .map(|v| v.to_string())
            .unwrap_or_else(|| rec.version.clone());
        let mut result = UpgradeResult {
            service: req.service.clone(),
            owner: team.name.clone(),
            golden_path: rec.golden_path.clone(),
            from,
            to: target.def.version.clone(),
            versions: stepped.iter().map(|v| v.to_string()).collect(),
            status: UpgradeStatus::UpToDate,
            files: Vec::new(),
            conflicts: Vec::new(),
            change_requests: Vec::new(),
            decisions: Vec::new(),
            violations: Vec::new(),
            warnings: Vec::new(),
        };
        let writes_any = plans
            .iter()
            .any(|p| p.files.iter().any(FileUpgrade::writes));
        for p in &plans {
            for f in &p.files {
                if f.action == UpgradeAction::Conflict {
                    result.conflicts.push(format!("{}:{}", f.repo, f.path));
                }
                if f.note
                    .as_deref()
                    .is_some_and(|n| n.starts_with("a local edit"))
                {
                    result.warnings.push(format!(
                        "{}:{}: {}",
                        f.repo,
                        f.path,
                        f.note.as_deref().unwrap_or("")
                    ));
                }
            }
        }

        // The policy point: the operation, every environment it writes to, the guardrails.
        let outcome = self
            .check_upgrade(who, &req.service, &team, &rec, &plans, plan)
            .await?;
        result.decisions = outcome.decisions.clone();
        result.violations = outcome.violations.clone();
        let audit_base = |outcome_name: &str, decision: &str| crate::audit::AuditEvent {
            operation: "upgrade".into(),
            resource: format!("service:{}", req.service),
            input_digest: sha256_hex(serde_json::to_string(req).unwrap_or_default().as_bytes()),
            decision: decision.into(),
            policies: outcome.policy_ids(),
            waivers: outcome.waiver_ids(),
            outcome: outcome_name.into(),
            ..Default::default()
        };
        if let Some(err) = outcome.error(who, &req.service) {
            let denied = err.kind() == crate::ErrorKind::Denied;
            let mut ev = audit_base(
                if denied { "denied" } else { "blocked" },
                if denied { "deny" } else { "allow" },
            );
            ev.details = policy_point::outcome_details(&outcome);
            policy_point::audit(self, &who.user, ev).await?;
            // A plan shows what the policy point would decide; only a refusal to plan at all stops it.
            if !plan || !outcome.decisions.first().is_some_and(|d| d.allowed) {
                return Err(err);
            }
        }
        result.files = plans
            .iter()
            .flat_map(|p| {
                p.files
                    .iter()
                    .filter(|f| f.action != UpgradeAction::Unchanged)
                    .cloned()
            })
            .collect();
        if plan {
            result.status = if writes_any {
                UpgradeStatus::Planned
            } else {
                UpgradeStatus::UpToDate
            };
            let mut ev = audit_base("planned", "allow");
            ev.details = serde_json::json!({"from": result.from, "to": result.to, "files": result.files.len()});
            policy_point::audit(self, &who.user, ev).await?;
            return Ok(result);
        }
        if !writes_any {
            return Ok(result);
        }

        // The renders the stamps now name (the next upgrade's merge base), every repo's at once.
        let blobs: Vec<(String, Arc<Vec<u8>>)> = plans
            .iter()
            .filter(|p| p.files.iter().any(FileUpgrade::writes))
            .flat_map(|p| p.theirs.iter().flatten())
            .map(|f| (sha256_hex(&f.content), f.content.clone()))
            .collect();
        self.state.put_blobs(&blobs).await?;
        let bot = &self.def.config.organization.bot;
        let mut all_merged = true;
        for p in &plans {
            let writes: Vec<(String, Option<Arc<Vec<u8>>>)> = p
                .files
                .iter()
                .filter(|f| f.writes())
                .map(|f| (f.path.clone(), f.content.clone()))
                .collect();
            if writes.is_empty() {
                continue;
            }
            let conflicted = p
                .files
                .iter()
                .filter(|f| f.action == UpgradeAction::Conflict)
                .count();
            let digest = sha256_hex(
                writes
                    .iter()
                    .map(|(p, c)| {
                        format!(
                            "{p}\0{}\n",
                            c.as_deref().map(|c| sha256_hex(c)).unwrap_or_default()
                        )
                    })
                    .collect::<String>()
                    .as_bytes(),
            );
            let mut body = format!(
                "Upgrade {} from {}@{} to {}.\n\n",
                req.service,
                rec.golden_path,
                p.from,
                target.id_version()
            );
            for f in p.files.iter().filter(|f| f.writes()) {
                body.push_str(&format!(
                    "- {:?} `{}`{}\n",
                    f.action,
                    f.path,
                    f.note
                        .as_deref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default()
                ));
            }
            if conflicted > 0 {
                body.push_str("\nConflicts are marked with <<<<<<< ours / >>>>>>> theirs: resolve them on this branch and merge.\n");
            } else if !result.conflicts.is_empty() {
                // The service moves as a whole: merging this alone would leave its repos at two
                // versions, and idp refuses to write to a service in that state.
                body.push_str(&format!(
                    "\nHeld open: the upgrade has conflicts in {}. Merge this change request once those are resolved and merged (or run `idp upgrade {}` then).\n",
                    result.conflicts.join(", "),
                    req.service
                ));
            }
            let spec = ChangeRequestSpec {
                key: format!(
                    "upgrade:{}:{}:{}:{}:{}",
                    req.service,
                    p.repo,
                    p.from,
                    target.def.version,
                    &digest[..16]
                ),
                repo: p.repo.clone(),
                branch: format!("idp/{}/upgrade-{}", req.service, target.def.version),
                title: format!("idp: upgrade {} to {}", req.service, target.id_version()),
                body,
                files: writes,
                author: Signature {
                    name: bot.name.clone(),
                    email: bot.email.clone(),
                },
                committer: Signature {
                    name: bot.name.clone(),
                    email: bot.email.clone(),
                },
                trailers: vec![
                    ("Idp-Requested-By".into(), who.user.clone()),
                    (
                        "Idp-Upgrade".into(),
                        format!("{} -> {}", p.from, target.def.version),
                    ),
                    ("Idp-Role".into(), p.role.as_str().into()),
                ],
                hold: !result.conflicts.is_empty(),
            };
            let out = self.scm.submit(&spec).await?;
            crate::failpoint::hit("upgrade:submitted");
            if out.state != crate::receipt::ChangeRequestState::Merged {
                all_merged = false;
            }
            if !out.id.is_empty() {
                result.change_requests.push(ChangeRequestRef {
                    id: out.id,
                    repo: p.repo.clone(),
                    branch: out.branch,
                    commit: out.commit,
                    url: out.url,
                    state: out.state,
                });
            }
        }
        result.status = if result.conflicts.is_empty() {
            UpgradeStatus::Upgraded
        } else {
            UpgradeStatus::Conflicts
        };
        if all_merged && result.conflicts.is_empty() {
            self.state
                .put_service(&ServiceRecord {
                    version: target.def.version.clone(),
                    parameters: Value::Object(params_to),
                    updated_at: self.now_text(),
                    ..rec.clone()
                })
                .await?;
        }
        let mut ev = audit_base(
            if result.conflicts.is_empty() {
                "completed"
            } else {
                "conflicts"
            },
            "allow",
        );
        ev.artifacts = result
            .files
            .iter()
            .filter(|f| f.writes())
            .map(|f| serde_json::json!({"repo": f.repo, "path": f.path, "sha256": f.content.as_deref().map(|c| sha256_hex(c))}))
            .collect();
        ev.details = serde_json::json!({
            "from": result.from, "to": result.to, "conflicts": result.conflicts,
            "change_requests": result.change_requests.iter().map(|c| &c.id).collect::<Vec<_>>(),
            "decisions": result.decisions,
        });
        policy_point::audit(self, &who.user, ev).await?;
        Ok(result)
    }

    async fn check_upgrade(
        &self,
        who: &Principal,
        service: &str,
        team: &Team,
        rec: &ServiceRecord,
        plans: &[RepoPlan],
        dry_run: bool,
    ) -> Result<PolicyOutcome> {
        let mut out = PolicyOutcome::default();
        let resource = AuthzResource::Service {
            name: service.into(),
            owner: team.name.clone(),
            golden_path: rec.golden_path.clone(),
        };
        if !dry_run {
            super::pin::guard(self, who, "upgrade", &format!("service:{service}")).await?;
        }
        let now = self.now_text();
        let waivers: Vec<crate::policy::Waiver> = self
            .state
            .list_waivers(Some(service))
            .await?
            .into_iter()
            .filter(|w| w.is_valid(&now))
            .collect();
        let decide = |env: Option<&str>| -> Result<DecisionRecord> {
            let facts = env.and_then(|e| self.def.config.environment(e)).map(|e| {
                crate::policy::authz::EnvFacts {
                    protected: e.protected,
                    kind: e.env_type.clone(),
                }
            });
            let approval = env.and_then(|e| {
                waivers.iter().find(|w| {
                    w.covers(
                        crate::policy::waivers::PROTECTED_ENVIRONMENT,
                        service,
                        Some(e),
                        &["upgrade"],
                    )
                })
            });
            let req = AuthzRequest {
                principal: who.clone(),
                action: "upgrade".into(),
                resource: resource.clone(),
                context: AuthzContext {
                    environment: env.map(str::to_string),
                    approved: approval.is_some(),
                    dry_run,
                    operation: Some("upgrade".into()),
                    time: Some(self.request_time()),
                    ..Default::default()
                },
            };
            let d = self
                .def
                .authz
                .decide(&req, &self.def.directory, facts.as_ref())?;
            Ok(DecisionRecord {
                action: "upgrade".into(),
                environment: env.map(str::to_string),
                intent: None,
                allowed: d.allowed,
                policies: d.policies,
                waiver: approval.filter(|_| d.allowed).map(|w| w.id.clone()),
            })
        };
        out.decisions.push(decide(None)?);
        if !out.decisions[0].allowed {
            return Ok(out);
        }
        let envs: BTreeSet<&str> = plans
            .iter()
            .flat_map(|p| {
                p.files
                    .iter()
                    .filter(|f| f.writes())
                    .filter_map(|f| f.environment.as_deref())
            })
            .collect();
        for e in envs {
            out.decisions.push(decide(Some(e))?);
        }
        let files: Vec<GuardedFile<'_>> = plans
            .iter()
            .flat_map(|p| p.files.iter())
            .filter(|f| f.writes() && f.action != UpgradeAction::Conflict && f.ownership.is_some())
            .filter_map(|f| {
                f.content.as_ref().map(|c| GuardedFile {
                    repo: &f.repo,
                    path: &f.path,
                    environment: f.environment.as_deref(),
                    content: c,
                })
            })
            .collect();
        let ctx = GuardContext {
            service: service.into(),
            namespaces: self
                .def
                .config
                .environments
                .iter()
                .map(|e| {
                    (
                        e.name.clone(),
                        self.def.config.namespace(&team.name, service, &e.name),
                    )
                })
                .collect(),
            sequential: self.sequential_checks,
            principal: Some(who.clone()),
            operation: Some("upgrade".into()),
        };
        for mut v in self.def.guardrails.check(&ctx, &files)? {
            if v.severity == crate::policy::Enforcement::Deny
                && let Some(w) = waivers
                    .iter()
                    .find(|w| w.covers(&v.rule, service, v.environment.as_deref(), &["upgrade"]))
            {
                v.waived_by = Some(w.id.clone());
            }
            out.violations.push(v);
        }
        Ok(out)
    }

    /// Upgrades every service (of `owner`, when given) on an older version, several at once.
    pub async fn upgrade_fleet(
        &self,
        who: &Principal,
        req: &FleetUpgradeRequest,
        plan: bool,
    ) -> Result<FleetUpgradeReport> {
        let services: Vec<ServiceRecord> = self
            .state
            .list_services()
            .await?
            .into_iter()
            .filter(|s| {
                req.owner.as_ref().is_none_or(|o| {
                    crate::org::entity_ref("group", o) == crate::org::entity_ref("group", &s.owner)
                })
            })
            .collect();
        // Three services in flight per core, at most 24: each upgrade is mostly CPU (render,
        // merge, guardrails on its own task's thread), but waits on the shared GitOps repo's lock
        // and on the disk, where others keep the core busy (measured: 1,000 services on 2 cores,
        // 13-16 s with 4 in flight against 16-20 s with 2; later, with 4, the cores were still
        // idle 8% of the run).
        let workers = std::thread::available_parallelism()
            .map(|n| n.get() * 3)
            .unwrap_or(3)
            .clamp(3, 24);
        let limit = Arc::new(tokio::sync::Semaphore::new(workers));
        let fleet = Platform {
            sequential_checks: true,
            ..self.clone()
        };
        let mut tasks = tokio::task::JoinSet::new();
        for svc in services {
            let permit =
                limit.clone().acquire_owned().await.map_err(|_| {
                    Error::internal("the fleet upgrade's concurrency limit was closed")
                })?;
            if self.cancelled() {
                break;
            }
            let (p, who) = (fleet.clone(), who.clone());
            let one = UpgradeRequest {
                service: svc.name.clone(),
                to: req.to.clone(),
                keep: req.keep,
            };
            let to = req.to.clone().unwrap_or_default();
            tasks.spawn(async move {
                let _permit = permit;
                match p.upgrade(&who, &one, plan).await {
                    Ok(r) => FleetUpgradeRow {
                        service: r.service,
                        owner: r.owner,
                        from: r.from,
                        to: r.to,
                        outcome: serde_json::to_value(r.status)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default(),
                        conflicts: r.conflicts.len(),
                        change_requests: r.change_requests.iter().map(|c| c.url.clone()).collect(),
                        error: None,
                    },
                    Err(e) => FleetUpgradeRow {
                        service: svc.name,
                        owner: svc.owner,
                        from: svc.version,
                        to,
                        outcome: "failed".into(),
                        conflicts: 0,
                        change_requests: vec![],
                        error: Some(format!("[{}] {}", e.kind(), e)),
                    },
                }
            });
        }
        let mut rows = Vec::new();
        while let Some(row) = tasks.join_next().await {
            match row {
                Ok(r) => rows.push(r),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => return Err(Error::internal("a fleet upgrade task was aborted")),
            }
        }
        rows.sort_by(|a, b| a.service.cmp(&b.service));
        let count = |o: &str| rows.iter().filter(|r| r.outcome == o).count();
        Ok(FleetUpgradeReport {
            upgraded: count("upgraded") + count("planned"),
            conflicts: count("conflicts"),
            failed: count("failed"),
            up_to_date: count("up_to_date"),
            rows,
        })
    }

    /// Every service with its golden path, scaffold version, how far behind it is, and its drift
    /// (local edits to platform-managed files, files the team deleted). Read from the repos.
    /// Only the services `who` may read are listed; the read is recorded.
    pub async fn fleet(&self, who: &Principal) -> Result<Vec<FleetRow>> {
        let scope = super::reads::scope(self, who).await?;
        let mut out = Vec::new();
        for rec in self.state.list_services().await? {
            if !scope.service(&rec.name) {
                continue;
            }
            if let Some(row) = self.fleet_row(&rec, true).await? {
                out.push(row);
            }
        }
        super::reads::record(self, who, "fleet", None, true, out.len()).await?;
        Ok(out)
    }

    /// One service's row of [`Platform::fleet`], read from its repos; `None` when its golden
    /// path is no longer defined. `merged_drift` also compares each merged file with what idp
    /// renders for the current parameters (a render per file: insights do without it).
    pub(crate) async fn fleet_row(
        &self,
        rec: &ServiceRecord,
        merged_drift: bool,
    ) -> Result<Option<FleetRow>> {
        let Some(versions) = self.def.golden_paths.get(&rec.golden_path) else {
            return Ok(None);
        };
        let latest = versions.values().next_back().expect("a version").clone();
        let mut version = rec.version.clone();
        let mut managed_edits = Vec::new();
        let mut deleted = Vec::new();
        let mut drift = Vec::new();
        for role in STAMPED_ROLES {
            let Some((repo, _, stamp)) = self.read_stamp(&latest, role, &rec.name).await? else {
                continue;
            };
            if role == RepoRole::Service {
                version = stamp.scaffold_version.clone();
            }
            let paths: Vec<String> = stamp.files.keys().cloned().collect();
            let current = self.scm.read_files(&repo, None, &paths).await?;
            let keys = versions
                .get(&Version::parse(&stamp.scaffold_version).unwrap_or(latest.version))
                .map_or(&latest.merge_keys, |gp| &gp.merge_keys);
            for ((path, entry), cur) in stamp.files.iter().zip(current) {
                if merged_drift && entry.ownership == Ownership::Merged {
                    let at =
                        super::explain::file_drift(self, path, entry, cur.as_deref(), keys).await?;
                    if !at.is_empty() {
                        drift.push(format!("{repo}:{path}: {}", at.join(", ")));
                    }
                }
                match cur {
                    None => deleted.push(format!("{repo}:{path}")),
                    Some(c)
                        if entry.ownership == Ownership::Managed
                            && sha256_hex(&c) != entry.sha256 =>
                    {
                        managed_edits.push(format!("{repo}:{path}"))
                    }
                    _ => {}
                }
            }
        }
        let behind = Version::parse(&version)
            .map(|v| versions.keys().filter(|x| **x > v).count())
            .unwrap_or(0);
        Ok(Some(FleetRow {
            service: rec.name.clone(),
            owner: rec.owner.clone(),
            golden_path: rec.golden_path.clone(),
            version,
            latest: latest.def.version.clone(),
            behind,
            managed_edits,
            deleted,
            drift,
        }))
    }
}
