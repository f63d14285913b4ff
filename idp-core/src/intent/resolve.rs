//! The resolver: an intent (`bucket`, class `logs`, params) in an environment becomes one
//! org-approved module with every input decided, and an explanation of both — which candidate
//! won and why, and where each input's value comes from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::catalog::{Catalog, Flavour, MatchInput, Module};
use crate::config::{Environment, PlatformConfig};
use crate::error::{Error, Result};
use crate::naming;
use crate::org::Team;

/// What a developer asks for: "a bucket for logs", with a few parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Tells two resources of one type apart (default: the class, else the type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Where the resource is wanted (default: every environment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environments: Option<Vec<String>>,
    #[serde(default)]
    pub params: Map<String, Value>,
    /// Parameters for single environments, over `params` there: `{"prod": {"partitions": 30}}`.
    /// Kept for later requests like `params`; `null` removes a kept value.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub environment_params: std::collections::BTreeMap<String, Map<String, Value>>,
}

impl Intent {
    /// The parameters in environment `env`, each with the request field it comes from.
    fn params_in(&self, env: &str) -> Vec<(&String, &Value, String)> {
        let own = self.environment_params.get(env);
        let mut out: Vec<(&String, &Value, String)> = self
            .params
            .iter()
            .filter(|(k, _)| !own.is_some_and(|o| o.contains_key(*k)))
            .map(|(k, v)| (k, v, format!("intents.params.{k}")))
            .collect();
        out.extend(
            own.into_iter()
                .flatten()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, v, format!("intents.environment_params.{env}.{k}"))),
        );
        out
    }

    /// The id: `id`, else the class, else the type.
    pub fn id(&self) -> &str {
        self.id
            .as_deref()
            .or(self.class.as_deref())
            .unwrap_or(&self.ty)
    }

    /// `bucket:logs`: unique per service.
    pub fn key(&self) -> String {
        format!("{}:{}", self.ty, self.id())
    }

    /// The CLI short form `TYPE[:CLASS[:ID]]` (e.g. `bucket:logs`).
    pub fn parse_short(s: &str) -> Result<Intent> {
        let mut parts = s.split(':');
        let ty = parts.next().unwrap_or("").to_string();
        let class = parts.next().filter(|c| !c.is_empty()).map(str::to_string);
        let id = parts.next().filter(|c| !c.is_empty()).map(str::to_string);
        if parts.next().is_some() || ty.is_empty() {
            return Err(Error::invalid(format!(
                "intent {} is not TYPE[:CLASS[:ID]]",
                naming::shown(s)
            ))
            .with("field", "intent"));
        }
        Ok(Intent {
            ty,
            class,
            id,
            environments: None,
            params: Map::new(),
            environment_params: Default::default(),
        })
    }

    /// Parses and checks one intent of a request.
    pub fn from_json(v: &Value, catalog: &Catalog, cfg: &PlatformConfig) -> Result<Intent> {
        let i: Intent = serde_path_to_error::deserialize(v.clone()).map_err(|e| {
            let path = e.path().to_string();
            Error::invalid(format!("intent: {}", e.into_inner()))
                .with("field", format!("intents.{path}"))
        })?;
        if !catalog.types.contains_key(&i.ty) {
            let known: Vec<&str> = catalog.types.keys().map(String::as_str).collect();
            return Err(Error::invalid(format!(
                "intent type {} is not in the module catalog; known: {}",
                naming::shown(&i.ty),
                known.join(", ")
            ))
            .with("field", "intents.type"));
        }
        for (what, s) in [("class", i.class.as_deref()), ("id", i.id.as_deref())] {
            if let Some(s) = s
                && !naming::is_dns1123_label(s)
            {
                return Err(Error::invalid(format!(
                    "intent {what} {} must be a DNS-1123 label",
                    naming::shown(s)
                ))
                .with("field", format!("intents.{what}")));
            }
        }
        for e in i.environments.iter().flatten() {
            if cfg.environment(e).is_none() {
                return Err(Error::invalid(format!(
                    "intent environment {} is not in idp.yaml",
                    naming::shown(e)
                ))
                .with("field", "intents.environments"));
            }
        }
        for e in i.environment_params.keys() {
            if cfg.environment(e).is_none() {
                return Err(Error::invalid(format!(
                    "intent environment {} is not in idp.yaml",
                    naming::shown(e)
                ))
                .with("field", format!("intents.environment_params.{e}")));
            }
        }
        let all = i
            .params
            .keys()
            .map(|k| (k, format!("intents.params.{k}")))
            .chain(i.environment_params.iter().flat_map(|(e, ps)| {
                ps.keys()
                    .map(move |k| (k, format!("intents.environment_params.{e}.{k}")))
            }));
        for (k, field) in all {
            if crate::golden_path::params::is_secret_key(k) {
                return Err(Error::invalid(format!(
                    "intent parameter `{k}` looks like a secret; idp never writes secrets to git — modules \
                     generate credentials and hand them to the service through a Secret"
                ))
                .with("field", field));
            }
        }
        Ok(i)
    }
}

/// One module the resolver considered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Candidate {
    pub module: String,
    pub file: String,
    pub matched: bool,
    pub specificity: u32,
    pub chosen: bool,
    /// One line per constraint: what was compared and the outcome.
    pub reasons: Vec<String>,
}

/// Where an input's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InputSource {
    /// Set by the platform; a request cannot change it.
    Locked,
    /// The module's default for the organization.
    OrgDefault,
    /// The module's default for this environment (or environment type).
    EnvironmentDefault,
    /// Set by the developer's request.
    Developer,
    /// The resource name from the organization's naming pattern.
    Naming,
    /// The organization's required tags.
    Tags,
}

/// One input of the chosen module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResolvedInput {
    pub name: String,
    pub value: Value,
    pub source: InputSource,
    /// The developer-facing parameter that sets it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

/// An environment variable the service gets from the resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Binding {
    /// `LOGS_BUCKET_NAME`
    pub name: String,
    /// The Secret holding the module's outputs.
    pub secret: String,
    /// The key (module output) in that Secret.
    pub key: String,
    /// `bucket:logs`
    pub intent: String,
    /// `aws-s3-bucket@4.2.0`
    pub module: String,
    /// The output is a secret (a password, a token): the Deployment mounts it as a file and
    /// passes its path in `<name>_FILE`, instead of putting the value in the environment.
    #[serde(default)]
    pub sensitive: bool,
}

/// An output of the chosen module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResolvedOutput {
    pub name: String,
    pub secret: bool,
}

/// An intent resolved in one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Resolution {
    /// `bucket:logs`
    pub intent: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub class: Option<String>,
    pub id: String,
    pub environment: String,
    pub module: String,
    pub module_version: String,
    pub flavour: Flavour,
    /// Terraform module address, or the claim's `apiVersion/kind`.
    pub source: String,
    pub resource_name: String,
    /// The Secret the outputs land in.
    pub secret: String,
    /// Where the rendered file goes in the infra repo.
    pub file: String,
    pub candidates: Vec<Candidate>,
    pub inputs: Vec<ResolvedInput>,
    pub outputs: Vec<ResolvedOutput>,
    pub bindings: Vec<Binding>,
    /// Waiver rules (`module-override:<param>`) this resolution needs to be applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<String>,
}

impl Resolution {
    /// Why the chosen module won: its matching reasons, joined (empty if none was chosen).
    pub fn why(&self) -> String {
        self.candidates
            .iter()
            .find(|c| c.chosen)
            .map(|c| c.reasons.join("; "))
            .unwrap_or_default()
    }
}

/// The tags every cloud resource gets, by name.
pub fn standard_tags(
    cfg: &PlatformConfig,
    team: &Team,
    service: &str,
    env: &str,
) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("org".into(), cfg.organization.name.clone()),
        ("team".into(), team.name.clone()),
        (
            "cost-center".into(),
            team.cost_center
                .clone()
                .unwrap_or_else(|| "unassigned".into()),
        ),
        ("env".into(), env.to_string()),
        ("service".into(), service.to_string()),
        ("managed-by".into(), "idp".into()),
    ])
}

pub use crate::config::STANDARD_TAGS;

/// A cloud resource name from the org pattern, within the module's length limit: lowercase
/// letters, digits and single hyphens, starting with a letter; too long gets a stable hash suffix.
pub fn resource_name(
    cfg: &PlatformConfig,
    team: &str,
    service: &str,
    env: &str,
    ty: &str,
    id: &str,
    max: usize,
) -> String {
    let raw = naming::fill(
        &cfg.naming.resource,
        &[
            ("org", &cfg.organization.name),
            ("team", team),
            ("service", service),
            ("env", env),
            ("type", ty),
            ("id", id),
        ],
    )
    .to_ascii_lowercase();
    let mut name = String::with_capacity(raw.len());
    for c in raw.chars() {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else {
            '-'
        };
        if !(c == '-' && (name.is_empty() || name.ends_with('-'))) {
            name.push(c);
        }
    }
    let mut name = name.trim_end_matches('-').to_string();
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name.insert_str(0, "r-");
    }
    let name = naming::truncate_dns(&name, max);
    name.replace("--", "-")
}

/// Resolves `intent` for `service` (owned by `team`) in `env`.
pub fn resolve(
    catalog: &Catalog,
    cfg: &PlatformConfig,
    team: &Team,
    service: &str,
    intent: &Intent,
    env: &Environment,
) -> Result<Resolution> {
    let input = MatchInput {
        class: intent.class.as_deref(),
        environment: &env.name,
        environment_type: &env.env_type,
        team: &team.name,
        service,
    };
    let mut candidates = Vec::new();
    let mut best: Option<(&Module, u32)> = None;
    for m in catalog.of_type(&intent.ty) {
        let (matched, reasons) = m.def.rule.check(&input);
        let spec = m.def.rule.specificity();
        if matched && best.is_none_or(|(_, s)| spec > s) {
            best = Some((m, spec));
        }
        candidates.push(Candidate {
            module: m.id(),
            file: m.file.clone(),
            matched,
            specificity: spec,
            chosen: false,
            reasons,
        });
    }
    let Some((module, _)) = best else {
        return Err(Error::not_found(format!(
            "no module in the catalog matches {} in environment {} ({} candidate(s), none matched)",
            intent.key(),
            env.name,
            candidates.len()
        ))
        .with("field", "intents")
        .with_details(serde_json::to_value(&candidates).unwrap_or_default()));
    };
    for c in &mut candidates {
        c.chosen = c.module == module.id();
    }
    let def = &module.def;

    // Developer parameters: known, not locked, well-typed, within bounds.
    let params = intent.params_in(&env.name);
    for &(k, v, ref field) in &params {
        let Some(pd) = def.params.get(k) else {
            if def.locked.contains_key(k) || *k == def.naming.input || k == "tags" {
                return Err(Error::invalid(format!(
                    "{}: input `{k}` is locked by the platform in {} and cannot be overridden",
                    intent.key(),
                    module.id()
                ))
                .with("field", field.clone()));
            }
            let known: Vec<&str> = def.params.keys().map(String::as_str).collect();
            return Err(Error::invalid(format!(
                "{}: {} has no parameter `{k}`; it accepts: {}",
                intent.key(),
                module.id(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
            .with("field", field.clone()));
        };
        super::catalog::check_value(pd, v).map_err(|m| {
            Error::invalid(format!(
                "{}: parameter `{k}` of {}: {m}",
                intent.key(),
                module.id()
            ))
            .with("field", field.clone())
        })?;
    }

    let mut inputs = Vec::new();
    for (k, v) in &def.locked {
        inputs.push(ResolvedInput {
            name: k.clone(),
            value: v.clone(),
            source: InputSource::Locked,
            param: None,
        });
    }
    let mut approvals = Vec::new();
    for (p, pd) in &def.params {
        // The environment's own default wins over its type's, parameter by parameter.
        let env_default = def
            .environment_defaults
            .get(&env.name)
            .and_then(|d| d.get(p))
            .or_else(|| {
                def.environment_defaults
                    .get(&env.env_type)
                    .and_then(|d| d.get(p))
            });
        let given = params.iter().find(|(k, _, _)| *k == p).map(|(_, v, _)| *v);
        let (value, source) = match (given, env_default) {
            (Some(v), _) => (v.clone(), InputSource::Developer),
            (None, Some(v)) => (v.clone(), InputSource::EnvironmentDefault),
            (None, None) => (pd.default.clone(), InputSource::OrgDefault),
        };
        if source == InputSource::Developer {
            let default = env_default.unwrap_or(&pd.default);
            let n = value.as_f64();
            let needs = (pd.approval && &value != default)
                || pd.approval_below.zip(n).is_some_and(|(b, n)| n < b)
                || pd.approval_above.zip(n).is_some_and(|(a, n)| n > a);
            if needs {
                approvals.push(crate::policy::waivers::module_override(p));
            }
        }
        let name = pd.input.clone().unwrap_or_else(|| p.clone());
        inputs.push(ResolvedInput {
            name,
            value,
            source,
            param: Some(p.clone()),
        });
    }
    let name = resource_name(
        cfg,
        &team.name,
        service,
        &env.name,
        &intent.ty,
        intent.id(),
        def.naming.max_length,
    );
    inputs.push(ResolvedInput {
        name: def.naming.input.clone(),
        value: Value::String(name.clone()),
        source: InputSource::Naming,
        param: None,
    });
    let tags = standard_tags(cfg, team, service, &env.name);
    inputs.push(ResolvedInput {
        name: "tags".into(),
        value: serde_json::to_value(tags).expect("tags serialize"),
        source: InputSource::Tags,
        param: None,
    });
    inputs.sort_by(|a, b| a.name.cmp(&b.name));

    let secret = naming::truncate_dns(&format!("{service}-{}-{}", intent.ty, intent.id()), 63);
    let tdef = catalog
        .types
        .get(&intent.ty)
        .expect("type checked at intent parse");
    let prefix = intent.id().to_ascii_uppercase().replace('-', "_");
    let mut bindings = Vec::new();
    for (var, out) in &tdef.bindings {
        if !def.outputs.contains_key(out) {
            return Err(Error::invalid(format!(
                "{} lacks output `{out}`, which the service's {var} binding needs",
                module.id()
            )));
        }
        bindings.push(Binding {
            name: format!("{prefix}_{var}"),
            secret: secret.clone(),
            key: out.clone(),
            intent: intent.key(),
            module: module.id(),
            sensitive: def.outputs[out].secret,
        });
    }
    let (source, dir, ext) = match def.flavour {
        Flavour::Terraform => (def.source.clone().unwrap_or_default(), "terraform", "tf"),
        Flavour::Crossplane => {
            let c = def.claim.as_ref().expect("checked at load");
            (
                format!("{}/{}", c.api_version, c.kind),
                "crossplane",
                "yaml",
            )
        }
    };
    Ok(Resolution {
        intent: intent.key(),
        ty: intent.ty.clone(),
        class: intent.class.clone(),
        id: intent.id().to_string(),
        environment: env.name.clone(),
        module: def.name.clone(),
        module_version: def.version.clone(),
        flavour: def.flavour,
        source,
        resource_name: name,
        secret,
        file: format!(
            "{dir}/{}/{service}/{}-{}.{ext}",
            env.name,
            intent.ty,
            intent.id()
        ),
        candidates,
        inputs,
        outputs: def
            .outputs
            .iter()
            .map(|(n, o)| ResolvedOutput {
                name: n.clone(),
                secret: o.secret,
            })
            .collect(),
        bindings,
        approvals,
    })
}
