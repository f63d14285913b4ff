//! `idp.yaml`: the organization, its environments, naming rules, required labels and tags, and
//! which providers hold repos and state.

use std::collections::BTreeMap;

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
    pub labels: LabelsConfig,
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
    /// The organization's IANA time zone (`Europe/Berlin`): authorization policies see the
    /// request's weekday and hour in it (`context.time`). Default: UTC.
    #[serde(default = "utc")]
    pub time_zone: String,
}

fn utc() -> String {
    "UTC".into()
}

impl Organization {
    /// The time zone (checked when the platform loads; UTC if it does not parse).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::UTC)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bot {
    pub name: String,
    pub email: String,
}

impl Bot {
    /// Git writes the bot's name and email into every commit header: a newline, `<` or `>` there
    /// makes a malformed commit. Returns the bad field and why.
    pub fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        let bad_char = |c: char| c.is_control() || c == '<' || c == '>';
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(bad_char) {
            return Err((
                "name",
                format!(
                    "{} must be 1-100 characters with no control characters, `<` or `>`",
                    crate::naming::shown(&self.name)
                ),
            ));
        }
        let email = &self.email;
        let ok = email.len() <= 254
            && !email.chars().any(|c| bad_char(c) || c.is_whitespace())
            && email.split_once('@').is_some_and(|(local, host)| {
                !local.is_empty() && !host.is_empty() && !host.contains('@')
            });
        if !ok {
            return Err((
                "email",
                format!(
                    "{} is not an email address (`name@host`, no spaces, control characters, `<` or `>`)",
                    crate::naming::shown(email)
                ),
            ));
        }
        Ok(())
    }
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

/// `labels:` in idp.yaml: the labels every Kubernetes object must carry (checked by the
/// `labels-required` convention), and the labels idp puts on everything it renders.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelsConfig {
    #[serde(default)]
    pub required: Vec<String>,
    /// Labels beside idp's own (`app.kubernetes.io/name`, `part-of`, `managed-by`, `team`,
    /// `cost-center`, `env`), or other values for those: name -> value, where the value may use
    /// `{service}`, `{team}`, `{cost_center}`, `{env}`, `{org}`, `{golden_path}` and
    /// `{param.NAME}` (a golden-path parameter of the service).
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

/// The placeholders a label value may use, besides `{param.NAME}`.
const LABEL_PLACEHOLDERS: [&str; 6] = [
    "service",
    "team",
    "cost_center",
    "env",
    "org",
    "golden_path",
];

impl LabelsConfig {
    /// Checks the names and the placeholders of `values`.
    fn validate(&self) -> std::result::Result<(), (String, String)> {
        for (name, value) in &self.values {
            let field = format!("labels.values.{name}");
            if !crate::naming::is_label_key(name) {
                return Err((
                    field,
                    format!("`{name}` is not a Kubernetes label key ([prefix/]name)"),
                ));
            }
            for p in placeholders(value) {
                let known = LABEL_PLACEHOLDERS.contains(&p)
                    || p.strip_prefix("param.").is_some_and(|n| !n.is_empty());
                if !known {
                    return Err((
                        field,
                        format!(
                            "unknown placeholder {{{p}}}; known: {}, {{param.NAME}}",
                            LABEL_PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The `{...}` placeholders of a pattern.
fn placeholders(s: &str) -> impl Iterator<Item = &str> {
    s.split('{')
        .skip(1)
        .filter_map(|p| p.split_once('}').map(|(p, _)| p))
}

/// `providers:` in idp.yaml: where repos, state and the audit log live. Each is one typed
/// variant per `kind:`; an unknown kind fails the load with the list of known ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Providers {
    #[serde(default)]
    pub source_control: SourceControlConfig,
    #[serde(default)]
    pub state: StateConfig,
    /// Where audit records go; default: the same kind as `state`.
    #[serde(default)]
    pub audit: Option<AuditConfig>,
}

/// `providers.source_control`: which [`SourceControl`](crate::providers::SourceControl) holds
/// the repos (`provider`, selected by `kind:`), and how idp names and merges them (the fields
/// every kind shares).
#[derive(Debug, Clone, Serialize)]
pub struct SourceControlConfig {
    #[serde(flatten)]
    pub provider: SourceControlProvider,
    pub default_branch: String,
    pub auto_merge: bool,
    pub gitops_repo: String,
    pub infra_repo: String,
    /// The URL generated files use to point at a repo (Argo CD's `repoURL`), with `{repo}`: the
    /// organization's git server as clusters see it. Default: the provider's own URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_url: Option<String>,
}

/// The kind-specific part of `providers.source_control`, tagged by `kind:`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SourceControlProvider {
    /// Bare git repositories under the workspace (`repos/`): the embedded default.
    LocalGit {},
    /// GitHub (github.com or GitHub Enterprise Server) over its REST API v3; needs idp built
    /// with the `forges` feature (the CLI and the bindings are).
    Github(ForgeConfig),
    /// GitLab (gitlab.com or self-managed) over its REST API v4, with merge requests; `owner`
    /// is a group path (`acme` or `acme/services`) or a user.
    Gitlab(ForgeConfig),
    /// Gitea or Forgejo over its REST API v1.
    Gitea(ForgeConfig),
}

impl SourceControlProvider {
    /// The `kind:` string.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceControlProvider::LocalGit {} => "local-git",
            SourceControlProvider::Github(_) => "github",
            SourceControlProvider::Gitlab(_) => "gitlab",
            SourceControlProvider::Gitea(_) => "gitea",
        }
    }
}

/// Where a forge is and how idp works with it (`kind: github`, `gitlab` or `gitea`).
///
/// ```yaml
/// providers:
///   source_control:
///     kind: github
///     api_url: https://api.github.com   # GitHub Enterprise: https://HOST/api/v3,
///                                       # GitLab: https://HOST/api/v4, Gitea: https://HOST/api/v1
///     owner: acme                       # the organization (or user) the repos live in
///     token: { env: IDP_GITHUB_TOKEN }  # or { file: /run/secrets/github-token }
///     auto_merge: true
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForgeConfig {
    /// The API root.
    pub api_url: String,
    /// The organization, group (GitLab: a path such as `acme/services`) or user that owns the
    /// repositories.
    pub owner: String,
    /// A personal access token or an installation token (never written in idp.yaml). When
    /// absent, the host's token for the forge's host is used (`PlatformBuilder::host_token`:
    /// a Backstage backend passes its `integrations` credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<SecretRef>,
    /// A GitHub App instead of a token (`kind: github`): idp mints the app installation's
    /// tokens itself and renews them before they expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<GitHubApp>,
    /// The forge's web address, when it is not derived from `api_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_url: Option<String>,
    /// How pull requests are merged.
    #[serde(default)]
    pub merge_method: MergeMethod,
    /// Labels put on every pull request idp opens.
    #[serde(default = "default_labels")]
    pub labels: Vec<String>,
    /// Requests in flight at once, per provider (keep it within the forge's rate limits).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Attempts per request (5xx, 429, secondary rate limits, timeouts, dropped connections).
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// The longest single wait before a retry; a rate limit that resets later fails the call
    /// with a retryable error instead.
    #[serde(default = "default_max_wait")]
    pub max_retry_wait_secs: u64,
    /// Per-request timeout.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// The secret the forge signs webhook deliveries with (GitHub's `X-Hub-Signature-256`,
    /// Gitea's and Forgejo's `X-Gitea-Signature`) or sends with them (GitLab's
    /// `X-Gitlab-Token`); needed to feed deliveries to `Platform::forge_webhook`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<SecretRef>,
}

/// `app:` a GitHub App that acts for idp (`kind: github`).
///
/// ```yaml
/// app:
///   app_id: 123456
///   installation_id: 7890123            # the app's installation in the organization
///   private_key: { file: /run/secrets/github-app.pem }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitHubApp {
    pub app_id: u64,
    pub installation_id: u64,
    /// The app's private key (PEM), never written in idp.yaml.
    pub private_key: SecretRef,
}

fn default_labels() -> Vec<String> {
    vec!["idp".into()]
}
fn default_concurrency() -> usize {
    8
}
fn default_attempts() -> u32 {
    6
}
fn default_max_wait() -> u64 {
    60
}
fn default_timeout() -> u64 {
    30
}

/// `merge_method:` how a forge merges idp's pull requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeMethod {
    /// A merge commit (the forges' default).
    #[default]
    Merge,
    /// One commit on the default branch.
    Squash,
    /// Fast-forward when the branch already contains the default branch.
    Rebase,
}

impl Default for SourceControlConfig {
    fn default() -> Self {
        SourceControlConfig {
            provider: SourceControlProvider::LocalGit {},
            default_branch: "main".into(),
            auto_merge: true,
            gitops_repo: "gitops".into(),
            infra_repo: "infra".into(),
            remote_url: None,
        }
    }
}

impl<'de> Deserialize<'de> for SourceControlConfig {
    /// The shared fields are taken out first; what is left must be exactly one kind's fields
    /// (serde's `flatten` would accept unknown fields silently).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let mut out = SourceControlConfig::default();
        let mut take = |key: &str| map.remove(key);
        let string = |key: &str, v: serde_json::Value| -> std::result::Result<String, D::Error> {
            match v {
                serde_json::Value::String(s) => Ok(s),
                other => Err(D::Error::custom(format!(
                    "{key}: expected a string, found {other}"
                ))),
            }
        };
        if let Some(v) = take("default_branch") {
            out.default_branch = string("default_branch", v)?;
        }
        if let Some(v) = take("auto_merge") {
            out.auto_merge = v.as_bool().ok_or_else(|| {
                D::Error::custom(format!("auto_merge: expected true or false, found {v}"))
            })?;
        }
        if let Some(v) = take("gitops_repo") {
            out.gitops_repo = string("gitops_repo", v)?;
        }
        if let Some(v) = take("infra_repo") {
            out.infra_repo = string("infra_repo", v)?;
        }
        if let Some(v) = take("remote_url") {
            out.remote_url = Some(string("remote_url", v)?);
        }
        map.entry("kind")
            .or_insert_with(|| serde_json::Value::String("local-git".into()));
        out.provider = serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| {
            D::Error::custom(format!(
                "{e}; the fields every kind takes are default_branch, auto_merge, gitops_repo, infra_repo, remote_url"
            ))
        })?;
        Ok(out)
    }
}

/// `providers.state`: where runs, services, change requests, waivers and locks live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum StateConfig {
    /// An SQLite file in the workspace (`state.db`): the embedded default.
    Sqlite {},
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig::Sqlite {}
    }
}

impl StateConfig {
    /// The `kind:` string.
    pub fn kind(&self) -> &'static str {
        match self {
            StateConfig::Sqlite {} => "sqlite",
        }
    }
}

/// `providers.audit`: where the hash-chained audit log lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AuditConfig {
    /// An SQLite file in the workspace (`audit.db`), checkpoints signed with a workspace key.
    Sqlite {},
}

/// A secret named in idp.yaml, never written there: an environment variable or a file (a
/// mounted Kubernetes or Docker secret). `Debug` shows where it comes from, never its value.
///
/// ```yaml
/// token: { env: IDP_GITHUB_TOKEN }
/// password: { file: /run/secrets/db-password }
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum SecretRef {
    Env(String),
    File(std::path::PathBuf),
}

impl std::fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretRef::Env(name) => write!(f, "SecretRef(env {name})"),
            SecretRef::File(path) => write!(f, "SecretRef(file {})", path.display()),
        }
    }
}

impl SecretRef {
    /// Reads the secret. Errors say where it was looked for, never what was found.
    pub fn resolve(&self) -> Result<Secret> {
        match self {
            SecretRef::Env(name) => match std::env::var(name) {
                Ok(v) if !v.trim().is_empty() => Ok(Secret(v.trim().to_string())),
                _ => Err(Error::invalid(format!(
                    "the secret in environment variable {name} is not set (or empty)"
                ))
                .with("field", name.clone())),
            },
            SecretRef::File(path) => match std::fs::read_to_string(path) {
                Ok(v) if !v.trim().is_empty() => Ok(Secret(v.trim().to_string())),
                Ok(_) => Err(Error::invalid(format!(
                    "the secret file {} is empty",
                    path.display()
                ))),
                Err(e) => Err(Error::invalid(format!(
                    "cannot read the secret file {}: {}",
                    path.display(),
                    e.kind()
                ))),
            },
        }
    }
}

/// A secret's value. It has no `Display`; `Debug` prints `***`; [`Secret::expose`] is the one
/// way to read it, at the point where it is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
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
        self.labels.validate().map_err(|(f, m)| bad(f, m))?;
        if self
            .organization
            .time_zone
            .parse::<chrono_tz::Tz>()
            .is_err()
        {
            return Err(bad(
                "organization.time_zone".into(),
                format!(
                    "`{}` is not an IANA time zone (such as UTC or Europe/Berlin)",
                    self.organization.time_zone
                ),
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
        // The namespace is a folder in the GitOps repo and a Kubernetes name: its literal text
        // must keep it a DNS-1123 label (`../{team}/{env}` would write outside the service).
        let sample = crate::naming::fill(
            &self.naming.namespace,
            &crate::naming::NAMESPACE_PLACEHOLDERS.map(|p| (p, "a")),
        );
        if !crate::naming::is_dns1123_label(&sample) {
            return Err(bad(
                "naming.namespace".into(),
                format!(
                    "{} does not make a DNS-1123 label: outside the placeholders use only \
                     lowercase letters, digits and '-'",
                    crate::naming::shown(&self.naming.namespace)
                ),
            ));
        }
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
        self.organization
            .bot
            .check()
            .map_err(|(field, m)| bad(format!("organization.bot.{field}"), m))?;
        let mut shared = std::collections::BTreeMap::new();
        for (field, name) in self.shared_repos() {
            let field = format!("providers.source_control.{field}");
            if !crate::naming::is_dns1123_label(name) {
                return Err(bad(
                    field,
                    format!(
                        "{} is not a DNS-1123 label (lowercase letters, digits, '-')",
                        crate::naming::shown(name)
                    ),
                ));
            }
            if let Some(other) = shared.insert(name, field.clone()) {
                return Err(bad(
                    field,
                    format!(
                        "`{name}` is already the name of {other}: every shared repo needs its own name"
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

    /// The labels of a service's Kubernetes objects, in the order idp writes them: its own
    /// (`app.kubernetes.io/name`, `part-of`, `managed-by`, `team`, `cost-center`, and `env` when
    /// `env` is given), then the other names of `labels.values`, by name. Each value, or why it
    /// cannot be made (a parameter the service does not have, a value Kubernetes refuses).
    pub fn service_labels(
        &self,
        service: &str,
        team: &str,
        cost_center: &str,
        golden_path: &str,
        params: &serde_json::Map<String, serde_json::Value>,
        env: Option<&str>,
    ) -> Vec<(String, std::result::Result<String, String>)> {
        let mut own: Vec<(&str, String)> = vec![
            ("app.kubernetes.io/name", service.into()),
            ("app.kubernetes.io/part-of", service.into()),
            ("app.kubernetes.io/managed-by", "idp".into()),
            ("team", team.into()),
            ("cost-center", cost_center.into()),
        ];
        if let Some(e) = env {
            own.push(("env", e.into()));
        }
        let fill = |pattern: &str| -> std::result::Result<String, String> {
            let mut out = pattern.to_string();
            for p in placeholders(pattern) {
                let value = match p {
                    "service" => service.to_string(),
                    "team" => team.to_string(),
                    "cost_center" => cost_center.to_string(),
                    "org" => self.organization.name.clone(),
                    "golden_path" => golden_path.to_string(),
                    // Objects outside any environment get the label without it.
                    "env" => env.unwrap_or_default().to_string(),
                    _ => {
                        let name = p.strip_prefix("param.").unwrap_or(p);
                        match params.get(name) {
                            Some(serde_json::Value::String(s)) => s.clone(),
                            Some(
                                v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_)),
                            ) => v.to_string(),
                            _ => {
                                return Err(format!(
                                    "takes {{{p}}}, but {golden_path} has no string, number or \
                                     boolean parameter {name}"
                                ));
                            }
                        }
                    }
                };
                out = out.replace(&format!("{{{p}}}"), &value);
            }
            if crate::naming::is_label_value(&out) {
                Ok(out)
            } else {
                Err(format!(
                    "would be {}, which is not a Kubernetes label value (at most 63 letters, \
                     digits, '-', '_' or '.', starting and ending with a letter or digit)",
                    crate::naming::shown(&out)
                ))
            }
        };
        let mut out: Vec<(String, std::result::Result<String, String>)> = own
            .into_iter()
            .map(|(name, value)| match self.labels.values.get(name) {
                Some(pattern) => (name.to_string(), fill(pattern)),
                None => (name.to_string(), Ok(value)),
            })
            .collect();
        for (name, pattern) in &self.labels.values {
            if !out.iter().any(|(n, _)| n == name) {
                out.push((name.clone(), fill(pattern)));
            }
        }
        out
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
        if let Some((field, _)) = self.shared_repos().find(|(_, r)| *r == name) {
            return Err(err(format!(
                "it is the name of a repository every service shares (providers.source_control.{field})"
            )));
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

    /// The repositories every service shares, as (idp.yaml field, repo name). A service may never
    /// take one of these names: its repo would be the shared one.
    pub fn shared_repos(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let sc = &self.providers.source_control;
        [
            ("gitops_repo", sc.gitops_repo.as_str()),
            ("infra_repo", sc.infra_repo.as_str()),
        ]
        .into_iter()
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn providers(yaml: &str) -> Result<Providers> {
        parse_yaml("idp.yaml", yaml)
    }

    #[test]
    fn provider_kinds_are_typed_and_unknown_kinds_and_fields_are_refused() {
        let p = providers(
            "source_control: { kind: local-git, auto_merge: false }\nstate: { kind: sqlite }",
        )
        .unwrap();
        assert_eq!(
            p.source_control.provider,
            SourceControlProvider::LocalGit {}
        );
        assert!(!p.source_control.auto_merge);
        assert_eq!(p.source_control.gitops_repo, "gitops");
        let e = providers("source_control: { kind: bitbucket }").unwrap_err();
        assert!(
            e.message().contains("unknown variant `bitbucket`")
                && e.message().contains("local-git"),
            "{e}"
        );
        let e = providers("source_control: { kind: local-git, tokn: x }").unwrap_err();
        assert!(e.message().contains("tokn"), "{e}");
        let e = providers("state: { kind: mongo }").unwrap_err();
        assert!(e.message().contains("sqlite"), "{e}");
    }

    #[test]
    fn secrets_never_show_their_value() {
        // SAFETY: a variable only this test reads.
        unsafe { std::env::set_var("IDP_TEST_SECRET_VALUE", "hunter2-token") };
        let r: SecretRef = serde_json::from_str(r#"{"env": "IDP_TEST_SECRET_VALUE"}"#).unwrap();
        let s = r.resolve().unwrap();
        assert_eq!(s.expose(), "hunter2-token");
        for shown in [format!("{r:?}"), format!("{s:?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        let missing = SecretRef::Env("IDP_TEST_SECRET_UNSET".into())
            .resolve()
            .unwrap_err();
        assert!(missing.to_string().contains("IDP_TEST_SECRET_UNSET"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t"), "file-secret\n").unwrap();
        let f = SecretRef::File(dir.path().join("t")).resolve().unwrap();
        assert_eq!(f.expose(), "file-secret");
        assert!(serde_json::from_str::<SecretRef>(r#"{"value": "x"}"#).is_err());
    }
}
