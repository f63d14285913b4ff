//! Guardrails: checks on a change set before anything is written. Two kinds, one result type:
//!
//! * built-in conventions, switched per rule in `idp.yaml` (`guardrails.conventions`):
//!   required labels, naming, pinned image tags, resource limits, required cost tags and
//!   encryption on storage;
//! * Rego policies in `policies/*.rego`, conftest-compatible: package `main`, rules `deny`,
//!   `deny_<name>`, `violation`, `warn`, `warn_<name>`, and `exception` (a set of rule names,
//!   without the `deny_`/`warn_` prefix, that do not apply to the input). Each generated file is
//!   parsed as data (YAML documents, JSON, HCL) and is the `input`, as conftest would give it, so
//!   a team's existing conftest policies work unchanged.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::doc::Node;
use crate::error::{Error, Result};

pub use crate::config::{Enforcement, GuardrailsConfig};

/// The built-in convention rules.
pub const CONVENTIONS: [&str; 6] = [
    "labels-required",
    "naming",
    "image-tag-pinned",
    "resource-limits",
    "tags-required",
    "storage-encryption",
];

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Violation {
    /// `labels-required`, `deny_privileged`, ...
    pub rule: String,
    pub severity: Enforcement,
    pub repo: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub message: String,
    /// `convention` or `rego:<file>`.
    pub source: String,
    /// The waiver that turns this deny into an allowed exception.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<String>,
}

impl Violation {
    /// True when it stops the operation.
    pub fn blocks(&self) -> bool {
        self.severity == Enforcement::Deny && self.waived_by.is_none()
    }
}

/// A file to check.
#[derive(Debug, Clone, Copy)]
pub struct GuardedFile<'a> {
    pub repo: &'a str,
    pub path: &'a str,
    pub environment: Option<&'a str>,
    pub content: &'a [u8],
}

/// What the conventions need to know about the service.
#[derive(Debug, Clone, Default)]
pub struct GuardContext {
    pub service: String,
    /// Environment -> the namespace the service must live in there.
    pub namespaces: BTreeMap<String, String>,
    /// Check on the calling thread only: the caller already keeps every core busy (a fleet
    /// upgrade runs many services at once).
    pub sequential: bool,
    /// Who makes the change (`user:default/alice`) and their teams, for Rego's `data.idp`.
    pub principal: Option<crate::org::Principal>,
    /// The operation making the change (`run_golden_path`, `upgrade`, ...), for `data.idp`.
    pub operation: Option<String>,
}

impl GuardContext {
    /// What Rego policies read besides the file: `data.idp.{principal, operation, service}`
    /// (the file itself stays `input`, as conftest gives it).
    fn rego_data(&self) -> Value {
        serde_json::json!({"idp": {
            "principal": self.principal.as_ref().map(|p| serde_json::json!({
                "user": p.user,
                "groups": p.groups,
            })),
            "operation": self.operation,
            "service": self.service,
        }})
    }
}

struct Rego {
    /// One evaluator per worker thread (each evaluates one input at a time).
    workers: Vec<Mutex<Evaluator>>,
    /// Rule names in package main: `deny`, `deny_x`, `warn`, `violation`, ...
    rules: Vec<String>,
    has_exception: bool,
    /// Rule name -> file that defines it.
    files: BTreeMap<String, String>,
    /// The parts of `input` the policies read, when they read it only by fixed paths: a
    /// document's findings are then a function of those parts alone, so each document is
    /// evaluated on them, and documents that agree on them (the same Service in three
    /// environments) are evaluated once per check.
    reads: Option<InputPaths>,
}

/// Rego for one worker: regorus' virtual machine runs the combined rule when the policies
/// compile to it (three to four times faster than the interpreter on the golden path's
/// documents); the interpreter runs it otherwise, and names the rule when an evaluation fails.
struct Evaluator {
    engine: regorus::Engine,
    vm: Option<regorus::rvm::vm::RegoVM>,
    /// The `data` both hold (set again only when a check brings other data: the interpreter
    /// prepares its policies again after a change of data).
    data: Option<Value>,
}

impl Evaluator {
    fn use_data(&mut self, data: &Value) -> Result<()> {
        if self.data.as_ref() == Some(data) {
            return Ok(());
        }
        let value = regorus::Value::deserialize(data)
            .map_err(|e| Error::internal(format!("Rego data: {e}")))?;
        self.engine.clear_data();
        self.engine
            .add_data(value.clone())
            .map_err(|e| Error::internal(format!("Rego data: {e}")))?;
        if let Some(vm) = &mut self.vm {
            vm.set_data(value)
                .map_err(|e| Error::internal(format!("Rego data: {e}")))?;
        }
        self.data = Some(data.clone());
        Ok(())
    }
}

/// Loaded guardrails.
pub struct Guardrails {
    conventions: BTreeMap<String, Enforcement>,
    required_labels: Vec<String>,
    required_tags: Vec<String>,
    rego: Option<Rego>,
    /// Threads that help the calling thread check a large change set: started at the first
    /// one and kept, since starting a thread costs about as much as checking a golden path.
    /// With the process that started them: a child forked after that has none of them.
    helpers: std::sync::OnceLock<Option<(u32, rayon_core::ThreadPool)>>,
}

impl Drop for Guardrails {
    fn drop(&mut self) {
        // In a forked child the helper threads do not exist, and telling them to stop would
        // take locks the parent may have held at the fork: the pool is left as it is.
        if let Some(Some((owner, _))) = self.helpers.get()
            && *owner != std::process::id()
        {
            std::mem::forget(self.helpers.take());
        }
    }
}

fn rule_names(text: &str) -> Vec<String> {
    let re = regex::Regex::new(
        r"(?m)^\s*((?:deny|warn|violation)(?:_[A-Za-z0-9_]+)?)\s*(?:\[|contains\b|if\b|\{|:?=)",
    )
    .expect("valid regex");
    re.captures_iter(text).map(|c| c[1].to_string()).collect()
}

fn package_of(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("package ").map(|p| p.trim().to_string()))
}

impl Guardrails {
    /// Builds the guardrails from the config and the Rego files `(name, text)`.
    pub fn load<'a>(
        cfg: &GuardrailsConfig,
        required_labels: &[String],
        required_tags: &[String],
        rego_files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Guardrails> {
        for name in cfg.conventions.keys() {
            if !CONVENTIONS.contains(&name.as_str()) {
                return Err(Error::invalid(format!(
                    "idp.yaml: unknown guardrail convention `{name}`; known: {}",
                    CONVENTIONS.join(", ")
                ))
                .with("file", "idp.yaml")
                .with("field", format!("guardrails.conventions.{name}")));
            }
        }
        let mut conventions: BTreeMap<String, Enforcement> = CONVENTIONS
            .iter()
            .map(|c| (c.to_string(), Enforcement::Deny))
            .collect();
        conventions.extend(cfg.conventions.clone());

        let mut engine = regorus::Engine::new();
        let mut rules = BTreeSet::new();
        let mut files = BTreeMap::new();
        let mut has_exception = false;
        let mut any = false;
        for (name, text) in rego_files {
            any = true;
            // Rego v1 first (OPA 1.x, `contains`/`if`); conftest policies written for OPA 0.x
            // (`deny[msg] { ... }`) parse as v0, as `conftest --rego-version v0` would.
            engine.set_rego_v0(false);
            if let Err(v1) = engine.add_policy(name.to_string(), text.to_string()) {
                engine.set_rego_v0(true);
                engine.add_policy(name.to_string(), text.to_string()).map_err(|v0| {
                    Error::invalid(format!("{name}: Rego policy does not compile as Rego v1 ({v1}) nor as v0 ({v0})"))
                        .with("file", name)
                })?;
                engine.set_rego_v0(false);
            }
            if package_of(text).as_deref() == Some("main") {
                for r in rule_names(text) {
                    files.entry(r.clone()).or_insert_with(|| name.to_string());
                    rules.insert(r);
                }
                has_exception |= text
                    .lines()
                    .any(|l| l.trim_start().starts_with("exception"));
            }
        }
        let rules: Vec<String> = rules.into_iter().collect();
        if any {
            check_rego_calls(&engine)?;
            if !rules.is_empty() {
                // Every rule conftest reads, in one evaluation per document: helper rules they
                // share (a pod spec, a set of kinds) are then computed once, not once per rule.
                // Each is wrapped in an array so that an undefined rule is `[]`, not a hole.
                let mut all = String::from("package idp_internal_guardrails\n\nresults := {\n");
                for r in rules
                    .iter()
                    .map(String::as_str)
                    .chain(has_exception.then_some("exception"))
                {
                    all.push_str(&format!("  \"{r}\": [v | v := data.main.{r}],\n"));
                }
                all.push_str("}\n");
                engine.set_rego_v0(false);
                engine
                    .add_policy(COMBINED.to_string(), all)
                    .map_err(|e| Error::internal(format!("guardrail rules: {e}")))?;
            }
            // A policy loop must not hold a service's lock for minutes.
            engine.set_execution_timer_config(REGO_TIMER);
        }
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 4);
        let (vm, reads) = if rules.is_empty() {
            (None, None)
        } else {
            (compile_vm(&engine), input_paths(&engine))
        };
        let rego = any.then(|| Rego {
            workers: (0..workers)
                .map(|_| {
                    Mutex::new(Evaluator {
                        engine: engine.clone(),
                        vm: vm.as_ref().map(new_vm),
                        data: None,
                    })
                })
                .collect(),
            rules,
            has_exception,
            files,
            reads,
        });
        Ok(Guardrails {
            conventions,
            required_labels: required_labels.to_vec(),
            required_tags: required_tags.to_vec(),
            rego,
            helpers: std::sync::OnceLock::new(),
        })
    }

    /// The rules whose findings can stop an operation, and so the rules a waiver can name:
    /// every convention, and the Rego rules that deny (`deny`, `deny_<name>`, `violation...`).
    pub fn blocking_rules(&self) -> Vec<String> {
        let rego = self.rego.iter().flat_map(|r| &r.rules);
        CONVENTIONS
            .iter()
            .map(|c| c.to_string())
            .chain(rego.filter(|r| !r.starts_with("warn")).cloned())
            .collect()
    }

    /// Number of Rego rules (for reports).
    pub fn rego_rules(&self) -> usize {
        self.rego.as_ref().map(|r| r.rules.len()).unwrap_or(0)
    }

    /// Checks every file; returns every finding (nothing is waived here).
    pub fn check(&self, ctx: &GuardContext, files: &[GuardedFile<'_>]) -> Result<Vec<Violation>> {
        // Files are independent: check them on every core, each worker with its own Rego engine,
        // and keep the findings in file order.
        let workers = if ctx.sequential {
            1
        } else {
            self.rego.as_ref().map(|r| r.workers.len()).unwrap_or(1)
        };
        let total: usize = files.iter().map(|f| f.content.len()).sum();
        let data = ctx.rego_data();
        if workers < 2 || files.len() < 4 || total < PARALLEL_FROM {
            return self.check_with(ctx, &data, files, 0, &Memo::default());
        }
        // A shared queue, largest files first: each worker takes the next file when it is done
        // with its last, so that neither waits while the other has work left.
        let mut order: Vec<usize> = (0..files.len()).collect();
        order.sort_by_key(|i| std::cmp::Reverse(files[*i].content.len()));
        let next = std::sync::atomic::AtomicUsize::new(0);
        let memo = Memo::default();
        type PerFile = Vec<(usize, Vec<Violation>)>;
        let work = |w: usize| -> Result<PerFile> {
            let mut done = Vec::new();
            loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&i) = order.get(k) else {
                    return Ok(done);
                };
                let one = std::slice::from_ref(&files[i]);
                done.push((i, self.check_with(ctx, &data, one, w, &memo)?));
            }
        };
        let pid = std::process::id();
        let Some((_, helpers)) = self
            .helpers
            .get_or_init(|| {
                rayon_core::ThreadPoolBuilder::new()
                    .num_threads(workers - 1)
                    .thread_name(|i| format!("idp-guardrails-{i}"))
                    .build()
                    .ok()
                    .map(|pool| (pid, pool))
            })
            .as_ref()
            // A forked child waiting on its parent's threads would wait forever.
            .filter(|(owner, _)| *owner == pid)
        else {
            return self.check_with(ctx, &data, files, 0, &memo);
        };
        let helped = Mutex::new(Vec::new());
        // The calling thread is worker 0; the helpers take the others.
        let mine = helpers.in_place_scope(|s| {
            for w in 1..workers {
                let (work, helped) = (&work, &helped);
                s.spawn(move |_| {
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(w)))
                        .unwrap_or_else(|_| Err(Error::internal("guardrail worker panicked")));
                    if let Ok(mut h) = helped.lock() {
                        h.push(r);
                    }
                });
            }
            work(0)
        });
        let mut results = helped
            .into_inner()
            .map_err(|_| Error::internal("guardrail results lock poisoned"))?;
        if results.len() != workers - 1 {
            return Err(Error::internal("a guardrail worker left no result"));
        }
        results.push(mine);
        let mut per_file: Vec<(usize, Vec<Violation>)> = Vec::new();
        for r in results {
            per_file.extend(r?);
        }
        per_file.sort_by_key(|(i, _)| *i);
        Ok(per_file.into_iter().flat_map(|(_, v)| v).collect())
    }

    /// Checks `files` in order on worker `w`'s Rego engine, whose `data` is `data`.
    fn check_with(
        &self,
        ctx: &GuardContext,
        data: &Value,
        files: &[GuardedFile<'_>],
        w: usize,
        memo: &Memo,
    ) -> Result<Vec<Violation>> {
        let mut out = Vec::new();
        for f in files {
            let docs = read_documents(f.path, f.content)?;
            let docs = docs.nodes();
            if f.path.ends_with("Dockerfile")
                || f.path
                    .rsplit('/')
                    .next()
                    .is_some_and(|n| n.starts_with("Dockerfile"))
            {
                self.dockerfile(f, &mut out);
            }
            for doc in docs.iter() {
                self.conventions_for(ctx, f, doc, &mut out);
                self.rego_for(data, f, doc, w, memo, &mut out)?;
            }
        }
        Ok(out)
    }

    fn enforcement(&self, rule: &str) -> Enforcement {
        self.conventions
            .get(rule)
            .copied()
            .unwrap_or(Enforcement::Deny)
    }

    fn push(&self, out: &mut Vec<Violation>, f: &GuardedFile<'_>, rule: &str, message: String) {
        let severity = self.enforcement(rule);
        if severity == Enforcement::Off {
            return;
        }
        out.push(Violation {
            rule: rule.to_string(),
            severity,
            repo: f.repo.to_string(),
            path: f.path.to_string(),
            environment: f.environment.map(str::to_string),
            message,
            source: "convention".into(),
            waived_by: None,
        });
    }

    fn dockerfile(&self, f: &GuardedFile<'_>, out: &mut Vec<Violation>) {
        let text = String::from_utf8_lossy(f.content);
        let mut stages = BTreeSet::new();
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words
                .first()
                .is_some_and(|w| w.eq_ignore_ascii_case("FROM"))
            {
                let image = words
                    .iter()
                    .skip(1)
                    .find(|w| !w.starts_with("--"))
                    .copied()
                    .unwrap_or("");
                if let Some(stage) = words
                    .iter()
                    .position(|w| w.eq_ignore_ascii_case("AS"))
                    .and_then(|pos| words.get(pos + 1))
                {
                    stages.insert(stage.to_ascii_lowercase());
                }
                if image != "scratch"
                    && !stages.contains(&image.to_ascii_lowercase())
                    && !image_pinned(image)
                {
                    self.push(
                        out,
                        f,
                        "image-tag-pinned",
                        format!("FROM {image}: pin the base image to a version tag or digest"),
                    );
                }
            }
        }
    }

    fn conventions_for(
        &self,
        ctx: &GuardContext,
        f: &GuardedFile<'_>,
        doc: &Node<'_>,
        out: &mut Vec<Violation>,
    ) {
        // Kubernetes objects.
        if let (Some(kind), Some(meta)) =
            (doc.get("kind").and_then(Node::as_str), doc.get("metadata"))
        {
            // Kubernetes objects only (a Backstage catalog entity has the same shape).
            match doc.get("apiVersion").and_then(Node::as_str) {
                None => return,
                Some(a) if a.starts_with("backstage.io/") => return,
                _ => {}
            }
            let name = meta.get("name").and_then(Node::as_str).unwrap_or("");
            let what = format!("{kind} {name}");
            let labels = meta.get("labels");
            let missing: Vec<&str> = self
                .required_labels
                .iter()
                .filter(|k| {
                    labels
                        .and_then(|l| l.get(k))
                        .and_then(Node::as_str)
                        .is_none_or(str::is_empty)
                })
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                self.push(
                    out,
                    f,
                    "labels-required",
                    format!("{what}: missing required labels {}", missing.join(", ")),
                );
            }
            if !ctx.service.is_empty() && !name.starts_with(&ctx.service) {
                self.push(
                    out,
                    f,
                    "naming",
                    format!(
                        "{what}: the name must start with the service name `{}`",
                        ctx.service
                    ),
                );
            }
            if kind != "Application" && !kind.ends_with("Claim") {
                let want = f.environment.and_then(|e| ctx.namespaces.get(e));
                let have = meta.get("namespace").and_then(Node::as_str);
                if let (Some(want), Some(have)) = (want, have)
                    && want != have
                {
                    self.push(
                        out,
                        f,
                        "naming",
                        format!("{what}: namespace `{have}` should be `{want}`"),
                    );
                }
            }
            let mut containers = Vec::new();
            collect_containers(doc, &mut containers);
            for c in containers {
                let cname = c.get("name").and_then(Node::as_str).unwrap_or("?");
                let image = c.get("image").and_then(Node::as_str).unwrap_or("");
                if !image_pinned(image) {
                    self.push(
                        out,
                        f,
                        "image-tag-pinned",
                        format!("{what}: container {cname} image `{image}` must be pinned to a version tag or digest"),
                    );
                }
                let res = c.get("resources");
                let missing: Vec<String> = [
                    ("requests", "cpu"),
                    ("requests", "memory"),
                    ("limits", "cpu"),
                    ("limits", "memory"),
                ]
                .iter()
                .filter(|(a, b)| res.and_then(|r| r.get(a)).and_then(|r| r.get(b)).is_none())
                .map(|(a, b)| format!("{a}.{b}"))
                .collect();
                if !missing.is_empty() {
                    self.push(
                        out,
                        f,
                        "resource-limits",
                        format!(
                            "{what}: container {cname} must set resources {}",
                            missing.join(", ")
                        ),
                    );
                }
            }
        }
        // Cloud resources: Terraform module blocks (HCL as JSON) and Crossplane claims.
        for (label, tags, storage, encrypted) in cloud_resources(doc) {
            let missing: Vec<&str> = self
                .required_tags
                .iter()
                .filter(|t| {
                    tags.and_then(|m| m.get(t.as_str()))
                        .is_none_or(Node::is_null)
                })
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                self.push(
                    out,
                    f,
                    "tags-required",
                    format!("{label}: missing required tags {}", missing.join(", ")),
                );
            }
            if storage && !encrypted {
                self.push(
                    out,
                    f,
                    "storage-encryption",
                    format!("{label}: storage must be encrypted at rest"),
                );
            }
        }
    }

    fn rego_for(
        &self,
        data: &Value,
        f: &GuardedFile<'_>,
        doc: &Node<'_>,
        w: usize,
        memo: &Memo,
        out: &mut Vec<Violation>,
    ) -> Result<()> {
        let Some(rego) = &self.rego else {
            return Ok(());
        };
        if rego.rules.is_empty() {
            return Ok(());
        }
        // Evaluated on the parts the policies read, memoized by them.
        let projected;
        let (doc, key) = match &rego.reads {
            Some(paths) => {
                projected = project(doc, paths);
                let key = serde_json::to_string(&projected)
                    .map_err(|e| Error::internal(format!("Rego input from {}: {e}", f.path)))?;
                (&projected, Some(key))
            }
            None => (doc, None),
        };
        if let Some(key) = &key {
            let known = memo
                .lock()
                .map_err(|_| Error::internal("rego memo lock poisoned"))?;
            if let Some(all) = known.get(key) {
                return rego.findings(f, all, out);
            }
        }
        let mut guard = rego.workers[w % rego.workers.len()]
            .lock()
            .map_err(|_| Error::internal("rego engine lock poisoned"))?;
        guard.use_data(data)?;
        let Evaluator { engine, vm, .. } = &mut *guard;
        // One evaluation for every rule, on the virtual machine if there is one, else on the
        // interpreter. If that fails, each rule again on the interpreter, so that the error
        // names the rule that failed (a loop then meets the time limit twice, not three times).
        let combined = match vm {
            Some(vm) => {
                vm.set_input(doc.to_rego());
                vm.execute_entry_point_by_index(0).ok()
            }
            None => {
                engine.set_input(doc.to_rego());
                engine.eval_rule(format!("data.{COMBINED_RULE}")).ok()
            }
        };
        // The combined rule's value is always an object; anything else is a failure, never
        // "no findings".
        let all = match combined
            .and_then(|v| serde_json::to_value(&v).ok())
            .filter(Value::is_object)
        {
            Some(all) => all,
            None => {
                if vm.is_some() {
                    engine.set_input(doc.to_rego());
                }
                // Each rule on its own, so that the error names the rule that failed.
                let mut each = serde_json::Map::new();
                let exception = rego.has_exception.then_some("exception");
                for rule in exception
                    .into_iter()
                    .chain(rego.rules.iter().map(String::as_str))
                {
                    let v = engine.eval_rule(format!("data.main.{rule}")).map_err(|e| {
                        Error::invalid(format!(
                            "Rego rule data.main.{rule} failed on {}: {e}",
                            f.path
                        ))
                    })?;
                    let v = serde_json::to_value(&v).unwrap_or(Value::Null);
                    each.insert(rule.to_string(), Value::Array(vec![v]));
                }
                Value::Object(each)
            }
        };
        drop(guard);
        rego.findings(f, &all, out)?;
        if let Some(key) = key {
            memo.lock()
                .map_err(|_| Error::internal("rego memo lock poisoned"))?
                .insert(key, all);
        }
        Ok(())
    }
}

/// Rego results of the documents evaluated so far in one check, by the parts of `input` the
/// policies read; shared by the workers.
type Memo = Mutex<std::collections::HashMap<String, Value>>;

impl Rego {
    /// The findings in `all`, the combined rule's value (`{rule: [value]}`) for one document.
    fn findings(&self, f: &GuardedFile<'_>, all: &Value, out: &mut Vec<Violation>) -> Result<()> {
        let value = |rule: &str| all.get(rule).and_then(|v| v.get(0)).unwrap_or(&Value::Null);
        let exceptions: BTreeSet<String> = if self.has_exception {
            flatten_strings(value("exception"))
        } else {
            BTreeSet::new()
        };
        for rule in &self.rules {
            let (severity, name) = if let Some(n) = rule.strip_prefix("warn") {
                (Enforcement::Warn, n.trim_start_matches('_'))
            } else if let Some(n) = rule.strip_prefix("deny") {
                (Enforcement::Deny, n.trim_start_matches('_'))
            } else {
                (
                    Enforcement::Deny,
                    rule.strip_prefix("violation")
                        .unwrap_or("")
                        .trim_start_matches('_'),
                )
            };
            if !name.is_empty() && exceptions.contains(name) {
                continue;
            }
            for msg in messages(value(rule)) {
                out.push(Violation {
                    rule: rule.clone(),
                    severity,
                    repo: f.repo.to_string(),
                    path: f.path.to_string(),
                    environment: f.environment.map(str::to_string),
                    message: msg,
                    source: format!("rego:{}", self.files.get(rule).cloned().unwrap_or_default()),
                    waived_by: None,
                });
            }
        }
        Ok(())
    }
}

/// The size of a change set from which its files are checked on every core. Starting a thread
/// costs 0.1–0.2 ms on the 2-core machines CI runs on, about a golden path's whole check, so
/// the helper threads are started once and kept; waking one costs tens of microseconds. A
/// golden path's change sets (120 KiB in all) then take 0.70 ms on two cores against 0.87 ms
/// on one (slow-host p50); at a quarter of that size the split still saves more than the wake.
const PARALLEL_FROM: usize = 32 * 1024;

/// The module idp adds to the guardrails' Rego, and its rule of every conftest rule's value.
const COMBINED: &str = "idp-internal/guardrails.rego";
const COMBINED_RULE: &str = "idp_internal_guardrails.results";

/// The combined rule compiled for regorus' virtual machine, or `None` when the policies use
/// something the compiler does not support (the interpreter then runs them).
fn compile_vm(engine: &regorus::Engine) -> Option<VmProgram> {
    let entry = format!("data.{COMBINED_RULE}");
    let compiled = engine
        .clone()
        .compile_with_entrypoint(&entry.as_str().into())
        .ok()?;
    let program =
        regorus::languages::rego::compiler::Compiler::compile_from_policy(&compiled, &[&entry])
            .ok()?;
    Some((compiled, program))
}

/// A compiled policy (default rules are read from it) and its program.
type VmProgram = (
    regorus::CompiledPolicy,
    std::sync::Arc<regorus::rvm::Program>,
);

fn new_vm((policy, program): &VmProgram) -> regorus::rvm::vm::RegoVM {
    let mut vm = regorus::rvm::vm::RegoVM::new_with_policy(policy.clone());
    vm.load_program(program.clone());
    vm.set_execution_timer_config(Some(REGO_TIMER));
    vm
}

/// Paths into `input` (`["spec", "template", "spec"]`), each read whole.
type InputPaths = BTreeSet<Vec<String>>;

/// Every path by which the policies read `input`, or `None` when one reads it otherwise: all of
/// it (`input` passed to a function, iterated or compared), or under a `with` modifier. A
/// dynamic step ends a path where it starts (`input.spec.containers[i]` reads
/// `spec.containers` whole), so the findings on a document depend only on what it holds at
/// these paths.
fn input_paths(engine: &regorus::Engine) -> Option<InputPaths> {
    let ast: Value = serde_json::from_str(&engine.get_ast_as_json().ok()?).ok()?;
    /// The fixed path of a reference rooted at `input`, if `e` is one.
    fn fixed(e: &Value) -> Option<Vec<String>> {
        if let Some(v) = e.get("Var") {
            return (v.get("value")? == "input").then(Vec::new);
        }
        let (refr, step) = if let Some(d) = e.get("RefDot") {
            (d.get("refr")?, d.get("field")?.get(1)?.as_str()?)
        } else {
            let b = e.get("RefBrack")?;
            let index = b.get("index")?;
            let s = index.get("String").or_else(|| index.get("RawString"))?;
            (b.get("refr")?, s.get("value")?.as_str()?)
        };
        let mut path = fixed(refr)?;
        path.push(step.to_string());
        Some(path)
    }
    fn walk(v: &Value, out: &mut InputPaths) -> Option<()> {
        match v {
            Value::Object(m) => {
                if m.get("with_mods")
                    .and_then(Value::as_array)
                    .is_some_and(|w| !w.is_empty())
                {
                    return None;
                }
                if let Some(path) = fixed(v) {
                    if path.is_empty() {
                        return None;
                    }
                    out.insert(path);
                    return Some(());
                }
                m.values().try_for_each(|x| walk(x, out))
            }
            Value::Array(a) => a.iter().try_for_each(|x| walk(x, out)),
            _ => Some(()),
        }
    }
    let mut all = InputPaths::new();
    walk(&ast, &mut all)?;
    // A path under another one adds nothing.
    let covered = |p: &Vec<String>| (1..p.len()).any(|n| all.contains(&p[..n]));
    Some(all.iter().filter(|p| !covered(p)).cloned().collect())
}

/// What `doc` holds at `paths`, in a document of the same shape: a function of it gives the
/// same answer as of `doc` when it reads `doc` only at `paths`.
fn project<'a>(doc: &Node<'a>, paths: &InputPaths) -> Node<'a> {
    fn at<'a>(doc: &Node<'a>, paths: &[&[String]]) -> Node<'a> {
        // A path ends here: everything below is read.
        if paths.iter().any(|p| p.is_empty()) {
            return doc.clone();
        }
        let Node::Map(m) = doc else {
            // Not a mapping: a step into it reads nothing, but keep it as it is.
            return doc.clone();
        };
        // In the document's order, as the whole document has them.
        Node::Map(
            m.iter()
                .filter_map(|(key, child)| {
                    let rest: Vec<&[String]> = paths
                        .iter()
                        .filter(|p| p[0] == *key)
                        .map(|p| &p[1..])
                        .collect();
                    (!rest.is_empty()).then(|| (key.clone(), at(child, &rest)))
                })
                .collect(),
        )
    }
    let paths: Vec<&[String]> = paths.iter().map(Vec::as_slice).collect();
    at(doc, &paths)
}

/// Resource types whose data must be encrypted at rest.
const STORAGE_TYPES: [&str; 4] = ["bucket", "postgres", "queue", "cache"];

/// True for `repo/image:1.2.3` and `image@sha256:…`; false for no tag or `:latest`.
pub fn image_pinned(image: &str) -> bool {
    if image.contains("@sha256:") {
        return true;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, tag)) => !tag.is_empty() && tag != "latest",
        None => false,
    }
}

fn collect_containers<'n, 'a>(v: &'n Node<'a>, out: &mut Vec<&'n Node<'a>>) {
    match v {
        Node::Map(m) => {
            for (k, child) in m {
                if (k == "containers" || k == "initContainers")
                    && let Node::Seq(items) = child
                {
                    out.extend(items.iter().filter(|i| matches!(i, Node::Map(_))));
                } else {
                    collect_containers(child, out);
                }
            }
        }
        Node::Seq(a) => a.iter().for_each(|c| collect_containers(c, out)),
        _ => {}
    }
}

/// A cloud resource in a document: `(label, tags, is_storage, encrypted)`.
type CloudResource<'n, 'a> = (String, Option<&'n Node<'a>>, bool, bool);

/// Cloud resources in a document.
fn cloud_resources<'n, 'a>(doc: &'n Node<'a>) -> Vec<CloudResource<'n, 'a>> {
    let mut out = Vec::new();
    // Terraform: {"module": {"name": {"source": ..., "tags": {...}, "encryption": ...}}} (HCL as JSON).
    if let Some(modules) = doc.get("module").and_then(Node::as_map) {
        for (name, body) in modules {
            let body = if let Node::Seq(a) = body {
                a.first().unwrap_or(body)
            } else {
                body
            };
            let tags = body.get("tags").filter(|t| t.as_map().is_some());
            // Storage: anything with encryption settings, and every module idp names after a
            // storage type (`bucket_logs`, `postgres_main`, ...) — so a module that has no
            // encryption input at all is caught too.
            let storage = body
                .get("idp_storage")
                .and_then(Node::as_bool)
                .unwrap_or(false)
                || body.get("encryption").is_some()
                || body.get("kms_key_id").is_some()
                || STORAGE_TYPES
                    .iter()
                    .any(|t| name.starts_with(&format!("{t}_")));
            out.push((format!("module {name}"), tags, storage, encrypted(body)));
        }
    }
    // Crossplane claims: spec.parameters.tags / spec.parameters.encryption.
    if doc
        .get("kind")
        .and_then(Node::as_str)
        .is_some_and(|k| k.ends_with("Claim") || doc.at(&["spec", "parameters"]).is_some())
        && doc
            .get("apiVersion")
            .and_then(Node::as_str)
            .is_some_and(|a| !a.starts_with("apps/") && a.contains('.'))
        && let Some(params) = doc.at(&["spec", "parameters"])
    {
        let name = doc
            .at(&["metadata", "name"])
            .and_then(Node::as_str)
            .unwrap_or("?");
        let kind = doc.get("kind").and_then(Node::as_str).unwrap_or("?");
        let tags = params.get("tags").filter(|t| t.as_map().is_some());
        let storage = params.get("encryption").is_some();
        out.push((format!("{kind} {name}"), tags, storage, encrypted(params)));
    }
    out
}

fn encrypted(body: &Node<'_>) -> bool {
    match body.get("encryption") {
        Some(Node::Bool(b)) => *b,
        Some(m @ Node::Map(_)) => m.get("enabled").and_then(Node::as_bool).unwrap_or(true),
        Some(Node::String(s)) => !s.is_empty() && s != "none" && s != "false",
        _ => false,
    }
}

fn flatten_strings(v: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    match v {
        Value::String(s) => {
            out.insert(s.clone());
        }
        Value::Array(a) => a.iter().for_each(|x| out.extend(flatten_strings(x))),
        _ => {}
    }
    out
}

/// conftest messages: strings, or objects with `msg`.
fn messages(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(messages).collect(),
        Value::Object(m) => match m.get("msg") {
            Some(Value::String(s)) => vec![s.clone()],
            _ => vec![Value::Object(m.clone()).to_string()],
        },
        Value::Bool(true) => vec!["denied".into()],
        _ => Vec::new(),
    }
}

/// A file's documents: straight from the fast YAML reader, or `serde_json` values.
pub enum Documents<'a> {
    Nodes(Vec<Node<'a>>),
    Values(Vec<Value>),
}

impl Documents<'_> {
    /// The documents as nodes (values are borrowed into nodes).
    pub fn nodes(&self) -> std::borrow::Cow<'_, [Node<'_>]> {
        match self {
            Documents::Nodes(n) => std::borrow::Cow::Borrowed(n),
            Documents::Values(v) => {
                std::borrow::Cow::Owned(v.iter().map(Node::from_json).collect())
            }
        }
    }
}

/// Parses a file into the documents conftest would give a policy: every YAML document, a JSON
/// value, or HCL as JSON. Other files give no documents.
pub fn read_documents<'a>(path: &str, content: &'a [u8]) -> Result<Documents<'a>> {
    let text = || {
        std::str::from_utf8(content)
            .map_err(|_| Error::invalid(format!("{path} is not UTF-8 text")))
    };
    let ext = path.rsplit('.').next().unwrap_or("");
    match ext {
        "yaml" | "yml" => {
            // Generated YAML takes the fast reader; anything outside its subset, serde_norway.
            if let Some(docs) = super::fastyaml::parse(text()?) {
                return Ok(Documents::Nodes(docs));
            }
            let mut docs = Vec::new();
            for d in serde_norway::Deserializer::from_str(text()?) {
                let v: Value = Deserialize::deserialize(d).map_err(|e| {
                    Error::invalid(format!("{path} is not valid YAML: {e}")).with("file", path)
                })?;
                if !v.is_null() {
                    docs.push(v);
                }
            }
            Ok(Documents::Values(docs))
        }
        "json" => Ok(Documents::Values(vec![
            serde_json::from_slice(content).map_err(|e| {
                Error::invalid(format!("{path} is not valid JSON: {e}")).with("file", path)
            })?,
        ])),
        "tf" => Ok(Documents::Values(vec![crate::intent::hcl_to_json(
            path,
            text()?,
        )?])),
        _ => Ok(Documents::Values(Vec::new())),
    }
}

/// [`read_documents`] as `serde_json` values.
pub fn parse_documents(path: &str, content: &[u8]) -> Result<Vec<Value>> {
    Ok(match read_documents(path, content)? {
        Documents::Nodes(n) => n.iter().map(Node::to_json).collect(),
        Documents::Values(v) => v,
    })
}

/// How long one Rego rule may evaluate on one file before the operation stops with an error.
pub const REGO_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

const REGO_TIMER: regorus::utils::limits::ExecutionTimerConfig =
    regorus::utils::limits::ExecutionTimerConfig {
        limit: REGO_TIME_LIMIT,
        check_interval: std::num::NonZeroU32::new(64).expect("non-zero"),
    };

/// Every function a Rego policy calls must be a built-in this build of idp has, or a function a
/// policy defines: regorus would only find out when a rule reaches the call, on some request,
/// and a `deny` that errors on a call nobody tested is a policy that never denies.
fn check_rego_calls(engine: &regorus::Engine) -> Result<()> {
    let ast: Value = engine
        .get_ast_as_json()
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| Error::internal("cannot read the Rego policies' syntax tree"))?;
    /// `a.b.c` of a `Var`/`RefDot` chain.
    fn path(e: &Value) -> Option<String> {
        if let Some(v) = e.get("Var") {
            return v.get("value")?.as_str().map(str::to_string);
        }
        let d = e.get("RefDot")?;
        let field = d.get("field")?.get(1)?.as_str()?;
        Some(format!("{}.{field}", path(d.get("refr")?)?))
    }
    fn walk(v: &Value, defined: &mut BTreeSet<String>, calls: &mut BTreeMap<String, u64>) {
        match v {
            Value::Object(m) => {
                if let Some(f) = m.get("Func").and_then(|f| f.get("refr")).and_then(path) {
                    defined.insert(f.rsplit('.').next().unwrap_or(&f).to_string());
                }
                if let Some(c) = m.get("Call")
                    && let Some(f) = c.get("fcn").and_then(path)
                {
                    let line = c.pointer("/span/line").and_then(Value::as_u64);
                    calls.entry(f).or_insert(line.unwrap_or(0));
                }
                m.values().for_each(|x| walk(x, defined, calls));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, defined, calls)),
            _ => {}
        }
    }
    let modules = ast.as_array().cloned().unwrap_or_default();
    let mut defined = BTreeSet::new();
    let mut per_module = Vec::new();
    for m in &modules {
        let mut calls = BTreeMap::new();
        walk(m.get("ast").unwrap_or(m), &mut defined, &mut calls);
        let file = m
            .pointer("/source/file")
            .and_then(Value::as_str)
            .unwrap_or("policies/*.rego")
            .to_string();
        per_module.push((file, calls));
    }
    for (file, calls) in per_module {
        for (c, line) in calls {
            let last = c.rsplit('.').next().unwrap_or(&c);
            let known = c == "print"
                || regorus::unstable::BUILTINS.contains_key(c.as_str())
                || defined.contains(last);
            if !known {
                return Err(Error::invalid(format!(
                    "{file}:{line}: calls `{c}`, which is neither a Rego built-in idp supports \
                     nor a function defined in policies/"
                ))
                .with("file", file));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(rego: &[(&str, &str)]) -> Guardrails {
        Guardrails::load(
            &GuardrailsConfig::default(),
            &["app.kubernetes.io/name".into(), "team".into()],
            &["team".into()],
            rego.iter().copied(),
        )
        .unwrap()
    }

    fn file<'a>(path: &'a str, content: &'a str) -> GuardedFile<'a> {
        GuardedFile {
            repo: "gitops",
            path,
            environment: Some("dev"),
            content: content.as_bytes(),
        }
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc\n  namespace: t-dev\n  labels: {app.kubernetes.io/name: svc, team: t}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: ghcr.io/x/svc:latest\n          securityContext: {privileged: true}\n";

    #[test]
    fn every_rule_is_evaluated_in_one_pass_per_document() {
        let policy = "package main\nimport rego.v1\nkinds := {\"Deployment\"}\nspec := input.spec if input.kind in kinds\ndeny_a contains \"a\" if spec\nwarn_b contains \"b\" if spec\nviolation contains {\"msg\": \"c\"} if spec\nexception contains \"b\" if input.metadata.name == \"skip\"\n";
        let g = g(&[("policies/p.rego", policy)]);
        let rego = g.rego.as_ref().unwrap();
        let mut worker = rego.workers[0].lock().unwrap();
        let engine = &mut worker.engine;
        engine.set_input(regorus::Value::from(
            serde_json::json!({"kind": "Deployment", "spec": {}, "metadata": {"name": "x"}}),
        ));
        let all = serde_json::to_value(engine.eval_rule(format!("data.{COMBINED_RULE}")).unwrap())
            .unwrap();
        assert_eq!(all["deny_a"], serde_json::json!([["a"]]));
        assert_eq!(all["warn_b"], serde_json::json!([["b"]]));
        assert_eq!(all["exception"], serde_json::json!([[]]));
        drop(worker);
        let found = |name: &str| {
            let doc = format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec: {{}}\n"
            );
            let mut rules: Vec<String> = g
                .check(&GuardContext::default(), &[file("d.yaml", &doc)])
                .unwrap()
                .into_iter()
                .filter(|v| v.source.starts_with("rego:"))
                .map(|v| format!("{}={}", v.rule, v.message))
                .collect();
            rules.sort();
            rules
        };
        assert_eq!(found("x"), vec!["deny_a=a", "violation=c", "warn_b=b"]);
        assert_eq!(found("skip"), vec!["deny_a=a", "violation=c"]);
    }

    #[test]
    fn a_rego_call_to_a_missing_function_fails_to_load() {
        let load = |text: &str| {
            Guardrails::load(
                &GuardrailsConfig::default(),
                &[],
                &[],
                [("policies/p.rego", text)],
            )
            .map(|_| ())
        };
        let e = load(
            "package main\nimport rego.v1\ndeny contains msg if {\n  http.send({\"url\": input.u})\n  msg := \"x\"\n}\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("`http.send`"), "{e}");
        assert!(e.to_string().contains("policies/p.rego"), "{e}");
        let e =
            load("package main\ndeny[msg] { no_such_helper(input); msg := \"x\" }\n").unwrap_err();
        assert!(e.to_string().contains("no_such_helper"), "{e}");
        // Built-ins, helpers defined in any policy, and print are fine.
        load(
            "package main\nimport rego.v1\nbig(x) if count(x) > 2\ndeny contains msg if {\n  big(input.items)\n  msg := sprintf(\"%d\", [count(input.items)])\n  print(msg)\n}\n",
        )
        .unwrap();
    }

    #[test]
    fn a_rego_loop_is_stopped_by_the_time_limit() {
        let g = g(&[(
            "policies/loop.rego",
            "package main\nimport rego.v1\ndeny contains msg if {\n  some i in numbers.range(1, 100000000)\n  i < 0\n  msg := \"never\"\n}\n",
        )]);
        let ctx = GuardContext {
            service: "svc".into(),
            sequential: true,
            ..Default::default()
        };
        // Without the limit the rule runs to its end and finds nothing.
        let e = g
            .check(&ctx, &[file("a.yaml", "kind: ConfigMap\n")])
            .unwrap_err();
        assert!(e.to_string().contains("data.main.deny"), "{e}");
    }

    #[test]
    fn conventions_find_unpinned_images_missing_limits_and_labels() {
        let ctx = GuardContext {
            service: "svc".into(),
            sequential: false,
            namespaces: [("dev".into(), "t-dev".into())].into(),
            ..Default::default()
        };
        let v = g(&[])
            .check(&ctx, &[file("apps/svc/dev/deployment.yaml", DEPLOY)])
            .unwrap();
        let rules: BTreeSet<&str> = v.iter().map(|v| v.rule.as_str()).collect();
        assert_eq!(
            rules,
            BTreeSet::from(["image-tag-pinned", "resource-limits"])
        );
        let bad = DEPLOY.replace("team: t", "other: x");
        let v = g(&[]).check(&ctx, &[file("a.yaml", &bad)]).unwrap();
        assert!(
            v.iter()
                .any(|v| v.rule == "labels-required" && v.message.contains("team"))
        );
    }

    #[test]
    fn rego_sees_who_acts_and_the_operation_in_data_idp() {
        // On the virtual machine, and on the interpreter (a `with` keeps a policy off the VM).
        for extra in ["", "x := 1 if { true with input as {} }\n"] {
            let g = g(&[(
                "policies/who.rego",
                &format!(
                    "package main\nimport rego.v1\n{extra}deny_privileged_outside_platform contains msg if {{\n  some c in input.spec.template.spec.containers\n  c.securityContext.privileged\n  not \"group:default/platform-team\" in data.idp.principal.groups\n  msg := sprintf(\"%s may not run %s privileged (%s)\", [data.idp.principal.user, c.name, data.idp.operation])\n}}\n"
                ),
            )]);
            let as_ = |user: &str, groups: &[&str]| GuardContext {
                service: "svc".into(),
                sequential: true,
                principal: Some(crate::org::Principal::new(
                    user,
                    groups.iter().map(|g| g.to_string()).collect(),
                )),
                operation: Some("provision_gitops".into()),
                ..Default::default()
            };
            let alice = as_("user:default/alice", &["group:default/team-payments"]);
            let pat = as_("user:default/pat", &["group:default/platform-team"]);
            let found = |ctx: &GuardContext| -> Vec<String> {
                g.check(ctx, &[file("d.yaml", DEPLOY)])
                    .unwrap()
                    .into_iter()
                    .filter(|v| v.rule == "deny_privileged_outside_platform")
                    .map(|v| v.message)
                    .collect()
            };
            // Alice, then pat, then alice again on the same worker: the data follows the check.
            assert_eq!(
                found(&alice),
                ["user:default/alice may not run app privileged (provision_gitops)"],
                "{extra}"
            );
            assert!(found(&pat).is_empty(), "{extra}");
            assert_eq!(found(&alice).len(), 1, "{extra}");
        }
    }

    #[test]
    fn a_conftest_policy_denies_and_its_exception_applies() {
        let rego = r#"package main
import rego.v1

deny_privileged contains msg if {
  some c in input.spec.template.spec.containers
  c.securityContext.privileged
  msg := sprintf("%s: container %s must not be privileged", [input.metadata.name, c.name])
}

warn contains "be careful" if { input.kind == "Deployment" }

exception contains rules if {
  input.metadata.name == "legacy"
  rules := ["privileged"]
}
"#;
        let gr = g(&[("k8s.rego", rego)]);
        let ctx = GuardContext::default();
        let v = gr.check(&ctx, &[file("d.yaml", DEPLOY)]).unwrap();
        let deny = v
            .iter()
            .find(|v| v.rule == "deny_privileged")
            .expect("deny");
        assert_eq!(deny.severity, Enforcement::Deny);
        assert!(
            deny.message
                .contains("container app must not be privileged")
        );
        assert_eq!(deny.source, "rego:k8s.rego");
        assert!(
            v.iter()
                .any(|v| v.rule == "warn" && v.severity == Enforcement::Warn)
        );
        let legacy = DEPLOY.replace("name: svc\n", "name: legacy\n");
        let v = gr.check(&ctx, &[file("d.yaml", &legacy)]).unwrap();
        assert!(!v.iter().any(|v| v.rule == "deny_privileged"), "{v:?}");
    }

    #[test]
    fn a_broken_rego_file_fails_the_load_with_its_name() {
        let e = Guardrails::load(
            &GuardrailsConfig::default(),
            &[],
            &[],
            [("bad.rego", "package main\ndeny[msg] {")],
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("bad.rego"), "{e}");
    }

    #[test]
    fn dockerfile_base_images_must_be_pinned() {
        let gr = g(&[]);
        let ok = "FROM python:3.12.1-slim AS build\nFROM build\nFROM scratch\n";
        assert!(
            gr.check(&GuardContext::default(), &[file("Dockerfile", ok)])
                .unwrap()
                .is_empty()
        );
        let v = gr
            .check(
                &GuardContext::default(),
                &[file("Dockerfile", "FROM python\n")],
            )
            .unwrap();
        assert_eq!(v[0].rule, "image-tag-pinned");
    }

    #[test]
    fn a_storage_module_without_encryption_or_tags_is_caught() {
        let gr = g(&[]);
        let tf = "module \"bucket_data\" {\n  source = \"x\"\n  bucket_name = \"b\"\n}\n";
        let v = gr
            .check(&GuardContext::default(), &[file("infra/prod/b.tf", tf)])
            .unwrap();
        let rules: BTreeSet<&str> = v.iter().map(|v| v.rule.as_str()).collect();
        assert_eq!(
            rules,
            BTreeSet::from(["storage-encryption", "tags-required"])
        );
    }

    #[test]
    fn image_pinning_accepts_tags_and_digests_only() {
        assert!(image_pinned("ghcr.io/a/b:1.0.0"));
        assert!(image_pinned("localhost:5000/b@sha256:abc"));
        assert!(!image_pinned("localhost:5000/b"));
        assert!(!image_pinned("b:latest"));
        assert!(!image_pinned(""));
    }

    const BUILTIN_REGO: &str = include_str!("../../platform/policies/kubernetes.rego");

    /// Policies in both styles conftest users write, using what the guardrails' Rego commonly
    /// does: helper rules and functions, default rules, `not`, comprehensions, `some ... in`,
    /// string built-ins, an `exception`.
    const CONFTEST_V0: &str = r#"package main

default replicas_floor = 2

floor = replicas_floor

deny[msg] {
  input.kind == "Deployment"
  input.spec.replicas < floor
  msg := sprintf("%s: at least %d replicas", [input.metadata.name, floor])
}

warn_latest[msg] {
  c := input.spec.template.spec.containers[_]
  endswith(c.image, ":latest")
  msg := sprintf("%s uses latest", [c.name])
}

labelled(meta, key) { meta.labels[key] }

violation[{"msg": msg, "details": {"key": k}}] {
  some k
  required := {"team", "tier"}
  required[k]
  not labelled(input.metadata, k)
  msg := concat("", ["missing label ", k])
}

exception[rules] {
  input.metadata.annotations["example.com/skip"] == "latest"
  rules := ["latest"]
}
"#;

    fn doc_strategy() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let flags = || proptest::option::of(any::<bool>());
        let container = (
            "[a-c]{1,3}",
            prop_oneof![Just("img:1.0"), Just("img:latest"), Just("img")],
            flags(),
            flags(),
            flags(),
            any::<bool>(),
        )
            .prop_map(|(name, image, privileged, non_root, escalation, probe)| {
                let mut sc = serde_json::Map::new();
                for (k, v) in [
                    ("privileged", privileged),
                    ("runAsNonRoot", non_root),
                    ("allowPrivilegeEscalation", escalation),
                ] {
                    if let Some(v) = v {
                        sc.insert(k.into(), v.into());
                    }
                }
                let mut c =
                    serde_json::json!({"name": name, "image": image, "securityContext": sc});
                if probe {
                    c["readinessProbe"] = serde_json::json!({"httpGet": {"path": "/"}});
                }
                c
            });
        (
            prop_oneof![
                Just("Deployment"),
                Just("StatefulSet"),
                Just("Job"),
                Just("Service"),
                Just("ConfigMap")
            ],
            proptest::collection::vec(container, 0..3),
            flags(),
            flags(),
            proptest::option::of(0i64..4),
            proptest::collection::btree_set(
                prop_oneof![Just("team"), Just("tier"), Just("x")],
                0..3,
            ),
            any::<bool>(),
        )
            .prop_map(
                |(kind, containers, host_network, pod_non_root, replicas, labels, skip)| {
                    let mut pod = serde_json::json!({"containers": containers});
                    if let Some(h) = host_network {
                        pod["hostNetwork"] = h.into();
                    }
                    if let Some(n) = pod_non_root {
                        pod["securityContext"] = serde_json::json!({"runAsNonRoot": n});
                    }
                    let labels: serde_json::Map<String, Value> = labels
                        .into_iter()
                        .map(|l| (l.to_string(), "v".into()))
                        .collect();
                    let mut doc = serde_json::json!({
                        "apiVersion": "apps/v1",
                        "kind": kind,
                        "metadata": {"name": "svc", "labels": labels},
                        "spec": {"template": {"spec": pod}},
                    });
                    if let Some(r) = replicas {
                        doc["spec"]["replicas"] = r.into();
                    }
                    if skip {
                        doc["metadata"]["annotations"] =
                            serde_json::json!({"example.com/skip": "latest"});
                    }
                    doc
                },
            )
    }

    proptest::proptest! {
        /// The virtual machine must find what the interpreter finds, on the built-in policy
        /// and on conftest policies of both Rego versions.
        #[test]
        fn the_virtual_machine_agrees_with_the_interpreter(doc in doc_strategy()) {
            for g in [
                g(&[("policies/kubernetes.rego", BUILTIN_REGO)]),
                g(&[("policies/conftest.rego", CONFTEST_V0)]),
            ] {
                let rego = g.rego.as_ref().unwrap();
                let mut worker = rego.workers[0].lock().unwrap();
                let Evaluator { engine, vm, .. } = &mut *worker;
                let vm = vm.as_mut().expect("these policies compile to the virtual machine");
                let input = regorus::Value::deserialize(&doc).unwrap();
                vm.set_input(input.clone());
                engine.set_input(input);
                let from_vm = vm.execute_entry_point_by_index(0).unwrap();
                let interpreted = engine.eval_rule(format!("data.{COMBINED_RULE}")).unwrap();
                proptest::prop_assert_eq!(&from_vm, &interpreted);
            }
        }
    }

    #[test]
    fn a_policy_the_virtual_machine_cannot_run_is_interpreted() {
        let policy = "package main\nimport rego.v1\nkind := input.kind\ndeny contains msg if {\n  kind == \"Pod\" with input as {\"kind\": \"Pod\"}\n  msg := sprintf(\"%s denied\", [input.metadata.name])\n}\n";
        let g = g(&[("policies/with.rego", policy)]);
        assert!(
            g.rego.as_ref().unwrap().workers[0]
                .lock()
                .unwrap()
                .vm
                .is_none()
        );
        let v = g
            .check(
                &GuardContext::default(),
                &[file("c.yaml", "kind: ConfigMap\nmetadata:\n  name: cm\n")],
            )
            .unwrap();
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].message, "cm denied");
    }

    #[test]
    fn the_paths_policies_read_are_found_or_the_whole_input_is_used() {
        let paths = |text: &str| {
            let g = g(&[("policies/p.rego", text)]);
            g.rego
                .as_ref()
                .unwrap()
                .reads
                .as_ref()
                .map(|p| p.iter().map(|p| p.join(".")).collect::<Vec<String>>())
        };
        assert_eq!(
            paths(BUILTIN_REGO).unwrap(),
            vec!["kind", "metadata.name", "spec.template.spec"]
        );
        // A dynamic step reads the whole value before it; an import reads what it names.
        assert_eq!(
            paths("package main\nimport rego.v1\nimport input.spec as sp\ndeny contains x if { some i; x := input.items[i].name; sp.a; input[\"api\"].v }\n").unwrap(),
            vec!["api.v", "items", "spec"]
        );
        assert_eq!(
            paths(CONFTEST_V0).unwrap(),
            vec![
                "kind",
                "metadata",
                "spec.replicas",
                "spec.template.spec.containers"
            ]
        );
        // The whole input, or a `with`: every document is evaluated whole.
        assert_eq!(
            paths("package main\nimport rego.v1\ndeny contains \"x\" if count(input) > 9\n"),
            None
        );
        assert_eq!(
            paths(
                "package main\nimport rego.v1\ndeny contains \"x\" if { some k, _ in input; k == \"z\" }\n"
            ),
            None
        );
        assert_eq!(
            paths(
                "package main\nimport rego.v1\ndeny contains \"x\" if { input.a with input as {\"a\": 1} }\n"
            ),
            None
        );
    }

    #[test]
    fn a_projection_keeps_what_is_read_and_nothing_else() {
        let paths: InputPaths = [
            vec!["a".to_string(), "b".to_string()],
            vec!["c".to_string()],
            vec!["s".to_string(), "t".to_string()],
        ]
        .into();
        let doc = serde_json::json!({"a": {"b": [1], "x": 2}, "c": {"d": 3}, "e": 4, "s": "text"});
        assert_eq!(
            project(&Node::from_json(&doc), &paths).to_json(),
            serde_json::json!({"a": {"b": [1]}, "c": {"d": 3}, "s": "text"})
        );
        // Two documents that differ only where no rule reads are evaluated once.
        let g = g(&[("policies/k.rego", BUILTIN_REGO)]);
        let dev = DEPLOY.replace("t-dev", "t-prod");
        let memo = Memo::default();
        let found = g
            .check_with(
                &GuardContext::default(),
                &GuardContext::default().rego_data(),
                &[file("dev.yaml", DEPLOY), file("prod.yaml", &dev)],
                0,
                &memo,
            )
            .unwrap();
        assert_eq!(memo.lock().unwrap().len(), 1);
        let privileged: Vec<&str> = found
            .iter()
            .filter(|v| v.rule == "deny_privileged")
            .map(|v| v.path.as_str())
            .collect();
        assert_eq!(privileged, ["dev.yaml", "prod.yaml"]);
    }

    proptest::proptest! {
        /// Evaluating each document on what the policies read of it, once per distinct part,
        /// finds what evaluating every document whole finds.
        #[test]
        fn projected_and_memoized_checks_find_what_whole_documents_find(
            docs in proptest::collection::vec(doc_strategy(), 1..6),
        ) {
            // Each document twice: the copy differs where the built-in policy does not read.
            let copies = docs.iter().map(|d| {
                let mut d = d.clone();
                d["metadata"]["namespace"] = "elsewhere".into();
                d
            });
            let docs: Vec<Value> = docs.iter().cloned().chain(copies).collect();
            let yaml: Vec<String> = docs.iter().map(|d| serde_norway::to_string(d).unwrap()).collect();
            let files: Vec<GuardedFile<'_>> = yaml.iter().map(|y| file("d.yaml", y)).collect();
            for policy in [BUILTIN_REGO, CONFTEST_V0] {
                let projected = g(&[("policies/p.rego", policy)]);
                proptest::prop_assert!(projected.rego.as_ref().unwrap().reads.is_some());
                let mut whole = g(&[("policies/p.rego", policy)]);
                whole.rego.as_mut().unwrap().reads = None;
                let ctx = GuardContext { sequential: true, ..Default::default() };
                proptest::prop_assert_eq!(
                    projected.check(&ctx, &files).unwrap(),
                    whole.check(&ctx, &files).unwrap()
                );
            }
        }
    }

    #[test]
    fn a_large_change_set_checked_on_every_core_finds_what_one_core_finds() {
        let g = g(&[("policies/k.rego", BUILTIN_REGO)]);
        // Distinct documents, so that every one is evaluated, with findings in each.
        let docs: Vec<String> = (0..400)
            .map(|i| {
                let named = DEPLOY.replace("  name: svc\n", &format!("  name: svc-{i}\n"));
                format!("{named}  padding: \"{}\"\n", "x".repeat(700))
            })
            .collect();
        let paths: Vec<String> = (0..docs.len()).map(|i| format!("apps/{i}.yaml")).collect();
        let files: Vec<GuardedFile<'_>> =
            paths.iter().zip(&docs).map(|(p, d)| file(p, d)).collect();
        assert!(files.iter().map(|f| f.content.len()).sum::<usize>() >= PARALLEL_FROM);
        let parallel = GuardContext::default();
        let one = GuardContext {
            sequential: true,
            ..Default::default()
        };
        let found = g.check(&parallel, &files).unwrap();
        assert!(found.len() >= 400 * 3, "{}", found.len());
        assert_eq!(found, g.check(&one, &files).unwrap());

        // Helper threads another process started (a forked child's parent) are never waited
        // on: here the only helper is busy until the check is over, which it could not be if
        // the check handed it work.
        let g2 = self::g(&[("policies/k.rego", BUILTIN_REGO)]);
        let pool = rayon_core::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        pool.spawn(move || {
            let _ = wait.recv();
        });
        let _ = g2.helpers.set(Some((std::process::id() + 1, pool)));
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| done.send(g2.check(&parallel, &files).unwrap()).unwrap());
            let got = finished.recv_timeout(std::time::Duration::from_secs(120));
            release.send(()).unwrap();
            assert_eq!(
                got.expect("the check waited on another process's threads"),
                found
            );
        });
        // Dropping it leaves the pool alone (as in a forked child, where it has no threads).
        drop(g2);
    }
}
