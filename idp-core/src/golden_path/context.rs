//! The template context: everything a golden-path template may use, computed once per request in
//! one place, so naming, labels and SLO arithmetic are the same in every file.

use serde_json::{Value, json};

use super::{GoldenPath, Parameters};
use crate::config::PlatformConfig;
use crate::naming;
use crate::org::Team;

/// The context of one service: values shared by every file, plus the environments that
/// `for_each: environment` files are rendered for.
#[derive(Debug, Clone)]
pub struct ServiceContext {
    pub service: String,
    pub owner: String,
    pub environments: Vec<Value>,
    base: Value,
}

impl ServiceContext {
    /// The context as JSON (what templates see, without `env`).
    pub fn as_json(&self) -> &Value {
        &self.base
    }

    /// Environment -> the namespace the service lives in there.
    pub fn namespaces(&self) -> std::collections::BTreeMap<String, String> {
        self.environments
            .iter()
            .filter_map(|e| {
                Some((
                    e["name"].as_str()?.to_string(),
                    e["namespace"].as_str()?.to_string(),
                ))
            })
            .collect()
    }

    /// The Tera context, with `env` set for per-environment files, whose `params` are the
    /// environment's own where the request sets some.
    pub fn tera_context(&self, env: Option<&Value>) -> tera::Context {
        let mut ctx = tera::Context::from_serialize(&self.base).expect("context is an object");
        if let Some(env) = env {
            ctx.insert("env", env);
            if let Some(params) = env.get("params") {
                ctx.insert("params", params);
            }
        }
        ctx
    }
}

/// Formats a ratio without float noise (`1 - 0.995` prints `0.005`, not `0.0050000000000000044`).
fn decimal(x: f64) -> String {
    let s = format!("{:.6}", x);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// Builds the context of `service`, owned by `team`, for golden path `gp`; `env_params` are the
/// effective parameters of the environments that have their own values.
/// Secret parameters are left out: templates write to git, and secrets never go there.
#[allow(clippy::too_many_arguments)]
pub fn build_context(
    cfg: &PlatformConfig,
    team: &Team,
    gp: &GoldenPath,
    service: &str,
    params: &Parameters,
    env_params: &std::collections::BTreeMap<String, Parameters>,
    repo_urls: &[(&str, String, String)],
    bindings: &std::collections::BTreeMap<String, Vec<crate::intent::Binding>>,
) -> ServiceContext {
    // Templates never see a secret (see `ParameterSchema::visible`).
    let visible = |params: &Parameters| gp.schema.visible(params);
    let cost_center = team
        .cost_center
        .clone()
        .unwrap_or_else(|| "unassigned".into());
    // The org's label set (`labels.values` of idp.yaml), as a map (`labels["team"]`) and in the
    // order idp writes them (`label_list`, for `| yaml_labels`). A value that cannot be made is
    // left out here; preflight refuses the request that would need it.
    let label_set = |params: &Parameters, env: Option<&str>| -> (Value, Value) {
        let labels: Vec<(String, String)> = cfg
            .service_labels(
                service,
                &team.name,
                &cost_center,
                &gp.def.id,
                &visible(params),
                env,
            )
            .into_iter()
            .filter_map(|(n, v)| Some((n, v.ok()?)))
            .collect();
        let map: serde_json::Map<String, Value> = labels
            .iter()
            .map(|(n, v)| (n.clone(), Value::String(v.clone())))
            .collect();
        let list: Vec<Value> = labels
            .iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect();
        (Value::Object(map), Value::Array(list))
    };
    let (labels, label_list) = label_set(params, None);
    let environments: Vec<Value> = cfg
        .environments
        .iter()
        .map(|e| {
            let (env_labels, env_label_list) =
                label_set(env_params.get(&e.name).unwrap_or(params), Some(&e.name));
            let env_bindings = bindings.get(&e.name).cloned().unwrap_or_default();
            // Secrets whose secret outputs the service mounts as files: one volume per Secret,
            // with the keys it projects.
            let mut mounts: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
            for b in env_bindings.iter().filter(|b| b.sensitive) {
                mounts.entry(&b.secret).or_default().push(&b.key);
            }
            let secret_mounts: Vec<Value> = mounts
                .into_iter()
                .enumerate()
                .map(|(i, (secret, keys))| {
                    json!({"volume": format!("idp-secret-{}", i + 1), "secret": secret, "keys": keys})
                })
                .collect();
            let mut env = json!({
                "name": e.name,
                "type": e.env_type,
                "protected": e.protected,
                "cluster": e.cluster,
                "namespace": cfg.namespace(&team.name, service, &e.name),
                "replicas": {"min": e.replicas.min, "max": e.replicas.max},
                "labels": env_labels,
                "label_list": env_label_list,
                                // Environment variables from the service's infrastructure (Secret references).
                "bindings": env_bindings,
                // Secrets mounted as files (`/var/run/secrets/idp/<secret>/<key>`).
                "secret_mounts": secret_mounts,
                // Grafana dashboard uids are at most 40 characters.
                "dashboard_uid": naming::truncate_dns(&format!("{service}-{}", e.name), 40),
            });
            if let Some(p) = env_params.get(&e.name) {
                env["params"] = Value::Object(visible(p));
            }
            env
        })
        .collect();
    let availability = params
        .get("availability_slo")
        .and_then(Value::as_f64)
        .unwrap_or(0.995);
    let latency_ms = params
        .get("latency_slo_ms")
        .and_then(Value::as_f64)
        .unwrap_or(300.0);
    let mut repos = serde_json::Map::new();
    for (role, name, url) in repo_urls {
        repos.insert((*role).to_string(), json!({"name": name, "url": url}));
    }
    let base = json!({
        "service": service,
        "module": naming::python_module(service),
        "owner": team.name,
        "owner_ref": team.entity_ref,
        "cost_center": cost_center,
        "org": {
            "name": cfg.organization.name,
            "domain": cfg.organization.domain,
            "image_registry": cfg.organization.image_registry,
        },
        "golden_path": {"id": gp.def.id, "version": gp.def.version},
        "params": visible(params),
        "image": format!("{}/{}/{}", cfg.organization.image_registry.trim_end_matches('/'), team.name, service),
        "labels": labels,
        "label_list": label_list,
        "slo": {
            "availability": availability,
            "availability_percent": decimal(availability * 100.0),
            "error_budget": decimal(1.0 - availability),
            "latency_seconds": decimal(latency_ms / 1000.0),
            "window": "30d",
        },
        "environments": environments,
        "repos": repos,
    });
    ServiceContext {
        service: service.to_string(),
        owner: team.name.clone(),
        environments,
        base,
    }
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn decimals_have_no_float_noise() {
        assert_eq!(decimal(1.0 - 0.995), "0.005");
        assert_eq!(decimal(0.995 * 100.0), "99.5");
        assert_eq!(decimal(300.0 / 1000.0), "0.3");
        assert_eq!(decimal(1.0 - 0.9999), "0.0001");
    }
}
