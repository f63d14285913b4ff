//! Preflight: everything checked before anything is planned or written — input hygiene, the
//! service name, the owner team, the golden path and version, the parameters, and whether the
//! name is already taken by another owner or golden path.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::Platform;
use crate::error::{Error, Result};
use crate::golden_path::params::{check_string, check_value, contains_secret_key, is_secret_key};
use crate::golden_path::{GoldenPath, Parameters, RepoRole, ServiceContext, StepId, build_context};
use crate::intent::{Intent, Resolution};
use crate::naming::shown;
use crate::org::Team;
use crate::request::{Operation, ServiceRequest};
use crate::scaffold::Stamp;
use crate::state::ServiceRecord;

/// A request that passed preflight, with everything the planner needs.
pub(crate) struct Prepared {
    pub op: Operation,
    pub gp: Arc<GoldenPath>,
    pub team: Team,
    pub service: String,
    pub params: Parameters,
    /// Values of single environments over `params` (kept from earlier requests, updated by
    /// this one), as given.
    pub env_overrides: BTreeMap<String, Parameters>,
    pub ctx: ServiceContext,
    pub steps: Vec<StepId>,
    /// The request with secret values redacted (what state and audit keep).
    pub request_redacted: Value,
    pub has_secrets: bool,
    /// Equal for identical requests.
    pub key: String,
    pub existing: Option<ServiceRecord>,
    /// Every infrastructure intent of the service (stored, updated by this request).
    pub intents: Vec<Intent>,
    /// Each intent resolved in each of its environments.
    pub resolutions: Vec<Resolution>,
    /// The request named a change window that is open now.
    pub change_window_open: bool,
}

impl Prepared {
    /// The name of the repo a role maps to.
    pub fn repo_name(&self, p: &Platform, role: RepoRole) -> String {
        repo_name_for(p, role, &self.service)
    }
}

/// The URL generated files use for `repo`: the org's git server (`remote_url`), or the
/// provider's own URL when none is configured.
pub(crate) fn remote_url(p: &Platform, repo: &str) -> String {
    match &p.def.config.providers.source_control.remote_url {
        Some(pattern) => pattern.replace("{repo}", repo),
        None => p.scm.repo_url(repo),
    }
}

pub(crate) fn repo_name_for(p: &Platform, role: RepoRole, service: &str) -> String {
    let sc = &p.def.config.providers.source_control;
    match role {
        RepoRole::Service => service.to_string(),
        RepoRole::Gitops => sc.gitops_repo.clone(),
        RepoRole::Infra => sc.infra_repo.clone(),
    }
}

/// Each repo role of `service` with its repo's name and the URL generated files use for it, as
/// the template context takes them.
pub(crate) fn repo_urls(p: &Platform, service: &str) -> Vec<(&'static str, String, String)> {
    [RepoRole::Service, RepoRole::Gitops, RepoRole::Infra]
        .into_iter()
        .map(|role| {
            let name = repo_name_for(p, role, service);
            let url = remote_url(p, &name);
            (role.as_str(), name, url)
        })
        .collect()
}

/// Steps that write to the service repo need it to exist, unless this run creates it. Checked
/// after authorization, so an outsider learns nothing about which services exist.
pub(crate) async fn check_service_repo(p: &Platform, prep: &Prepared) -> Result<()> {
    let needs_service_repo = prep.steps.iter().any(|s| {
        *s != StepId::BootstrapService
            && prep
                .gp
                .step(*s)
                .is_some_and(|d| d.repo == RepoRole::Service)
    });
    if needs_service_repo
        && !prep.steps.contains(&StepId::BootstrapService)
        && !p.scm.repo_exists(&prep.service).await?
    {
        return Err(Error::not_found(format!(
            "service repository {} does not exist; run bootstrap-service (or golden-path run) first",
            prep.service
        ))
        .with("field", "service"));
    }
    Ok(())
}

pub(crate) async fn prepare(p: &Platform, op: Operation, req: &ServiceRequest) -> Result<Prepared> {
    check_string("service", &req.service, false)?;
    check_string("owner", &req.owner, false)?;
    if let Some(g) = &req.golden_path {
        check_string("golden_path", g, false)?;
    }
    if let Some(v) = &req.version {
        check_string("version", v, false)?;
    }
    check_value(
        "parameters",
        &Value::Object(req.parameters.clone()),
        &is_secret_key,
    )?;
    check_value(
        "intents",
        &Value::Array(req.intents.clone()),
        &is_secret_key,
    )?;
    p.def.config.check_service_name(&req.service)?;
    let change_window_open = match &req.change_window {
        None => false,
        Some(name) => {
            check_string("change_window", name, false)?;
            p.def
                .config
                .change_window_open(name, p.now())
                .ok_or_else(|| {
                    let known: Vec<&str> = p
                        .def
                        .config
                        .change_windows
                        .iter()
                        .map(|w| w.name.as_str())
                        .collect();
                    Error::invalid(format!(
                        "change window {} is not declared in idp.yaml; declared: {}",
                        shown(name),
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ))
                    .with("field", "change_window")
                })?
        }
    };

    let existing_state = p.service_state(&req.service).await?;
    // The owner of an existing service is known: a request may leave it out.
    let owner = match (&req.owner, &existing_state) {
        (o, _) if !o.is_empty() => o.as_str(),
        (_, Some(s)) => s.record.owner.as_str(),
        (_, None) => {
            return Err(
                Error::invalid("owner is required for a new service").with("field", "owner")
            );
        }
    };
    let team = p.def.directory.team(owner).cloned().ok_or_else(|| {
        let known: Vec<&str> = p.def.directory.teams().map(|t| t.name.as_str()).collect();
        Error::not_found(format!(
            "owner team {} does not exist in the org directory; known teams: {}",
            shown(owner),
            known.join(", ")
        ))
        .with("field", "owner")
    })?;

    let existing = match existing_state {
        Some(s) => {
            if let Some(e) = s.mid_upgrade() {
                return Err(e);
            }
            Some(s.record)
        }
        None => None,
    };
    if let Some(ex) = &existing {
        check_same_service(
            &req.service,
            &ex.owner,
            &ex.golden_path,
            &team,
            req.golden_path.as_deref(),
        )?;
        if let Some(v) = &req.version
            && v != &ex.version
        {
            return Err(Error::conflict(format!(
                "service {} is at {}@{}; moving it to {v} is an upgrade: run `idp upgrade {} --to {v}`",
                req.service, ex.golden_path, ex.version, req.service
            ))
            .with("field", "version"));
        }
    }
    let gp = p.def.golden_path(
        req.golden_path
            .as_deref()
            .or(existing.as_ref().map(|e| e.golden_path.as_str())),
        req.version
            .as_deref()
            .or(existing.as_ref().map(|e| e.version.as_str())),
    )?;

    // Parameters are sticky: what the service was last applied with, overridden by the request.
    let mut given = Parameters::new();
    if let Some(Value::Object(prev)) = existing.as_ref().map(|e| &e.parameters) {
        for (k, v) in prev {
            if !gp.schema.is_secret(k) && gp.def.parameters["properties"].get(k).is_some() {
                given.insert(k.clone(), v.clone());
            }
        }
    }
    for (k, v) in &req.parameters {
        given.insert(k.clone(), v.clone());
    }
    check_value("parameters", &Value::Object(req.parameters.clone()), &|k| {
        gp.schema.is_secret(k)
    })?;
    let params = gp.schema.resolve(&given)?;
    let env_overrides = environment_values(p, &gp, existing.as_ref(), req)?;
    let env_params = gp.environment_parameters(&p.def.config, &given, &env_overrides)?;

    // Infrastructure intents: what the service asked for before, updated by this request.
    let mut intents: Vec<Intent> = Vec::new();
    if let Some((stored, _)) = p.state.get_infra(&req.service).await? {
        for v in stored.as_array().into_iter().flatten() {
            intents.push(serde_json::from_value(v.clone())?);
        }
    }
    for v in &req.intents {
        let i = Intent::from_json(v, &p.def.catalog, &p.def.config)?;
        // Sticky, like parameters: asking again for the same resource adds environments and
        // overrides only the parameters it names. Nothing is dropped by omission (removing cloud
        // resources is never a side effect of a narrower request).
        match intents.iter_mut().find(|x| x.key() == i.key()) {
            Some(slot) => {
                slot.environments = match (slot.environments.take(), i.environments) {
                    (Some(mut a), Some(b)) => {
                        a.extend(b.into_iter().filter(|e| !a.contains(e)).collect::<Vec<_>>());
                        a.sort();
                        Some(a)
                    }
                    _ => None,
                };
                slot.params.extend(i.params);
                for (env, values) in i.environment_params {
                    let kept = slot.environment_params.entry(env).or_default();
                    for (k, v) in values {
                        if v.is_null() {
                            kept.remove(&k);
                        } else {
                            kept.insert(k, v);
                        }
                    }
                }
                slot.environment_params.retain(|_, v| !v.is_empty());
            }
            None => intents.push(i),
        }
    }
    intents.sort_by_key(|i| i.key());
    let mut resolutions = Vec::new();
    for i in &intents {
        for env in &p.def.config.environments {
            if i.environments
                .as_ref()
                .is_none_or(|es| es.contains(&env.name))
            {
                resolutions.push(crate::intent::resolve(
                    &p.def.catalog,
                    &p.def.config,
                    &team,
                    &req.service,
                    i,
                    env,
                )?);
            }
        }
    }

    let mut steps: Vec<StepId> = match op.single_step() {
        Some(StepId::RequestInfraResource) => {
            if intents.is_empty() {
                return Err(Error::invalid(
                    "request_infra_resource needs at least one intent, e.g. {\"type\": \"bucket\", \"class\": \"logs\"}",
                )
                .with("field", "intents"));
            }
            // The infra change, then the service's manifests re-rendered with the new bindings.
            vec![StepId::RequestInfraResource, StepId::ProvisionGitops]
        }
        Some(step) => {
            if gp.step(step).is_none() {
                return Err(Error::invalid(format!(
                    "golden path {} has no step {step}",
                    gp.id_version()
                )));
            }
            vec![step]
        }
        None => StepId::ORDER
            .into_iter()
            .filter(|s| {
                if *s == StepId::RequestInfraResource {
                    !intents.is_empty()
                } else {
                    gp.step(*s).is_some()
                }
            })
            .collect(),
    };

    let repo_urls = repo_urls(p, &req.service);
    let mut bindings: std::collections::BTreeMap<String, Vec<crate::intent::Binding>> =
        Default::default();
    for r in &resolutions {
        bindings
            .entry(r.environment.clone())
            .or_default()
            .extend(r.bindings.iter().cloned());
    }
    check_labels(p, &gp, &team, &req.service, &params, &env_params)?;
    let ctx = build_context(
        &p.def.config,
        &team,
        &gp,
        &req.service,
        &params,
        &env_params,
        &repo_urls,
        &bindings,
    );

    if existing.is_none() {
        check_repo_not_taken(p, &gp, &ctx, &team).await?;
    }
    // Re-render the service's manifests with the new bindings only if it has manifests.
    if op == Operation::RequestInfraResource {
        let provisioned = match gp.stamp_path(RepoRole::Gitops, &ctx)? {
            Some(sp) => {
                let repo = repo_name_for(p, RepoRole::Gitops, &req.service);
                p.scm
                    .read_files(&repo, None, &[sp])
                    .await?
                    .pop()
                    .flatten()
                    .is_some()
            }
            None => false,
        };
        if !provisioned {
            steps.retain(|s| *s != StepId::ProvisionGitops);
        }
    }

    let has_secrets =
        gp.schema.has_secrets(&req.parameters) || req.intents.iter().any(contains_secret_key);
    let redacted_params = gp.schema.redact(&req.parameters);
    let request_redacted = json!({
        "service": req.service,
        "owner": team.name,
        "golden_path": gp.def.id,
        "version": req.version,
        "parameters": redacted_params,
        "environments": req
            .environments
            .iter()
            .map(|(env, v)| (env.clone(), Value::Object(gp.schema.redact(&v.parameters))))
            .collect::<serde_json::Map<_, _>>(),
        "intents": redact_intents(&req.intents),
        "change_window": req.change_window,
    });
    let mut key_material = json!({
        "operation": op.as_str(),
        "request": request_redacted,
        "resolved_version": gp.def.version,
    });
    if has_secrets {
        // Secrets change the key (a different secret is a different request) without the key
        // revealing them: the whole unredacted request goes through the workspace's keyed MAC.
        let raw = json!({"parameters": req.parameters, "intents": req.intents});
        key_material["secrets"] =
            Value::String(p.mac(crate::digest::canonical_json(&raw).as_bytes()));
    }
    let key = crate::digest::sha256_hex(crate::digest::canonical_json(&key_material).as_bytes());

    Ok(Prepared {
        op,
        gp,
        team,
        service: req.service.clone(),
        params,
        env_overrides,
        ctx,
        steps,
        request_redacted,
        has_secrets,
        key,
        existing,
        intents,
        resolutions,
        change_window_open,
    })
}

/// Every label of `labels.values` can be made for this service, in every environment: a label
/// that names a parameter the golden path lacks, or whose value Kubernetes would refuse, stops
/// the request before anything is rendered.
fn check_labels(
    p: &Platform,
    gp: &GoldenPath,
    team: &Team,
    service: &str,
    params: &Parameters,
    env_params: &BTreeMap<String, Parameters>,
) -> Result<()> {
    let cfg = &p.def.config;
    let cost_center = team.cost_center.as_deref().unwrap_or("unassigned");
    let envs = std::iter::once(None).chain(cfg.environments.iter().map(|e| Some(e.name.as_str())));
    for env in envs {
        let params = env.and_then(|e| env_params.get(e)).unwrap_or(params);
        let labels = cfg.service_labels(
            service,
            &team.name,
            cost_center,
            &gp.def.id,
            &gp.schema.visible(params),
            env,
        );
        for (name, value) in labels {
            if let Err(why) = value {
                return Err(Error::invalid(format!(
                    "idp.yaml: label {name} {why}{}",
                    env.map(|e| format!(" (environment {e})"))
                        .unwrap_or_default()
                ))
                .with("file", "idp.yaml")
                .with("field", format!("labels.values.{name}")));
            }
        }
    }
    Ok(())
}

/// The values of single environments: those kept for the service, updated by the request's
/// (`null` removes one). Unknown environments and parameters, and secret parameters (the same
/// in every environment), are refused.
fn environment_values(
    p: &Platform,
    gp: &GoldenPath,
    existing: Option<&ServiceRecord>,
    req: &ServiceRequest,
) -> Result<BTreeMap<String, Parameters>> {
    let known = |k: &str| gp.def.parameters["properties"].get(k).is_some();
    let mut out: BTreeMap<String, Parameters> = BTreeMap::new();
    if let Some(Value::Object(prev)) = existing.map(|e| &e.environments) {
        for (env, values) in prev {
            if p.def.config.environment(env).is_none() {
                continue;
            }
            let kept: Parameters = values
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| known(k) && !gp.schema.is_secret(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            out.insert(env.clone(), kept);
        }
    }
    if !req.environments.is_empty() {
        check_value(
            "environments",
            &serde_json::to_value(&req.environments)?,
            &|k| gp.schema.is_secret(k),
        )?;
    }
    for (env, values) in &req.environments {
        if p.def.config.environment(env).is_none() {
            let names: Vec<&str> = p
                .def
                .config
                .environments
                .iter()
                .map(|e| e.name.as_str())
                .collect();
            return Err(Error::invalid(format!(
                "environments: {} is not an environment of idp.yaml; known: {}",
                shown(env),
                names.join(", ")
            ))
            .with("field", format!("environments.{env}")));
        }
        let slot = out.entry(env.clone()).or_default();
        for (k, v) in &values.parameters {
            let field = format!("environments.{env}.parameters.{k}");
            if !known(k) {
                return Err(Error::invalid(format!(
                    "{field}: golden path {} has no parameter {}",
                    gp.id_version(),
                    shown(k)
                ))
                .with("field", field));
            }
            // Values for one environment are stored and stamped as given: no secret in them.
            if gp.schema.is_secret(k) || contains_secret_key(v) {
                return Err(Error::invalid(format!(
                    "{field}: secrets are the same in every environment; set {k} in parameters"
                ))
                .with("field", field));
            }
            if v.is_null() {
                slot.remove(k);
            } else {
                slot.insert(k.clone(), v.clone());
            }
        }
    }
    out.retain(|_, o| !o.is_empty());
    Ok(out)
}

fn check_same_service(
    service: &str,
    owner: &str,
    gp_id: &str,
    team: &Team,
    requested_gp: Option<&str>,
) -> Result<()> {
    if owner != team.name {
        return Err(Error::conflict(format!(
            // Which team owns it is not the requester's business (docs/policy.md).
            "service name {service} is taken by another team; choose another name"
        ))
        .with("field", "service"));
    }
    if let Some(g) = requested_gp
        && g != gp_id
    {
        return Err(Error::conflict(format!(
            "service {service} was created from golden path {gp_id}, not {}; choose another name",
            shown(g)
        ))
        .with("field", "golden_path"));
    }
    Ok(())
}

/// With no record of the service in state, a service repo that already exists must carry our
/// stamp for the same owner and golden path (the state may have been lost); anything else is
/// somebody else's repository.
async fn check_repo_not_taken(
    p: &Platform,
    gp: &GoldenPath,
    ctx: &ServiceContext,
    team: &Team,
) -> Result<()> {
    let repo = &ctx.service;
    if !p.scm.repo_exists(repo).await? {
        return Ok(());
    }
    let Some(stamp_path) = gp.stamp_path(RepoRole::Service, ctx)? else {
        return Ok(());
    };
    let files = p.scm.list_files(repo, None, "").await?;
    if files.is_empty() {
        return Ok(());
    }
    // A forge starts the repositories idp creates with its own README commit: one that holds
    // nothing else is ours when a run of this service was started here before (it was killed
    // between creating the repo and its first pull request). Before any run, it is not.
    if files == ["README.md"] && !p.state.list_runs(Some(repo), 1).await?.is_empty() {
        return Ok(());
    }
    let stamp = p
        .scm
        .read_files(repo, None, std::slice::from_ref(&stamp_path))
        .await?
        .pop()
        .flatten();
    let Some(bytes) = stamp else {
        return Err(Error::conflict(format!(
            "a repository named {repo} already exists and was not created by idp; choose another name"
        ))
        .with("field", "service"));
    };
    let stamp = Stamp::parse(&stamp_path, &bytes)?;
    check_same_service(
        repo,
        &stamp.owner,
        &stamp.golden_path_id,
        team,
        Some(&gp.def.id),
    )
}

fn redact_intents(intents: &[Value]) -> Value {
    crate::golden_path::params::redact_secrets(&Value::Array(intents.to_vec()), &|_| false)
}
