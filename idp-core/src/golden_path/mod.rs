//! Golden paths: data (`path.yaml` + Tera templates) that says what each step renders, into which
//! repo, and who owns every file afterwards.

mod context;
pub mod params;
mod version;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use context::{ServiceContext, build_context};
pub use params::{ParameterSchema, Parameters};
pub use version::Version;

use crate::error::{Error, Result};

/// A step of a golden path: one operation that produces a change set in one repo.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StepId {
    BootstrapService,
    WireCi,
    ProvisionGitops,
    AttachObservability,
    RequestInfraResource,
}

impl StepId {
    /// Steps in golden-path order.
    pub const ORDER: [StepId; 5] = [
        StepId::BootstrapService,
        StepId::WireCi,
        StepId::ProvisionGitops,
        StepId::AttachObservability,
        StepId::RequestInfraResource,
    ];

    /// `bootstrap_service`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            StepId::BootstrapService => "bootstrap_service",
            StepId::WireCi => "wire_ci",
            StepId::ProvisionGitops => "provision_gitops",
            StepId::AttachObservability => "attach_observability",
            StepId::RequestInfraResource => "request_infra_resource",
        }
    }

    /// Parses `bootstrap_service` or `bootstrap-service`.
    pub fn parse(s: &str) -> Option<StepId> {
        let s = s.replace('-', "_");
        StepId::ORDER.into_iter().find(|st| st.as_str() == s)
    }
}

impl std::fmt::Display for StepId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which repository a step writes to.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RepoRole {
    /// The service's own repository (named after the service).
    Service,
    /// The shared GitOps repository.
    Gitops,
    /// The shared infrastructure repository.
    Infra,
}

impl RepoRole {
    pub fn as_str(self) -> &'static str {
        match self {
            RepoRole::Service => "service",
            RepoRole::Gitops => "gitops",
            RepoRole::Infra => "infra",
        }
    }
}

/// Who owns a file after it is written.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Ownership {
    /// The platform owns it: reruns and upgrades replace it.
    Managed,
    /// Shared: three-way merged on upgrade so the team's edits are kept.
    Merged,
    /// Written once, then the team's: idp never touches it again.
    Seeded,
}

impl Ownership {
    pub fn as_str(self) -> &'static str {
        match self {
            Ownership::Managed => "managed",
            Ownership::Merged => "merged",
            Ownership::Seeded => "seeded",
        }
    }

    /// The default advice on overriding a file of this ownership safely.
    pub fn default_override(self) -> &'static str {
        match self {
            Ownership::Managed => {
                "The platform manages this file: a local edit is reported and replaced by the next \
                 run or upgrade. Change it through the golden path's parameters, or propose the \
                 change to the golden path (`idp upgrade --keep` keeps an edit through one upgrade)."
            }
            Ownership::Merged => {
                "Edit freely: your changes are three-way merged with what idp renders, on every run \
                 and upgrade; an edit to the same key (or lines) as a change is reported as a \
                 conflict."
            }
            Ownership::Seeded => "Yours: written once at creation, never changed by idp again.",
        }
    }
}

/// Files rendered once per item of a list in the context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ForEach {
    /// Once per environment of `idp.yaml`, with `env` in the context.
    Environment,
}

/// One file of a step, as declared in `path.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDef {
    /// Where the file goes in the repo (a template).
    pub path: String,
    /// The template, relative to the golden path's `templates/`.
    pub template: String,
    pub ownership: Ownership,
    #[serde(default)]
    pub for_each: Option<ForEach>,
    /// How to override this file safely (shown by `explain`).
    #[serde(default, rename = "override")]
    pub override_hint: Option<String>,
}

/// One step, as declared in `path.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    pub repo: RepoRole,
    #[serde(default)]
    pub description: String,
    pub files: Vec<FileDef>,
}

/// Per-repo settings of a golden path.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoDef {
    /// Where the scaffold stamp of a service lives in this repo (a template).
    pub stamp: String,
}

/// `path.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoldenPathDef {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub id: String,
    pub version: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// JSON Schema of the request's `parameters`.
    pub parameters: serde_json::Value,
    pub repos: BTreeMap<RepoRole, RepoDef>,
    pub steps: BTreeMap<StepId, StepDef>,
    /// Declarative migrations from earlier versions (see `idp upgrade`).
    #[serde(default)]
    pub migrations: Vec<MigrationSet>,
    /// Lists of objects in this golden path's YAML/JSON/TOML files that three-way merges match
    /// item by item: the list's key -> the field that names an item (`topics: name`). Added to
    /// the built-in Kubernetes lists (`containers`, `env`, `ports`, ... by `name`).
    #[serde(default)]
    pub merge_keys: BTreeMap<String, String>,
}

/// The migrations that take a service from version `from` to this one, in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationSet {
    pub from: String,
    /// Each step is a one-key map: `- rename: {from, to}`, `- delete: {path}`, `- set: {...}`.
    #[serde(with = "serde_norway::with::singleton_map_recursive")]
    pub steps: Vec<MigrationStep>,
}

/// One declarative migration step. Paths are templates, like file paths in `steps`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrationStep {
    /// Moves a file (the team's edits move with it).
    Rename {
        from: String,
        to: String,
        #[serde(default = "service_repo")]
        repo: RepoRole,
    },
    /// Removes a file the platform no longer ships.
    Delete {
        path: String,
        #[serde(default = "service_repo")]
        repo: RepoRole,
    },
    /// Sets a key in a YAML, JSON or TOML file as it is in the repo (a path of keys).
    Set {
        file: String,
        key: Vec<String>,
        value: serde_json::Value,
        #[serde(default = "service_repo")]
        repo: RepoRole,
    },
}

fn service_repo() -> RepoRole {
    RepoRole::Service
}

/// A migration step with its paths rendered for one service.
#[derive(Debug, Clone, PartialEq)]
pub enum Migration {
    Rename {
        from: String,
        to: String,
    },
    Delete {
        path: String,
    },
    Set {
        file: String,
        key: Vec<String>,
        value: serde_json::Value,
    },
}

/// A loaded, compiled golden path version: definition, parameter schema and templates.
pub struct GoldenPath {
    pub def: GoldenPathDef,
    pub version: Version,
    pub schema: ParameterSchema,
    /// How its structured files merge: the built-in list keys plus `merge_keys`.
    pub merge_keys: crate::scaffold::MergeKeys,
    tera: tera::Tera,
    /// The repos whose stamp path template reads no variable but `service`: their stamp paths
    /// render without a service's whole context (a fleet upgrade reads a thousand stamps).
    stamp_by_name: BTreeSet<RepoRole>,
}

impl std::fmt::Debug for GoldenPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GoldenPath({}@{})", self.def.id, self.def.version)
    }
}

/// A file as rendered by a step, before it is compared with the repo.
#[derive(Debug, Clone)]
pub struct RenderedFile {
    pub path: String,
    pub content: Arc<Vec<u8>>,
    pub ownership: Ownership,
    /// `python-fastapi-service@1.0.0:service/Dockerfile.tera`
    pub provenance: String,
    pub override_hint: String,
    /// The environment a `for_each: environment` file belongs to.
    pub environment: Option<String>,
}

/// How to report one template that does not compile (the batch compile only says which).
/// The error of one template that does not compile, from Tera's error and the template's text.
type CompileError<'a> = Box<dyn Fn(&tera::Error, &str) -> Error + 'a>;

fn path_tpl_name(step: StepId, i: usize) -> String {
    format!("__path__/{}/{i}", step.as_str())
}

fn migration_tpl_name(set: usize, step: usize, k: usize) -> String {
    format!("__migration__/{set}/{step}/{k}")
}

fn stamp_tpl_name(role: RepoRole) -> String {
    format!("__stamp__/{}", role.as_str())
}

impl GoldenPath {
    /// Compiles a golden path from its `path.yaml` text and its templates (name -> text).
    pub fn compile(
        file: &str,
        text: &str,
        templates: &BTreeMap<String, String>,
    ) -> Result<GoldenPath> {
        let def: GoldenPathDef = crate::config::parse_yaml(file, text)?;
        let bad = |field: &str, msg: String| {
            Error::invalid(format!("{file}: {msg}"))
                .with("file", file)
                .with("field", field.to_string())
        };
        if def.kind != "GoldenPath" {
            return Err(bad(
                "kind",
                format!("expected `GoldenPath`, found `{}`", def.kind),
            ));
        }
        if !crate::naming::is_dns1123_label(&def.id) {
            return Err(bad("id", format!("`{}` is not a DNS-1123 label", def.id)));
        }
        let version = Version::parse(&def.version).ok_or_else(|| {
            bad(
                "version",
                format!("`{}` is not a semantic version X.Y.Z", def.version),
            )
        })?;
        let schema = ParameterSchema::compile(&def.parameters)
            .map_err(|m| bad("parameters", format!("invalid parameter schema: {m}")))?;
        for (list, field) in &def.merge_keys {
            if list.is_empty() || field.is_empty() || list.contains('/') {
                return Err(bad(
                    &format!("merge_keys.{list}"),
                    "a list key and the field that names its items, both non-empty (`topics: name`)"
                        .into(),
                ));
            }
        }
        let merge_keys = crate::scaffold::MergeKeys::default().with(&def.merge_keys);
        // Every template, with the error to report if it alone does not compile. They are added
        // to Tera in one batch: Tera resolves every template again on each add, so adding them
        // one by one costs the square of their number (most of a platform's load time).
        let mut batch: Vec<(String, &str, CompileError<'_>)> = Vec::new();
        for (name, body) in templates {
            batch.push((
                name.clone(),
                body,
                Box::new(move |e, src| {
                    Error::invalid(format!(
                        "{file}: template {name} does not compile: {}",
                        compile_msg(e, src)
                    ))
                    .with("file", format!("templates/{name}"))
                }),
            ));
        }
        for (step, sd) in &def.steps {
            if !def.repos.contains_key(&sd.repo) {
                return Err(bad(
                    &format!("steps.{step}.repo"),
                    format!("repo `{}` has no entry under `repos:`", sd.repo.as_str()),
                ));
            }
            for (i, f) in sd.files.iter().enumerate() {
                if !templates.contains_key(&f.template) {
                    return Err(bad(
                        &format!("steps.{step}.files[{i}].template"),
                        format!("template `{}` does not exist under templates/", f.template),
                    ));
                }
                let field = format!("steps.{step}.files[{i}].path");
                batch.push((
                    path_tpl_name(*step, i),
                    &f.path,
                    Box::new(move |e, src| {
                        bad(
                            &field,
                            format!("bad path template: {}", compile_msg(e, src)),
                        )
                    }),
                ));
            }
        }
        for (n, set) in def.migrations.iter().enumerate() {
            if Version::parse(&set.from).is_none_or(|f| f >= version) {
                return Err(bad(
                    &format!("migrations[{n}].from"),
                    format!(
                        "`{}` must be an earlier X.Y.Z version than {}",
                        set.from, def.version
                    ),
                ));
            }
            for (s, step) in set.steps.iter().enumerate() {
                let paths: Vec<&String> = match step {
                    MigrationStep::Rename { from, to, .. } => vec![from, to],
                    MigrationStep::Delete { path, .. } => vec![path],
                    MigrationStep::Set { file, key, .. } => {
                        if key.is_empty() {
                            return Err(bad(
                                &format!("migrations[{n}].steps[{s}].key"),
                                "a key path is required".into(),
                            ));
                        }
                        vec![file]
                    }
                };
                for (k, p) in paths.into_iter().enumerate() {
                    let field = format!("migrations[{n}].steps[{s}]");
                    batch.push((
                        migration_tpl_name(n, s, k),
                        p,
                        Box::new(move |e, src| {
                            bad(
                                &field,
                                format!("bad path template: {}", compile_msg(e, src)),
                            )
                        }),
                    ));
                }
            }
        }
        for (role, rd) in &def.repos {
            let field = format!("repos.{}.stamp", role.as_str());
            batch.push((
                stamp_tpl_name(*role),
                &rd.stamp,
                Box::new(move |e, src| {
                    bad(
                        &field,
                        format!("bad path template: {}", compile_msg(e, src)),
                    )
                }),
            ));
        }
        let mut tera = new_tera();
        if tera
            .add_raw_templates(batch.iter().map(|(n, b, _)| (n.as_str(), *b)))
            .is_err()
        {
            // Find the template at fault, for a precise message. Adding one at a time, a
            // template that includes another not added yet fails too: those are retried after
            // the others, round by round, until a round adds nothing; then the fault is one
            // that fails for its own sake, not for an include that failed.
            let mut one_by_one = new_tera();
            let mut pending: Vec<&(String, &str, CompileError<'_>)> = batch.iter().collect();
            while !pending.is_empty() {
                let mut failed = Vec::new();
                for item in &pending {
                    if let Err(e) = one_by_one.add_raw_template(&item.0, item.1) {
                        failed.push((*item, e));
                    }
                }
                if failed.len() == pending.len() {
                    let (item, e) = failed
                        .iter()
                        .find(|(_, e)| !e.to_string().contains("Unknown template"))
                        .unwrap_or(&failed[0]);
                    return Err((item.2)(e, item.1));
                }
                pending = failed.into_iter().map(|(item, _)| item).collect();
            }
            return Err(bad(
                "templates",
                "the templates do not compile together".into(),
            ));
        }
        let stamp_by_name = def
            .repos
            .keys()
            .copied()
            .filter(|role| {
                tera.get_template_variables(&stamp_tpl_name(*role))
                    .is_ok_and(|vars| vars.iter().all(|v| *v == "service"))
            })
            .collect();
        Ok(GoldenPath {
            def,
            version,
            schema,
            merge_keys,
            tera,
            stamp_by_name,
        })
    }

    /// The effective parameters of each environment with values of its own: `given` (the
    /// request's, before defaults) with the environment's over them, checked with the bounds
    /// of the environment's type. Environments without values of their own are checked too
    /// when their type has bounds of its own, and are left out of the map (their parameters
    /// are the service's).
    pub fn environment_parameters(
        &self,
        cfg: &crate::config::PlatformConfig,
        given: &Parameters,
        overrides: &BTreeMap<String, Parameters>,
    ) -> Result<BTreeMap<String, Parameters>> {
        let mut out = BTreeMap::new();
        for e in &cfg.environments {
            let own = overrides.get(&e.name);
            if own.is_none() && !self.schema.has_bounds_for(&e.env_type) {
                continue;
            }
            let mut g = given.clone();
            g.extend(
                own.into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
            let params = self
                .schema
                .resolve_for_environment(&e.name, &e.env_type, &g)?;
            if own.is_some() {
                out.insert(e.name.clone(), params);
            }
        }
        Ok(out)
    }

    /// `id@version`.
    pub fn id_version(&self) -> String {
        format!("{}@{}", self.def.id, self.def.version)
    }

    /// The step definition, if this golden path has that step.
    pub fn step(&self, step: StepId) -> Option<&StepDef> {
        self.def.steps.get(&step)
    }

    /// Renders every file of `step` for the service described by `ctx`.
    pub fn render_step(&self, step: StepId, ctx: &ServiceContext) -> Result<Vec<RenderedFile>> {
        let Some(sd) = self.step(step) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        // One Tera context for the service and one per environment, shared by every file
        // (building a context converts the whole service description).
        let whole = ctx.tera_context(None);
        let per_env: Vec<tera::Context> = if sd
            .files
            .iter()
            .any(|f| f.for_each == Some(ForEach::Environment))
        {
            ctx.environments
                .iter()
                .map(|e| ctx.tera_context(Some(e)))
                .collect()
        } else {
            Vec::new()
        };
        for (i, f) in sd.files.iter().enumerate() {
            let envs: Vec<(Option<&serde_json::Value>, &tera::Context)> = match f.for_each {
                None => vec![(None, &whole)],
                Some(ForEach::Environment) => {
                    ctx.environments.iter().map(Some).zip(&per_env).collect()
                }
            };
            for (env, tctx) in envs {
                let path = self.render(&path_tpl_name(step, i), tctx)?;
                let path = check_repo_path(&path).map_err(|m| {
                    Error::invalid(format!(
                        "{}: file path {} from template `{}` {m}",
                        self.id_version(),
                        crate::naming::shown(&path),
                        f.path
                    ))
                })?;
                let body = self.render(&f.template, tctx)?;
                out.push(RenderedFile {
                    path,
                    content: Arc::new(body.into_bytes()),
                    ownership: f.ownership,
                    provenance: format!("{}:{}", self.id_version(), f.template),
                    override_hint: f
                        .override_hint
                        .clone()
                        .unwrap_or_else(|| f.ownership.default_override().to_string()),
                    environment: env
                        .and_then(|e| e.get("name"))
                        .and_then(|n| n.as_str())
                        .map(str::to_string),
                });
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for f in &out {
            if !seen.insert(f.path.as_str()) {
                return Err(Error::invalid(format!(
                    "{}: two files of step {step} render to the same path `{}`",
                    self.id_version(),
                    f.path
                )));
            }
        }
        Ok(out)
    }

    /// The migrations from `from` to this version for the repo of `role`, paths rendered.
    pub fn migrations_from(
        &self,
        from: &Version,
        role: RepoRole,
        ctx: &ServiceContext,
    ) -> Result<Vec<Migration>> {
        let tctx = ctx.tera_context(None);
        let mut out = Vec::new();
        for (n, set) in self.def.migrations.iter().enumerate() {
            if Version::parse(&set.from).as_ref() != Some(from) {
                continue;
            }
            for (s, step) in set.steps.iter().enumerate() {
                let path = |k: usize| -> Result<String> {
                    let p = self.render(&migration_tpl_name(n, s, k), &tctx)?;
                    check_repo_path(&p).map_err(|m| {
                        Error::invalid(format!("migration path {} {m}", crate::naming::shown(&p)))
                    })
                };
                match step {
                    MigrationStep::Rename { repo, .. } if *repo == role => {
                        out.push(Migration::Rename {
                            from: path(0)?,
                            to: path(1)?,
                        })
                    }
                    MigrationStep::Delete { repo, .. } if *repo == role => {
                        out.push(Migration::Delete { path: path(0)? })
                    }
                    MigrationStep::Set {
                        key, value, repo, ..
                    } if *repo == role => out.push(Migration::Set {
                        file: path(0)?,
                        key: key.clone(),
                        value: value.clone(),
                    }),
                    _ => {}
                }
            }
        }
        Ok(out)
    }

    /// Where the stamp of this service lives in the repo of `role`.
    pub fn stamp_path(&self, role: RepoRole, ctx: &ServiceContext) -> Result<Option<String>> {
        if !self.def.repos.contains_key(&role) {
            return Ok(None);
        }
        checked_stamp(self.render(&stamp_tpl_name(role), &ctx.tera_context(None))?)
    }

    /// [`Self::stamp_path`] of `service` when the template reads nothing but its name; `None`
    /// when it needs the service's whole context.
    pub fn stamp_path_by_name(
        &self,
        role: RepoRole,
        service: &str,
    ) -> Option<Result<Option<String>>> {
        if !self.def.repos.contains_key(&role) {
            return Some(Ok(None));
        }
        if !self.stamp_by_name.contains(&role) {
            return None;
        }
        let mut ctx = tera::Context::new();
        ctx.insert("service", service);
        Some(
            self.render(&stamp_tpl_name(role), &ctx)
                .and_then(checked_stamp),
        )
    }

    fn render(&self, name: &str, ctx: &tera::Context) -> Result<String> {
        self.tera.render(name, ctx).map_err(|e| {
            let what = match internal_name(name) {
                Some(field) => format!("{field} (a path template)"),
                None => format!("template {name}"),
            };
            let e = Error::invalid(format!(
                "{}: {what} failed to render: {}",
                self.id_version(),
                tera_msg(&e)
            ));
            match internal_name(name) {
                Some(field) => e.with("field", field),
                None => e.with("file", format!("templates/{name}")),
            }
        })
    }
}

/// A rendered stamp path, if it is a safe path inside the repo.
fn checked_stamp(p: String) -> Result<Option<String>> {
    check_repo_path(&p)
        .map(Some)
        .map_err(|m| Error::invalid(format!("stamp path {} {m}", crate::naming::shown(&p))))
}

/// A Tera instance with idp's filters and no HTML escaping (we write YAML, Python, TOML...).
fn new_tera() -> tera::Tera {
    let mut tera = tera::Tera::new();
    tera.autoescape_on(Vec::<&'static str>::new());
    // `q`: a string as a JSON string literal, which is also a valid YAML, TOML and Python literal.
    tera.register_filter("q", |v: &str, _: tera::Kwargs, _: &tera::State| {
        serde_json::to_string(v).expect("string serializes")
    });
    // `yaml_labels(indent=N)`: a `label_list` as YAML mapping lines, each indented by N spaces,
    // in the org's order: `labels:` blocks render the org's whole label set this way.
    tera.register_filter(
        "yaml_labels",
        |v: tera::Value, kwargs: tera::Kwargs, _: &tera::State| -> tera::TeraResult<String> {
            let indent = " ".repeat(kwargs.get::<usize>("indent")?.unwrap_or(0));
            let list = serde_json::to_value(&v).unwrap_or(serde_json::Value::Null);
            let lines: Vec<String> = list
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| {
                    let name = l.get("name")?.as_str()?;
                    let value = serde_json::to_string(l.get("value")?).ok()?;
                    Some(format!("{indent}{name}: {value}"))
                })
                .collect();
            Ok(lines.join("\n"))
        },
    );
    // `json`: any value as compact JSON.
    tera.register_filter(
        "json",
        |v: tera::Value, _: tera::Kwargs, _: &tera::State| {
            let j = serde_json::to_value(&v).unwrap_or(serde_json::Value::Null);
            serde_json::to_string(&j).expect("value serializes")
        },
    );
    tera
}

/// Tera's error with its causes, in the words of `path.yaml`: a path template is named by its
/// field (`steps.wire_ci.files[0].path`), not by the name idp gives it inside Tera; and a
/// GitHub Actions expression that Tera tried to read gets the advice that fixes it.
fn tera_msg(e: &tera::Error) -> String {
    use std::error::Error as _;
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    let s = INTERNAL_NAME
        .replace_all(&s, |c: &regex::Captures<'_>| {
            internal_name(&c[0]).unwrap_or_else(|| c[0].to_string())
        })
        .into_owned();
    if s.contains("${{") {
        return format!(
            "{s}\n(`${{{{ ... }}}}` is a GitHub Actions expression: wrap it in {{% raw %}}...{{% endraw %}} \
             so that the template writes it as it is)"
        );
    }
    s
}

/// [`tera_msg`] for a template that does not compile, from its text `src`: when Tera reaches
/// the end still inside a block, where that block opens.
fn compile_msg(e: &tera::Error, src: &str) -> String {
    let s = tera_msg(e);
    match unclosed_block(src) {
        Some((tag, line)) if s.contains("end of input") => format!(
            "{s}\n(`{{% {tag} %}}` opened at line {line} is never closed: add `{{% end{tag} %}}`)"
        ),
        _ => s,
    }
}

/// The innermost block (`if`, `for`, ...) left open at the end of `src`, with its line.
fn unclosed_block(src: &str) -> Option<(String, usize)> {
    static TAG: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"\{%-?\s*([a-z]+)").expect("valid regex"));
    const BLOCKS: [&str; 6] = ["if", "for", "block", "macro", "filter", "raw"];
    let mut open: Vec<(String, usize)> = Vec::new();
    for c in TAG.captures_iter(src) {
        let tag = &c[1];
        let at = c.get(0).expect("whole match").start();
        // Inside `raw`, only `endraw` counts.
        if open.last().is_some_and(|(t, _)| t == "raw") && tag != "endraw" {
            continue;
        }
        if BLOCKS.contains(&tag) {
            open.push((tag.to_string(), src[..at].matches('\n').count() + 1));
        } else if let Some(closed) = tag.strip_prefix("end")
            && open.last().is_some_and(|(t, _)| t == closed)
        {
            open.pop();
        }
    }
    open.pop()
}

/// idp's names for path templates inside Tera.
static INTERNAL_NAME: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"__(?:path|stamp|migration)__/[a-z_0-9/]+").expect("valid regex")
});

/// The `path.yaml` field a path template comes from, for idp's name of it inside Tera.
fn internal_name(name: &str) -> Option<String> {
    let mut parts = name.split('/');
    match (parts.next()?, parts.next(), parts.next(), parts.next()) {
        ("__path__", Some(step), Some(i), None) => Some(format!("steps.{step}.files[{i}].path")),
        ("__stamp__", Some(role), None, None) => Some(format!("repos.{role}.stamp")),
        ("__migration__", Some(n), Some(s), Some(_)) => Some(format!("migrations[{n}].steps[{s}]")),
        _ => None,
    }
}

/// A path inside a repo must be relative, normalized, and stay inside the repo.
pub fn check_repo_path(p: &str) -> std::result::Result<String, &'static str> {
    if p.is_empty() || p.len() > 1024 {
        return Err("is empty or too long");
    }
    if p.starts_with('/') || p.contains('\\') || p.contains('\0') {
        return Err("must be a relative path with '/' separators");
    }
    for seg in p.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return Err("must not contain empty, '.' or '..' segments");
        }
        // Git itself refuses `.git` in any case, and the names Windows and macOS file systems
        // read as `.git` (`git~1`, a trailing dot or space, ignorable code points).
        let folded = seg
            .to_ascii_lowercase()
            .trim_end_matches(['.', ' '])
            .to_string();
        if folded == ".git" || folded == "git~1" {
            return Err("must not write into .git");
        }
    }
    if p.chars().any(|c| {
        c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}')
    }) {
        return Err("must not contain control characters or invisible code points");
    }
    Ok(p.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_paths_cannot_escape_the_repo() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            ".git/config",
            ".GIT/config",
            "a/.Git/hooks/pre-commit",
            ".git./config",
            "GIT~1/config",
            ".g\u{200C}it/config",
            "a\nb.yaml",
            "a\rb",
            "a\\b",
            "./a",
        ] {
            assert!(check_repo_path(bad).is_err(), "{bad} accepted");
        }
        assert!(check_repo_path("apps/x/dev/deployment.yaml").is_ok());
        assert!(check_repo_path(".github/workflows/ci.yml").is_ok());
    }

    #[test]
    fn q_filter_quotes_for_yaml_and_python() {
        let mut t = new_tera();
        t.add_raw_template("t", "{{ v | q }}").unwrap();
        let mut c = tera::Context::new();
        c.insert("v", "a \"b\": c\nd");
        assert_eq!(t.render("t", &c).unwrap(), r#""a \"b\": c\nd""#);
    }

    #[test]
    fn template_errors_speak_of_path_yaml_and_say_how_to_fix_them() {
        // An unclosed block is reported where it opens, the innermost first.
        assert_eq!(
            unclosed_block("a\n{% if x %}\n{% for y in z %}{% endfor %}\nb\n"),
            Some(("if".to_string(), 2))
        );
        assert_eq!(
            unclosed_block("{% if x %}{% endif %}{% raw %}{% if %}{% endraw %}"),
            None
        );
        assert_eq!(
            unclosed_block("{%- for a in b -%}\n{% if c %}{% endif %}"),
            Some(("for".to_string(), 1))
        );
        // idp's names for path templates are path.yaml's fields.
        assert_eq!(
            internal_name(&path_tpl_name(StepId::WireCi, 3)).as_deref(),
            Some("steps.wire_ci.files[3].path")
        );
        assert_eq!(
            internal_name(&stamp_tpl_name(RepoRole::Gitops)).as_deref(),
            Some("repos.gitops.stamp")
        );
        assert_eq!(internal_name("service/ci.yml.tera"), None);
        // Through Tera: a GitHub Actions expression, an unclosed if, a path template.
        let mut t = new_tera();
        t.add_raw_template("ci.yml", "run: echo ${{ github.sha }}\n")
            .unwrap();
        let e = t.render("ci.yml", &tera::Context::new()).unwrap_err();
        assert!(tera_msg(&e).contains("{% raw %}"), "{}", tera_msg(&e));
        let src = "line one\n{% if x %}\nline three\n";
        let e = new_tera().add_raw_template("x", src).unwrap_err();
        assert!(
            compile_msg(&e, src).contains("`{% if %}` opened at line 2 is never closed"),
            "{}",
            compile_msg(&e, src)
        );
        let name = path_tpl_name(StepId::BootstrapService, 0);
        t.add_raw_template(&name, "{{ params.nope }}").unwrap();
        let e = t.render(&name, &tera::Context::new()).unwrap_err();
        let msg = tera_msg(&e);
        assert!(
            msg.contains("steps.bootstrap_service.files[0].path") && !msg.contains("__path__"),
            "{msg}"
        );
    }

    #[test]
    fn a_stamp_path_of_the_name_alone_renders_as_with_the_whole_context() {
        let path = |gitops: &str| {
            format!(
                "apiVersion: idp.dev/v1\nkind: GoldenPath\nid: p\nversion: 1.0.0\n\
                 parameters: {{type: object}}\nrepos:\n  service: {{stamp: .idp/s.json}}\n  \
                 gitops: {{stamp: '{gitops}'}}\nsteps: {{}}\n"
            )
        };
        let ws = tempfile::tempdir().unwrap();
        let platform = crate::blocking::Platform::builtin(ws.path()).unwrap();
        let cfg = &platform.definition().config;
        let team = crate::org::Team {
            name: "team-payments".into(),
            entity_ref: "group:default/team-payments".into(),
            cost_center: None,
            platform_admin: false,
            members: Default::default(),
        };
        for (stamp, by_name) in [
            ("apps/{{ service }}/.idp/scaffold.json", true),
            ("apps/{{ service | upper }}/s.json", true),
            ("apps/{{ module }}/s.json", false),
            (
                "apps/{% if owner %}{{ owner }}{% else %}none{% endif %}/s.json",
                false,
            ),
        ] {
            let gp = GoldenPath::compile("path.yaml", &path(stamp), &BTreeMap::new()).unwrap();
            let ctx = build_context(
                cfg,
                &team,
                &gp,
                "payments-api",
                &Default::default(),
                &Default::default(),
                &[],
                &Default::default(),
            );
            for role in [RepoRole::Service, RepoRole::Gitops] {
                let whole = gp.stamp_path(role, &ctx).unwrap();
                match gp.stamp_path_by_name(role, "payments-api") {
                    Some(fast) => {
                        assert!(by_name || role == RepoRole::Service, "{stamp}");
                        assert_eq!(fast.unwrap(), whole, "{stamp}");
                    }
                    None => assert!(!by_name && role == RepoRole::Gitops, "{stamp}"),
                }
            }
        }
        // A repo the golden path does not use has no stamp either way.
        let gp = GoldenPath::compile(
            "path.yaml",
            &path("a/{{ service }}").replace("  gitops: {stamp: 'a/{{ service }}'}\n", ""),
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(
            gp.stamp_path_by_name(RepoRole::Gitops, "x")
                .unwrap()
                .unwrap(),
            None
        );
    }
}
