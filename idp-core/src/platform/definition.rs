//! A loaded platform definition: config, org directory and golden paths, validated as a whole
//! when it loads so that a mistake fails early with the file and field that hold it.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::source::PlatformFiles;
use crate::config::{PlatformConfig, parse_yaml};
use crate::error::{Error, Result};
use crate::golden_path::{GoldenPath, Version};
use crate::org::Directory;
use crate::policy::{Authz, Guardrails};

/// (golden path id, version folder) -> (path.yaml text, template name -> text, release.lock)
type PathFiles<'a> =
    BTreeMap<(String, String), (&'a str, BTreeMap<String, String>, Option<&'a str>)>;

/// Where templates every golden path may use live, and the prefix they are named by.
const SHARED: &str = "shared/templates/";

/// A released version's record of everything it renders from (`release.lock` in its folder).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseLock {
    pub golden_path: String,
    pub version: String,
    /// SHA-256 over `files`.
    pub digest: String,
    /// Each file the version renders from (platform-folder path) -> its SHA-256.
    pub files: BTreeMap<String, String>,
}

/// The shared templates a version uses: those its `path.yaml` names, then those they or its own
/// templates include, import or extend (transitively), by name (`shared/...`).
fn shared_used<'a>(
    path_yaml: &str,
    own: &BTreeMap<String, String>,
    shared: &'a BTreeMap<String, String>,
) -> BTreeMap<String, &'a str> {
    static REFS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"\{%-?\s*(?:include|import|extends)\s+"([^"]+)""#).expect("valid regex")
    });
    let refs = &*REFS;
    let mut todo: Vec<String> = shared
        .keys()
        .filter(|name| path_yaml.contains(name.as_str()))
        .cloned()
        .collect();
    for body in own.values() {
        todo.extend(refs.captures_iter(body).map(|c| c[1].to_string()));
    }
    let mut used = BTreeMap::new();
    while let Some(name) = todo.pop() {
        let Some((name, body)) = shared.get_key_value(&name) else {
            continue;
        };
        if used.insert(name.clone(), body.as_str()).is_none() {
            todo.extend(refs.captures_iter(body).map(|c| c[1].to_string()));
        }
    }
    used
}

/// What golden path `id` at `ver` renders from: its `path.yaml`, its own templates, and the
/// shared templates it uses (`shared_used`), by platform-folder path, each with its SHA-256.
fn release_files(
    id: &str,
    ver: &str,
    path_yaml: &str,
    own: &BTreeMap<String, String>,
    used: &BTreeMap<String, &str>,
) -> ReleaseLock {
    let base = format!("golden-paths/{id}/{ver}/");
    let mut files = BTreeMap::new();
    files.insert(
        format!("{base}path.yaml"),
        crate::digest::sha256_hex(path_yaml.as_bytes()),
    );
    for (name, body) in own {
        files.insert(
            format!("{base}templates/{name}"),
            crate::digest::sha256_hex(body.as_bytes()),
        );
    }
    for (name, body) in used {
        files.insert(
            format!("{SHARED}{}", name.trim_start_matches("shared/")),
            crate::digest::sha256_hex(body.as_bytes()),
        );
    }
    let digest = crate::digest::sha256_hex(
        files
            .iter()
            .map(|(p, h)| format!("{p}\0{h}\n"))
            .collect::<String>()
            .as_bytes(),
    );
    ReleaseLock {
        golden_path: id.to_string(),
        version: ver.to_string(),
        digest,
        files,
    }
}

/// The problem of a released version whose files no longer match its `release.lock`.
fn check_release(file: &str, lock_text: &str, now: &ReleaseLock) -> Result<()> {
    let lock: ReleaseLock = serde_json::from_str(lock_text).map_err(|e| {
        Error::invalid(format!("{file} is not a release lock: {e}")).with("file", file)
    })?;
    if lock.digest == now.digest {
        return Ok(());
    }
    let mut changed: Vec<&str> = now
        .files
        .iter()
        .filter(|(p, h)| lock.files.get(*p) != Some(*h))
        .map(|(p, _)| p.as_str())
        .collect();
    changed.extend(
        lock.files
            .keys()
            .filter(|p| !now.files.contains_key(*p))
            .map(String::as_str),
    );
    changed.sort();
    changed.dedup();
    Err(Error::invalid(format!(
        "{}@{} is released and frozen, but what it renders from changed since: {}. Restore \
         them, or cut a new version for the change (a copy of the folder under the next \
         version, released with `idp golden-path release`)",
        lock.golden_path,
        lock.version,
        changed.join(", ")
    ))
    .with("file", changed.first().copied().unwrap_or(file).to_string())
    .with("field", "release.lock"))
}

/// Everything a platform folder defines.
pub struct PlatformDef {
    pub config: PlatformConfig,
    pub directory: Directory,
    /// Cedar policies from `policies/*.cedar`.
    pub authz: Authz,
    /// Conventions from idp.yaml and Rego from `policies/*.rego`.
    pub guardrails: Guardrails,
    /// The module catalog from `modules/`.
    pub catalog: crate::intent::Catalog,
    /// SHA-256 over every policy file (names and contents), recorded in the audit log on change.
    pub policy_digest: String,
    /// SHA-256 over every file of the platform folder (names and contents): which platform made
    /// a decision, recorded with every audit record, and what a workspace pin compares.
    pub digest: String,
    /// id -> version -> golden path, versions ascending.
    pub golden_paths: BTreeMap<String, BTreeMap<Version, Arc<GoldenPath>>>,
    /// Golden path versions that do not load, by id and version folder: requests for them fail
    /// with the load error; every other golden path works.
    pub broken_golden_paths: BTreeMap<String, BTreeMap<String, LoadProblem>>,
    pub files: PlatformFiles,
}

/// Why a golden path version does not load: the error's message and where it points.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct LoadProblem {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl LoadProblem {
    fn of(e: &Error) -> LoadProblem {
        LoadProblem {
            message: e.message().to_string(),
            file: e.context_value("file").map(str::to_string),
            field: e.context_value("field").map(str::to_string),
        }
    }

    /// The error a request for the broken version gets.
    fn error(&self, id: &str, version: &str) -> Error {
        let at = self
            .field
            .as_deref()
            .map(|f| format!(" (at {f})"))
            .unwrap_or_default();
        let mut e = Error::invalid(format!(
            "golden path {id}@{version} does not load, so it cannot be used until it is fixed \
             (`idp golden-path check` lists every problem): {}{at}",
            self.message
        ))
        .with("field", "golden_path");
        if let Some(f) = &self.file {
            e = e.with("file", f.clone());
        }
        e
    }
}

impl std::fmt::Debug for PlatformDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformDef")
            .field("origin", &self.files.origin)
            .finish_non_exhaustive()
    }
}

type GoldenPaths = BTreeMap<String, BTreeMap<Version, Arc<GoldenPath>>>;
type Broken = BTreeMap<String, BTreeMap<String, LoadProblem>>;

/// Every golden path version under `golden-paths/<id>/<version>/`, compiled; the versions that
/// do not compile are set aside with their error, so that one broken golden path does not stop
/// the others.
fn load_golden_paths(
    files: &PlatformFiles,
    config: &PlatformConfig,
) -> Result<(GoldenPaths, Broken)> {
    let mut golden_paths: GoldenPaths = BTreeMap::new();
    let mut broken: Broken = BTreeMap::new();
    let mut path_files: PathFiles<'_> = BTreeMap::new();
    for (rel, text) in files.under("golden-paths/") {
        let mut parts = rel.splitn(3, '/');
        let (Some(id), Some(ver), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let entry = path_files
            .entry((id.to_string(), ver.to_string()))
            .or_insert(("", BTreeMap::new(), None));
        if rest == "path.yaml" {
            entry.0 = text;
        } else if rest == "release.lock" {
            entry.2 = Some(text);
        } else if let Some(tpl) = rest.strip_prefix("templates/") {
            entry.1.insert(tpl.to_string(), text.to_string());
        }
    }
    // Templates every golden path may use, named `shared/...` (`template: shared/gitops/x.tera`,
    // `{% include "shared/partials/y.tera" %}`).
    let shared: BTreeMap<String, String> = files
        .under(SHARED)
        .map(|(name, text)| (format!("shared/{name}"), text.to_string()))
        .collect();
    for ((id, ver), (text, own, lock)) in path_files {
        let file = format!("golden-paths/{id}/{ver}/path.yaml");
        let clash = own.keys().find(|n| n.starts_with("shared/"));
        // Only the shared templates this version uses are compiled with it: every version
        // compiling every shared template made each golden path added to a platform slow down
        // the load of all the others.
        let used = shared_used(text, &own, &shared);
        let mut templates = own.clone();
        templates.extend(used.iter().map(|(k, v)| (k.clone(), v.to_string())));
        let released = lock.map(|l| {
            check_release(
                &format!("golden-paths/{id}/{ver}/release.lock"),
                l,
                &release_files(&id, &ver, text, &own, &used),
            )
        });
        let compiled = if text.is_empty() {
            Err(Error::invalid(format!("{file} is missing")).with("file", file.clone()))
        } else if let Some(name) = clash {
            Err(Error::invalid(format!(
                "golden-paths/{id}/{ver}/templates/{name}: `shared/` names the platform's shared \
                 templates (shared/templates/); rename this folder"
            ))
            .with("file", format!("golden-paths/{id}/{ver}/templates/{name}")))
        } else {
            GoldenPath::compile(&file, text, &templates).and_then(|gp| {
                if gp.def.id != id || gp.def.version != ver {
                    return Err(Error::invalid(format!(
                        "{file}: declares {}@{} but lives in golden-paths/{id}/{ver}/",
                        gp.def.id, gp.def.version
                    ))
                    .with("file", file.clone()));
                }
                // A version that compiles must still be the one that was released.
                released.unwrap_or(Ok(())).map(|()| gp)
            })
        };
        match compiled {
            Ok(gp) => {
                golden_paths
                    .entry(id)
                    .or_default()
                    .insert(gp.version, Arc::new(gp));
            }
            Err(e) => {
                let mut problem = LoadProblem::of(&e);
                // Files are named from the platform folder (`templates/x.tera` is the version's).
                if let Some(f) = &mut problem.file
                    && !f.starts_with("golden-paths/")
                    && !f.starts_with(SHARED)
                {
                    *f = format!("golden-paths/{id}/{ver}/{f}");
                }
                broken.entry(id).or_default().insert(ver, problem);
            }
        }
    }
    if let Some(d) = &config.defaults.golden_path
        && !golden_paths.contains_key(d)
        && !broken.contains_key(d)
    {
        return Err(Error::invalid(format!(
            "idp.yaml: defaults.golden_path `{d}` is not defined under golden-paths/"
        ))
        .with("file", "idp.yaml")
        .with("field", "defaults.golden_path"));
    }
    Ok((golden_paths, broken))
}

/// The Cedar policies bound to the org directory, the guardrails with their Rego, and the
/// digest of every policy file.
fn load_policies(
    files: &PlatformFiles,
    config: &PlatformConfig,
    directory: &Directory,
) -> Result<(Authz, Guardrails, String)> {
    let mut digest_input = String::new();
    let mut cedar = Vec::new();
    let mut rego = Vec::new();
    for (name, text) in files.under("policies/") {
        digest_input.push_str(&format!(
            "{name}\0{}\n",
            crate::digest::sha256_hex(text.as_bytes())
        ));
        let full = format!("policies/{name}");
        if name.ends_with(".cedar") {
            cedar.push((full, text));
        } else if name.ends_with(".rego") {
            rego.push((full, text));
        } else if !(name.ends_with(".md")
            || (name.starts_with("tests/") && (name.ends_with(".yaml") || name.ends_with(".yml"))))
        {
            // A policy under a name idp does not load (`deny.cedar.bak`, `forbid.txt`) would be
            // silently dropped: refuse it.
            return Err(Error::invalid(format!(
                "{full} is not a policy idp loads: policies/ holds *.cedar and *.rego files, \
                 policy tests in policies/tests/*.yaml and *.md notes; rename or move it"
            ))
            .with("file", full));
        }
    }
    let mut authz = Authz::load(cedar.iter().map(|(n, t)| (n.as_str(), *t)))?;
    authz.bind_directory(directory)?;
    let guardrails = Guardrails::load(
        &config.guardrails,
        &config.labels.required,
        &config.tags.required,
        rego.iter().map(|(n, t)| (n.as_str(), *t)),
    )?;
    Ok((
        authz,
        guardrails,
        crate::digest::sha256_hex(digest_input.as_bytes()),
    ))
}

impl PlatformDef {
    /// Releases golden path `id` at `version` of the platform folder `dir` (`idp golden-path
    /// release`): writes its `release.lock`, which freezes it as its files are now. The version
    /// must load. Returns the lock's path.
    pub fn release(dir: &std::path::Path, id: &str, version: &str) -> Result<std::path::PathBuf> {
        let def = PlatformDef::load(PlatformFiles::from_dir(dir)?)?;
        let lock = def.release_lock(id, version)?;
        // `id` and `version` name a golden path that loaded: a folder of `dir`.
        let path = dir.join(format!("golden-paths/{id}/{version}/release.lock"));
        std::fs::write(&path, lock)?;
        Ok(path)
    }

    /// The `release.lock` that freezes golden path `id` at `version` as its files are now:
    /// everything it renders from, by SHA-256.
    fn release_lock(&self, id: &str, version: &str) -> Result<String> {
        self.golden_path(Some(id), Some(version))?;
        let base = format!("golden-paths/{id}/{version}/");
        let path_yaml = self
            .files
            .files
            .get(&format!("{base}path.yaml"))
            .ok_or_else(|| Error::not_found(format!("{base}path.yaml is missing")))?;
        let own: BTreeMap<String, String> = self
            .files
            .under(&format!("{base}templates/"))
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        let shared: BTreeMap<String, String> = self
            .files
            .under(SHARED)
            .map(|(name, text)| (format!("shared/{name}"), text.to_string()))
            .collect();
        let used = shared_used(path_yaml, &own, &shared);
        let lock = release_files(id, version, path_yaml, &own, &used);
        Ok(serde_json::to_string_pretty(&lock).expect("lock serializes") + "\n")
    }

    /// Parses and validates every file.
    pub fn load(files: PlatformFiles) -> Result<PlatformDef> {
        let idp_yaml = files.files.get("idp.yaml").ok_or_else(|| {
            Error::invalid("the platform has no idp.yaml").with("file", "idp.yaml")
        })?;
        let config: PlatformConfig = parse_yaml("idp.yaml", idp_yaml)?;
        config.validate("idp.yaml")?;

        let org_files: Vec<(String, &str)> = files
            .under("org/")
            .filter(|(n, _)| n.ends_with(".yaml") || n.ends_with(".yml"))
            .map(|(n, t)| (format!("org/{n}"), t))
            .collect();
        let directory = Directory::load(org_files.iter().map(|(n, t)| (n.as_str(), *t)))?;

        // The policies (Cedar validation, Rego compilation) load on a second core while the
        // golden paths' templates and the module catalog compile on this one: together they are
        // most of the time a process spends before its first operation.
        let (golden_paths, policies, catalog) = std::thread::scope(|s| {
            let policies = s.spawn(|| load_policies(&files, &config, &directory));
            let golden_paths = load_golden_paths(&files, &config);
            let catalog = crate::intent::Catalog::load(files.under("modules/"), &config);
            let policies = policies
                .join()
                .unwrap_or_else(|_| Err(Error::internal("loading the policies panicked")));
            (golden_paths, policies, catalog)
        });
        // Errors in the order a person reads the folder: golden paths, policies, modules.
        let (golden_paths, broken_golden_paths) = golden_paths?;
        let (authz, guardrails, policy_digest) = policies?;
        let catalog = catalog?;
        let digest = {
            let mut input = String::new();
            for (name, text) in &files.files {
                input.push_str(&format!(
                    "{name}\0{}\n",
                    crate::digest::sha256_hex(text.as_bytes())
                ));
            }
            crate::digest::sha256_hex(input.as_bytes())
        };
        Ok(PlatformDef {
            digest,
            config,
            directory,
            authz,
            guardrails,
            catalog,
            policy_digest,
            golden_paths,
            broken_golden_paths,
            files,
        })
    }

    /// The golden path `id` at `version` (default: the latest).
    pub fn golden_path(&self, id: Option<&str>, version: Option<&str>) -> Result<Arc<GoldenPath>> {
        let id = id
            .or(self.config.defaults.golden_path.as_deref())
            .ok_or_else(|| {
                Error::invalid("no golden path given and idp.yaml sets no defaults.golden_path")
                    .with("field", "golden_path")
            })?;
        let broken = self.broken_golden_paths.get(id);
        // The newest broken version, when it is newer than every version that loads: the
        // latest is what it would have been, so it is not quietly replaced by an older one.
        let newest_broken = broken.and_then(|b| {
            b.iter()
                .filter_map(|(v, p)| Some((Version::parse(v)?, v, p)))
                .max_by(|a, b| a.0.cmp(&b.0))
        });
        let Some(versions) = self.golden_paths.get(id) else {
            if let Some((_, v, p)) = newest_broken {
                return Err(p.error(id, v));
            }
            let known: Vec<&str> = self.golden_paths.keys().map(String::as_str).collect();
            return Err(Error::not_found(format!(
                "golden path {} does not exist; known: {}",
                crate::naming::shown(id),
                known.join(", ")
            ))
            .with("field", "golden_path"));
        };
        match version {
            None => {
                let latest = versions.iter().next_back().expect("at least one version");
                if let Some((bv, v, p)) = newest_broken
                    && bv > *latest.0
                {
                    return Err(p.error(id, v));
                }
                Ok(latest.1.clone())
            }
            Some(v) => {
                if let Some(p) = broken.and_then(|b| b.get(v)) {
                    return Err(p.error(id, v));
                }
                let parsed = Version::parse(v).ok_or_else(|| {
                    Error::invalid(format!("version {} is not X.Y.Z", crate::naming::shown(v)))
                        .with("field", "version")
                })?;
                versions.get(&parsed).cloned().ok_or_else(|| {
                    let known: Vec<String> = versions.keys().map(|v| v.to_string()).collect();
                    Error::not_found(format!(
                        "{id} has no version {v}; known: {}",
                        known.join(", ")
                    ))
                    .with("field", "version")
                })
            }
        }
    }
}
