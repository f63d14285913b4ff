//! `idp.yaml`: the organization, its environments, naming rules, required labels and tags, and
//! which providers hold repos and state.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The parsed `idp.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformConfig {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub organization: Organization,
    #[serde(default)]
    pub defaults: Defaults,
    pub environments: Vec<Environment>,
    #[serde(default)]
    pub naming: Naming,
    #[serde(default)]
    pub labels: RequiredKeys,
    #[serde(default)]
    pub tags: RequiredKeys,
    #[serde(default)]
    pub providers: Providers,
    /// Guardrail settings (conventions checked on every change set before it is written).
    #[serde(default)]
    pub guardrails: GuardrailsConfig,
    /// Declared change windows: a request naming one that is open now may change protected
    /// environments without a waiver.
    #[serde(default)]
    pub change_windows: Vec<ChangeWindow>,
}

/// A period in which changes to protected environments are pre-approved.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeWindow {
    pub name: String,
    /// RFC 3339.
    pub start: String,
    /// RFC 3339.
    pub end: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    pub name: String,
    pub domain: String,
    pub image_registry: String,
    #[serde(default)]
    pub bot: Bot,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bot {
    pub name: String,
    pub email: String,
}

impl Default for Bot {
    fn default() -> Self {
        Bot {
            name: "idp-bot".into(),
            email: "idp-bot@localhost".into(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// The golden path used when a request names none.
    pub golden_path: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    pub name: String,
    /// Free-form grouping such as `prod` / `non-prod`, used by module matching rules.
    #[serde(rename = "type")]
    pub env_type: String,
    /// A protected environment needs an approval or a change window to be changed.
    #[serde(default)]
    pub protected: bool,
    #[serde(default = "default_cluster")]
    pub cluster: String,
    #[serde(default)]
    pub replicas: Replicas,
}

fn default_cluster() -> String {
    "https://kubernetes.default.svc".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replicas {
    pub min: u32,
    pub max: u32,
}

impl Default for Replicas {
    fn default() -> Self {
        Replicas { min: 1, max: 3 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Naming {
    #[serde(default)]
    pub service: ServiceNaming,
    /// Kubernetes namespace of a service in an environment; placeholders `{org} {team} {service} {env}`.
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// Cloud resource names; placeholders `{org} {team} {service} {env} {type} {id}`.
    #[serde(default = "default_resource_name")]
    pub resource: String,
}

impl Default for Naming {
    fn default() -> Self {
        Naming {
            service: ServiceNaming::default(),
            namespace: default_namespace(),
            resource: default_resource_name(),
        }
    }
}

fn default_namespace() -> String {
    "{team}-{env}".into()
}

fn default_resource_name() -> String {
    "{org}-{team}-{service}-{env}-{type}-{id}".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceNaming {
    /// A regular expression every service name must match (on top of DNS-1123).
    pub pattern: Option<String>,
    #[serde(default = "default_max_len")]
    pub max_length: usize,
    #[serde(default)]
    pub reserved: Vec<String>,
}

impl Default for ServiceNaming {
    fn default() -> Self {
        ServiceNaming {
            pattern: None,
            max_length: default_max_len(),
            reserved: Vec::new(),
        }
    }
}

fn default_max_len() -> usize {
    63
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredKeys {
    #[serde(default)]
    pub required: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Providers {
    #[serde(default)]
    pub source_control: SourceControlConfig,
    #[serde(default)]
    pub state: KindOnly,
}

/// `providers.source_control`: which [`SourceControl`](crate::providers::SourceControl) to use.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceControlConfig {
    #[serde(default = "default_scm_kind")]
    pub kind: String,
    #[serde(default = "default_branch")]
    pub default_branch: String,
    #[serde(default = "yes")]
    pub auto_merge: bool,
    #[serde(default = "default_gitops_repo")]
    pub gitops_repo: String,
    #[serde(default = "default_infra_repo")]
    pub infra_repo: String,
    /// The URL generated files use to point at a repo (Argo CD's `repoURL`), with `{repo}`: the
    /// organization's git server as clusters see it. Default: the provider's own URL.
    #[serde(default)]
    pub remote_url: Option<String>,
}

impl Default for SourceControlConfig {
    fn default() -> Self {
        SourceControlConfig {
            kind: default_scm_kind(),
            default_branch: default_branch(),
            auto_merge: true,
            gitops_repo: default_gitops_repo(),
            infra_repo: default_infra_repo(),
            remote_url: None,
        }
    }
}

fn default_scm_kind() -> String {
    "local-git".into()
}
fn default_branch() -> String {
    "main".into()
}
fn yes() -> bool {
    true
}
fn default_gitops_repo() -> String {
    "gitops".into()
}
fn default_infra_repo() -> String {
    "infra".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindOnly {
    pub kind: String,
}

impl Default for KindOnly {
    fn default() -> Self {
        KindOnly {
            kind: "sqlite".into(),
        }
    }
}

/// Parses YAML into `T`, naming the file and the field path on error.
pub fn parse_yaml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T> {
    let de = serde_norway::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let mut err = Error::invalid(format!("{file}: {inner}")).with("file", file);
        if path != "." && !path.is_empty() {
            err = err.with("field", path);
        }
        err
    })
}

impl PlatformConfig {
    /// Checks what serde cannot: unique environment names, sane replicas, valid regexes.
    pub fn validate(&self, file: &str) -> Result<()> {
        let bad = |field: String, msg: String| {
            Error::invalid(format!("{file}: {msg}"))
                .with("file", file)
                .with("field", field)
        };
        if self.kind != "Platform" {
            return Err(bad(
                "kind".into(),
                format!("expected `Platform`, found `{}`", self.kind),
            ));
        }
        if self.environments.is_empty() {
            return Err(bad(
                "environments".into(),
                "at least one environment is required".into(),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, env) in self.environments.iter().enumerate() {
            if !crate::naming::is_dns1123_label(&env.name) {
                return Err(bad(
                    format!("environments[{i}].name"),
                    format!(
                        "`{}` is not a DNS-1123 label (lowercase letters, digits, '-')",
                        env.name
                    ),
                ));
            }
            if !seen.insert(env.name.as_str()) {
                return Err(bad(
                    format!("environments[{i}].name"),
                    format!("environment `{}` is defined twice", env.name),
                ));
            }
            if env.replicas.min == 0 || env.replicas.min > env.replicas.max {
                return Err(bad(
                    format!("environments[{i}].replicas"),
                    format!(
                        "expected 1 <= min <= max, found min {} max {}",
                        env.replicas.min, env.replicas.max
                    ),
                ));
            }
        }
        if let Some(p) = &self.naming.service.pattern {
            crate::naming::compile_pattern(p).map_err(|e| {
                bad(
                    "naming.service.pattern".into(),
                    format!("not a valid regular expression: {e}"),
                )
            })?;
        }
        crate::naming::check_placeholders_in(
            &self.naming.namespace,
            &crate::naming::NAMESPACE_PLACEHOLDERS,
        )
        .map_err(|m| bad("naming.namespace".into(), m))?;
        crate::naming::check_placeholders(&self.naming.resource)
            .map_err(|m| bad("naming.resource".into(), m))?;
        if let Some(u) = &self.providers.source_control.remote_url
            && !u.contains("{repo}")
        {
            return Err(bad(
                "providers.source_control.remote_url".into(),
                format!("`{u}` must contain the placeholder {{repo}}"),
            ));
        }
        for (i, t) in self.tags.required.iter().enumerate() {
            if !STANDARD_TAGS.contains(&t.as_str()) {
                return Err(bad(
                    format!("tags.required[{i}]"),
                    format!(
                        "`{t}` is not a tag idp can fill; known: {}",
                        STANDARD_TAGS.join(", ")
                    ),
                ));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, w) in self.change_windows.iter().enumerate() {
            let start = chrono::DateTime::parse_from_rfc3339(&w.start);
            let end = chrono::DateTime::parse_from_rfc3339(&w.end);
            match (start, end) {
                (Ok(s), Ok(e)) if s < e => {}
                _ => {
                    return Err(bad(
                        format!("change_windows[{i}]"),
                        "start and end must be RFC 3339 times with start before end".into(),
                    ));
                }
            }
            if !names.insert(w.name.as_str()) {
                return Err(bad(
                    format!("change_windows[{i}].name"),
                    format!("`{}` is defined twice", w.name),
                ));
            }
        }
        Ok(())
    }

    /// True when change window `name` exists and is open at `now`.
    pub fn change_window_open(
        &self,
        name: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<bool> {
        let w = self.change_windows.iter().find(|w| w.name == name)?;
        let s = chrono::DateTime::parse_from_rfc3339(&w.start).ok()?;
        let e = chrono::DateTime::parse_from_rfc3339(&w.end).ok()?;
        Some(s <= now && now < e)
    }

    /// Checks a service name against DNS-1123 and the organization's rule.
    ///
    /// ```
    /// # let cfg = idp_core::Platform::builtin_config().unwrap();
    /// assert!(cfg.check_service_name("payments-api").is_ok());
    /// assert!(cfg.check_service_name("../../etc").is_err());
    /// ```
    pub fn check_service_name(&self, name: &str) -> Result<()> {
        let cfg = self;
        let shown = crate::naming::shown(name);
        let err = |why: String| {
            Error::invalid(format!("service name {shown} is not allowed: {why}"))
                .with("field", "service")
        };
        if !crate::naming::is_dns1123_label(name) {
            return Err(err(
                "a service name must be a DNS-1123 label: 1-63 lowercase letters, digits or '-', \
                 starting and ending with a letter or digit"
                    .into(),
            ));
        }
        let rule = &cfg.naming.service;
        if name.len() > rule.max_length {
            return Err(err(format!(
                "at most {} characters (naming.service.max_length)",
                rule.max_length
            )));
        }
        if rule.reserved.iter().any(|r| r == name) {
            return Err(err(
                "the name is reserved by the platform (naming.service.reserved)".into(),
            ));
        }
        if let Some(p) = &rule.pattern {
            let re = crate::naming::compile_pattern(p)
                .map_err(|e| Error::internal(format!("naming pattern: {e}")))?;
            if !re.is_match(name) {
                return Err(err(format!(
                    "it must match the organization's pattern `{p}`"
                )));
            }
        }
        Ok(())
    }

    /// The namespace of `service` owned by `team` in `env`.
    pub fn namespace(&self, team: &str, service: &str, env: &str) -> String {
        let cfg = self;
        let ns = crate::naming::fill(
            &cfg.naming.namespace,
            &[
                ("org", &cfg.organization.name),
                ("team", team),
                ("service", service),
                ("env", env),
            ],
        );
        crate::naming::truncate_dns(&ns, 63)
    }

    /// The environment called `name`.
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name == name)
    }
}

/// What a rule does when it finds something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enforcement {
    /// Stops the operation (unless a valid waiver covers it).
    Deny,
    /// Reported in the receipt.
    Warn,
    /// Not checked.
    Off,
}

/// `guardrails:` in idp.yaml.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardrailsConfig {
    /// Rule -> enforcement; rules not listed are `deny`.
    #[serde(default)]
    pub conventions: std::collections::BTreeMap<String, Enforcement>,
}

/// Tag names [`standard_tags`](crate::intent::resolve::standard_tags) provides (what `tags.required` may ask for).
pub const STANDARD_TAGS: [&str; 6] = ["org", "team", "cost-center", "env", "service", "managed-by"];
