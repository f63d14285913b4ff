//! `explain SERVICE`: what idp created for a service, from which template and version, whether
//! the platform still manages each file, whether it was edited since, and how to override it
//! safely. Read from the stamps in the repos, so it tells the truth even if state was lost.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::digest::sha256_hex;
use crate::error::{Error, Result};
use crate::golden_path::{Ownership, RepoRole, StepId, build_context};
use crate::org::Team;
use crate::platform::Platform;
use crate::scaffold::Stamp;

/// One file idp created.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FileExplanation {
    pub repo: String,
    pub path: String,
    pub step: StepId,
    pub ownership: Ownership,
    /// True when platform updates replace or merge into this file.
    pub managed_by_platform: bool,
    /// `golden-path@version:template`
    pub provenance: String,
    /// Hash of the file as idp rendered it.
    pub rendered_sha256: String,
    /// Hash of the file in the repo now; `None` if the team deleted it.
    pub current_sha256: Option<String>,
    /// True when the file in the repo differs from what idp rendered.
    pub locally_modified: bool,
    /// Where a platform-managed (managed or merged) file differs from what idp rendered for
    /// the service's current parameters: key paths for YAML, JSON and TOML
    /// (`/spec/template/spec/containers[name=app]/ports[name=http]/containerPort`), line ranges
    /// for other files. Empty when it does not differ or the render is not in the content store.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<String>,
    pub how_to_override: String,
}

/// A change request idp opened for the service.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangeRequestSummary {
    pub id: String,
    pub repo: String,
    pub step: StepId,
    pub branch: String,
    pub commit: Option<String>,
    pub state: String,
    pub url: Option<String>,
}

/// Everything idp knows about what it created for a service.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Explanation {
    pub service: String,
    pub owner: String,
    pub golden_path: String,
    pub scaffold_version: String,
    pub parameters: serde_json::Value,
    /// Values of single environments over `parameters` (`{"prod": {"memory_limit": "1Gi"}}`).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub environments: serde_json::Map<String, serde_json::Value>,
    /// Repo name -> URL.
    pub repos: BTreeMap<String, String>,
    pub files: Vec<FileExplanation>,
    pub change_requests: Vec<ChangeRequestSummary>,
    /// General advice on changing what the golden path generates.
    pub overrides: Vec<String>,
    /// The service's infrastructure: each intent in each environment, the module chosen (and
    /// every candidate with why), where each input's value comes from, and the bindings.
    #[serde(default)]
    pub infrastructure: Vec<crate::intent::Resolution>,
}

impl Explanation {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("explanation serializes")
    }
}

pub(crate) async fn explain(
    p: &Platform,
    who: &crate::org::Principal,
    service: &str,
) -> Result<Explanation> {
    crate::golden_path::params::check_string("service", service, false)?;
    if !crate::naming::is_dns1123_label(service) {
        return Err(Error::invalid(format!(
            "{} is not a service name",
            crate::naming::shown(service)
        )));
    }
    let def = p.definition();
    let record = p.service_record(service).await?;
    let (gp_id, version, owner, params, environments) = match &record {
        Some(r) => (
            r.golden_path.clone(),
            r.version.clone(),
            r.owner.clone(),
            r.parameters.clone(),
            r.environments.as_object().cloned().unwrap_or_default(),
        ),
        None => {
            // No state (lost, or another workspace): the service repo's stamp still knows.
            let gp = def.golden_path(None, None)?;
            let path = gp
                .stamp_path(
                    RepoRole::Service,
                    &build_context(
                        &def.config,
                        &anonymous(""),
                        &gp,
                        service,
                        &Default::default(),
                        &Default::default(),
                        &[],
                        &Default::default(),
                    ),
                )?
                .unwrap_or_else(|| ".idp/scaffold.json".to_string());
            let bytes = p
                .source_control()
                .read_files(service, None, std::slice::from_ref(&path))
                .await?
                .pop()
                .flatten()
                .ok_or_else(|| {
                    Error::not_found(format!("idp has no service called {service}"))
                        .with("field", "service")
                })?;
            let s = Stamp::parse(&path, &bytes)?;
            let environments = s
                .environments
                .into_iter()
                .map(|(env, v)| (env, serde_json::Value::Object(v)))
                .collect();
            (
                s.golden_path_id,
                s.scaffold_version,
                s.owner,
                s.parameters,
                environments,
            )
        }
    };
    // Reading what a service is made of is an operation like any other: the owning team and
    // platform admins may, and the answer is recorded either way.
    let decision = p.authorize(&crate::policy::AuthzRequest {
        principal: who.clone(),
        action: "explain".into(),
        resource: crate::policy::AuthzResource::Service {
            name: service.into(),
            owner: owner.clone(),
            golden_path: gp_id.clone(),
        },
        context: Default::default(),
    })?;
    let event = crate::audit::AuditEvent {
        time: p.now_text(),
        principal: who.user.clone(),
        operation: "explain".into(),
        resource: format!("service:{service}"),
        decision: if decision.allowed { "allow" } else { "deny" }.into(),
        policies: decision.policies.clone(),
        outcome: if decision.allowed {
            "completed"
        } else {
            "denied"
        }
        .into(),
        ..Default::default()
    };
    p.audit().append(event).await?;
    if !decision.allowed {
        return Err(Error::new(
            crate::ErrorKind::Denied,
            format!(
                "{} may not explain {service}: only its owning team and platform admins may",
                who.user
            ),
        ));
    }
    let gp = def.golden_path(Some(&gp_id), Some(&version))?;
    let team = def
        .directory
        .team(&owner)
        .cloned()
        .unwrap_or_else(|| anonymous(&owner));
    let params_map = params.as_object().cloned().unwrap_or_default();
    let roles = [RepoRole::Service, RepoRole::Gitops, RepoRole::Infra];
    let repo_urls: Vec<(&str, String, String)> = roles
        .iter()
        .map(|r| {
            let name = crate::platform::prepare_repo_name(p, *r, service);
            let url = p.source_control().repo_url(&name);
            (r.as_str(), name, url)
        })
        .collect();
    let ctx = build_context(
        &def.config,
        &team,
        &gp,
        service,
        &params_map,
        &Default::default(),
        &repo_urls,
        &Default::default(),
    );

    let mut hints: BTreeMap<String, String> = BTreeMap::new();
    for sd in gp.def.steps.values() {
        for f in &sd.files {
            hints.insert(
                f.template.clone(),
                f.override_hint
                    .clone()
                    .unwrap_or_else(|| f.ownership.default_override().to_string()),
            );
        }
    }

    let mut repos = BTreeMap::new();
    let mut files = Vec::new();
    for (role, name, url) in &repo_urls {
        let role = roles
            .iter()
            .find(|r| r.as_str() == *role)
            .copied()
            .expect("known role");
        let Some(stamp_path) = gp.stamp_path(role, &ctx)? else {
            continue;
        };
        let Some(bytes) = p
            .source_control()
            .read_files(name, None, std::slice::from_ref(&stamp_path))
            .await?
            .pop()
            .flatten()
        else {
            continue;
        };
        repos.insert(name.clone(), url.clone());
        let stamp = Stamp::parse(&stamp_path, &bytes)?;
        let paths: Vec<String> = stamp.files.keys().cloned().collect();
        let current = p.source_control().read_files(name, None, &paths).await?;
        for ((path, entry), cur) in stamp.files.iter().zip(current) {
            let drift = file_drift(p, path, entry, cur.as_deref(), &gp.merge_keys).await?;
            let current_sha256 = cur.map(|c| sha256_hex(&c));
            files.push(FileExplanation {
                drift,
                repo: name.clone(),
                path: path.clone(),
                step: entry.step,
                ownership: entry.ownership,
                managed_by_platform: entry.ownership != Ownership::Seeded,
                provenance: format!(
                    "{}@{}:{}",
                    stamp.golden_path_id, stamp.scaffold_version, entry.template
                ),
                locally_modified: current_sha256.as_deref() != Some(entry.sha256.as_str()),
                rendered_sha256: entry.sha256.clone(),
                current_sha256,
                how_to_override: hints
                    .get(&entry.template)
                    .cloned()
                    .unwrap_or_else(|| entry.ownership.default_override().to_string()),
            });
        }
    }
    if files.is_empty() && record.is_none() {
        return Err(
            Error::not_found(format!("idp has no service called {service}"))
                .with("field", "service"),
        );
    }
    let change_requests = p
        .state()
        .list_change_requests(Some(service))
        .await?
        .into_iter()
        .filter_map(|c| {
            Some(ChangeRequestSummary {
                id: c.id?,
                repo: c.repo,
                step: c.step,
                branch: c.branch,
                commit: c.commit,
                state: c.state.as_str().to_string(),
                url: c.url,
            })
        })
        .collect();
    let infrastructure = match p.state().get_infra(service).await? {
        Some((_, r)) => serde_json::from_value(r).unwrap_or_default(),
        None => Vec::new(),
    };
    Ok(Explanation {
        infrastructure,
        service: service.to_string(),
        owner,
        golden_path: gp_id,
        scaffold_version: version,
        parameters: params,
        environments,
        repos,
        files,
        change_requests,
        overrides: vec![
            "Change a parameter: rerun the operation with --param KEY=VALUE; only the affected files change."
                .into(),
            "A local edit to a managed file is replaced (with a warning) by the next run or upgrade: change it through a parameter, or propose the change to the golden path."
                .into(),
            "Seeded files are yours; merged files keep your edits through parameter changes and upgrades (three-way merge); `drift` lists where they differ from what idp renders.".into(),
        ],
    })
}

/// Where a platform-managed file in the repo (`cur`) differs from what idp last rendered for it
/// (the stamp entry's content, from the content store): see [`FileExplanation::drift`].
pub(crate) async fn file_drift(
    p: &Platform,
    path: &str,
    entry: &crate::scaffold::StampFile,
    cur: Option<&[u8]>,
    keys: &crate::scaffold::MergeKeys,
) -> Result<Vec<String>> {
    let Some(cur) = cur else {
        return Ok(Vec::new());
    };
    if entry.ownership == Ownership::Seeded || sha256_hex(cur) == entry.sha256 {
        return Ok(Vec::new());
    }
    Ok(match p.state().get_blob(&entry.sha256).await? {
        Some(base) => crate::scaffold::drift(path, &base, cur, keys),
        None => Vec::new(),
    })
}

/// A team known only by name (no longer in the directory).
fn anonymous(name: &str) -> Team {
    Team {
        name: name.to_string(),
        entity_ref: format!("group:default/{name}"),
        cost_center: None,
        platform_admin: false,
        members: BTreeSet::new(),
    }
}
