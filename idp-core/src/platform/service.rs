//! The service registry, reconciled with the repos. The scaffold stamps on the repos' default
//! branches say which golden-path version a service is at; the state store remembers it for
//! speed. When the two disagree, the repos win: a team that resolved an upgrade's conflicts and
//! merged its change requests by hand has moved the service, and idp must render the new version
//! from then on, never the old one again.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Platform, prepare};
use crate::error::{Error, Result};
use crate::golden_path::{GoldenPath, RepoRole, build_context};
use crate::org::Team;
use crate::scaffold::Stamp;
use crate::state::ServiceRecord;

/// The repos that carry a service's stamp, in the order they are read.
pub(crate) const STAMPED_ROLES: [RepoRole; 2] = [RepoRole::Service, RepoRole::Gitops];

/// The path of the service's stamp in the repo of `role`, if the golden path stamps that repo.
pub(crate) fn stamp_path_for(
    cfg: &crate::config::PlatformConfig,
    gp: &GoldenPath,
    role: RepoRole,
    service: &str,
) -> Option<String> {
    if let Some(path) = gp.stamp_path_by_name(role, service) {
        return path.ok().flatten();
    }
    // Otherwise with a context of the service alone (no team, parameters or repos).
    let team = Team {
        name: String::new(),
        entity_ref: String::new(),
        cost_center: None,
        platform_admin: false,
        members: BTreeSet::new(),
    };
    let ctx = build_context(
        cfg,
        &team,
        gp,
        service,
        &Default::default(),
        &Default::default(),
        &[],
        &Default::default(),
    );
    gp.stamp_path(role, &ctx).ok().flatten()
}

/// A service's record with the version each of its repos is at.
pub(crate) struct ServiceState {
    pub record: ServiceRecord,
    /// `(repo, scaffold version)` of every repo that has the service's stamp.
    pub repo_versions: Vec<(String, String)>,
    /// The stamps read on the way, `(role, repo, path, stamp)`, at the paths the latest version of
    /// the golden path gives them (an upgrade to that version reads them again otherwise).
    pub stamps: Vec<(RepoRole, String, String, Stamp)>,
    /// The golden-path version whose stamp paths `stamps` were read at.
    pub stamps_at: Option<String>,
}

impl ServiceState {
    /// When the repos are at different versions (an upgrade whose change requests are merged
    /// in one repo and not yet in another), the error that stops a write: rendering either
    /// version would undo the other repo's state.
    pub fn mid_upgrade(&self) -> Option<Error> {
        let (first_repo, first) = self.repo_versions.first()?;
        let (repo, other) = self.repo_versions.iter().find(|(_, v)| v != first)?;
        let name = &self.record.name;
        Some(
            Error::conflict(format!(
                "{name} is part-way through an upgrade: {first_repo} is at {first} and {repo} at \
                 {other}; merge the upgrade's open change requests (or run `idp upgrade {name}` \
                 to finish it), then retry"
            ))
            .with("field", "service"),
        )
    }
}

impl Platform {
    /// Reads the stamp of `service` in the repo of `role`: `(repo, path, stamp)`.
    pub(crate) async fn read_stamp(
        &self,
        gp: &GoldenPath,
        role: RepoRole,
        service: &str,
    ) -> Result<Option<(String, String, Stamp)>> {
        let Some(path) = stamp_path_for(&self.def.config, gp, role, service) else {
            return Ok(None);
        };
        let repo = prepare::repo_name_for(self, role, service);
        match self
            .scm
            .read_files(&repo, None, std::slice::from_ref(&path))
            .await?
            .pop()
            .flatten()
        {
            Some(bytes) => Ok(Some((repo, path.clone(), Stamp::parse(&path, &bytes)?))),
            None => Ok(None),
        }
    }

    /// The record of `service`, moved to the version its repos are at when they all agree on
    /// one that the state store does not know yet (the record is saved, and the move audited).
    pub(crate) async fn service_state(&self, service: &str) -> Result<Option<ServiceState>> {
        let Some(mut record) = self.state.get_service(service).await? else {
            return Ok(None);
        };
        let Some(latest) = self
            .def
            .golden_paths
            .get(&record.golden_path)
            .and_then(|v| v.values().next_back().cloned())
        else {
            return Ok(Some(ServiceState {
                record,
                repo_versions: Vec::new(),
                stamps: Vec::new(),
                stamps_at: None,
            }));
        };
        let mut repo_versions = Vec::new();
        let mut stamps = Vec::new();
        for role in STAMPED_ROLES {
            if let Some((repo, path, stamp)) = self.read_stamp(&latest, role, service).await? {
                repo_versions.push((repo.clone(), stamp.scaffold_version.clone()));
                stamps.push((role, repo, path, stamp));
            }
        }
        let service_stamp = stamps.first().map(|(_, _, _, s)| s);
        let agreed = match repo_versions.split_first() {
            Some(((_, v), rest)) if rest.iter().all(|(_, x)| x == v) => Some(v.clone()),
            _ => None,
        };
        if let (Some(version), Some(stamp)) = (agreed, service_stamp)
            && version != record.version
            && stamp.golden_path_id == record.golden_path
        {
            // The version must still be in the platform (a stamp names any string).
            self.def
                .golden_path(Some(&record.golden_path), Some(&version))?;
            let from = std::mem::replace(&mut record.version, version);
            if let Value::Object(stamped) = &stamp.parameters {
                record.parameters = Value::Object(
                    stamped
                        .iter()
                        .filter(|(_, v)| v.as_str() != Some("***"))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                );
            }
            record.updated_at = self.now_text();
            self.state.put_service(&record).await?;
            super::policy_point::audit(
                self,
                "system:idp",
                crate::audit::AuditEvent {
                    operation: "reconcile".into(),
                    resource: format!("service:{service}"),
                    decision: "none".into(),
                    outcome: "completed".into(),
                    details: serde_json::json!({
                        "from": from,
                        "to": record.version,
                        "reason": "the scaffold stamps in the repos are at a version the state did not record (an upgrade's change requests were merged outside idp)",
                        "repos": repo_versions.iter().map(|(r, v)| serde_json::json!({"repo": r, "version": v})).collect::<Vec<_>>(),
                    }),
                    ..Default::default()
                },
            ).await?;
        }
        Ok(Some(ServiceState {
            record,
            repo_versions,
            stamps,
            stamps_at: Some(latest.def.version.clone()),
        }))
    }

    /// The record of `service`, reconciled with its repos (see [`Platform::service_state`]).
    pub(crate) async fn service_record(&self, service: &str) -> Result<Option<ServiceRecord>> {
        Ok(self.service_state(service).await?.map(|s| s.record))
    }
}
