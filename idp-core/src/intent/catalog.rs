//! The module catalog: `modules/types.yaml` (what a service needs from each resource type) and
//! `modules/<type>/*.yaml` (the org-approved modules, their matching rules, locked inputs,
//! overridable parameters and outputs). Loaded and checked as a whole: a rule that ties with
//! another for some request is a load error, never a silent first match.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{PlatformConfig, parse_yaml};
use crate::error::{Error, Result};

/// How a module is provisioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Flavour {
    /// A Terraform/OpenTofu module block, committed as `.tf`.
    Terraform,
    /// A Crossplane composite resource claim, committed as YAML.
    Crossplane,
}

/// When a module is chosen. Every constraint that is set must hold; unset constraints match
/// anything.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchRule {
    #[serde(default)]
    pub class: Option<Vec<String>>,
    #[serde(default)]
    pub environment: Option<Vec<String>>,
    #[serde(default)]
    pub environment_type: Option<String>,
    #[serde(default)]
    pub team: Option<Vec<String>>,
    #[serde(default)]
    pub service: Option<Vec<String>>,
}

impl MatchRule {
    /// How specific the rule is: the more it constrains, the higher. Naming environments or
    /// services counts double, since a name is narrower than a type or a team.
    pub fn specificity(&self) -> u32 {
        self.class.is_some() as u32
            + self.environment_type.is_some() as u32
            + 2 * self.environment.is_some() as u32
            + self.team.is_some() as u32
            + 2 * self.service.is_some() as u32
    }
}

/// The resource a request is about, for matching.
#[derive(Debug, Clone)]
pub struct MatchInput<'a> {
    pub class: Option<&'a str>,
    pub environment: &'a str,
    pub environment_type: &'a str,
    pub team: &'a str,
    pub service: &'a str,
}

impl MatchRule {
    /// Whether the rule matches, and why (one reason per constraint).
    pub fn check(&self, m: &MatchInput<'_>) -> (bool, Vec<String>) {
        let mut ok = true;
        let mut why = Vec::new();
        let mut list = |name: &str, want: &Option<Vec<String>>, have: Option<&str>| {
            if let Some(w) = want {
                let hit = have.is_some_and(|h| w.iter().any(|x| x == h));
                ok &= hit;
                why.push(format!(
                    "{name} {} {} [{}]",
                    have.unwrap_or("(none)"),
                    if hit { "is in" } else { "is not in" },
                    w.join(", ")
                ));
            }
        };
        list("class", &self.class, m.class);
        list("environment", &self.environment, Some(m.environment));
        list("team", &self.team, Some(m.team));
        list("service", &self.service, Some(m.service));
        if let Some(t) = &self.environment_type {
            let hit = t == m.environment_type;
            ok &= hit;
            why.push(format!(
                "environment type {} {} {t}",
                m.environment_type,
                if hit { "is" } else { "is not" }
            ));
        }
        if why.is_empty() {
            why.push("no constraints: matches every request of its type".into());
        }
        (ok, why)
    }
}

/// A parameter a developer may set.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamDef {
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub description: String,
    pub default: Value,
    #[serde(default, serialize_with = "bound")]
    pub minimum: Option<f64>,
    #[serde(default, serialize_with = "bound")]
    pub maximum: Option<f64>,
    #[serde(default, rename = "enum")]
    pub allowed: Option<Vec<Value>>,
    /// The module input it sets (default: the parameter's own name).
    #[serde(default)]
    pub input: Option<String>,
    /// Any value other than the default needs an approved waiver `module-override:<param>`.
    #[serde(default)]
    pub approval: bool,
    /// Values below this need an approved waiver.
    #[serde(default, serialize_with = "bound")]
    pub approval_below: Option<f64>,
    /// Values above this need an approved waiver.
    #[serde(default, serialize_with = "bound")]
    pub approval_above: Option<f64>,
}

impl ParamDef {
    /// Some value of it needs an approved waiver.
    pub fn can_need_approval(&self) -> bool {
        self.approval || self.approval_below.is_some() || self.approval_above.is_some()
    }
}

/// Writes an integral bound as a JSON integer (`365`, not `365.0`). JSON has one number type
/// and JavaScript cannot tell `1.0` from `1`, so this is what keeps the catalog byte-identical
/// in every face (see tests/parity).
fn bound<S: serde::Serializer>(v: &Option<f64>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match v {
        Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => s.serialize_some(&(*x as i64)),
        other => other.serialize(s),
    }
}

/// An output the module provides.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputDef {
    #[serde(default)]
    pub secret: bool,
}

/// Where the generated name goes, and the cloud's limit on it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamingDef {
    pub input: String,
    pub max_length: usize,
}

/// A Crossplane claim kind.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimKind {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
}

/// `modules/<type>/<name>.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModuleDef {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub description: String,
    pub flavour: Flavour,
    /// Terraform module address (registry or git).
    #[serde(default)]
    pub source: Option<String>,
    pub version: String,
    #[serde(default)]
    pub claim: Option<ClaimKind>,
    /// The XRD file (next to the module) whose schema every claim must satisfy.
    #[serde(default)]
    pub xrd: Option<String>,
    #[serde(default, rename = "match")]
    pub rule: MatchRule,
    pub naming: NamingDef,
    #[serde(default)]
    pub locked: BTreeMap<String, Value>,
    #[serde(default)]
    pub params: BTreeMap<String, ParamDef>,
    /// Environment name or type -> parameter defaults there.
    #[serde(default)]
    pub environment_defaults: BTreeMap<String, BTreeMap<String, Value>>,
    pub outputs: BTreeMap<String, OutputDef>,
}

/// A resource type and what a service needs from it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TypeDef {
    #[serde(default)]
    pub description: String,
    /// Environment variable suffix -> module output.
    pub bindings: BTreeMap<String, String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct TypesFile {
    #[serde(rename = "apiVersion")]
    _api_version: String,
    #[serde(rename = "kind")]
    _kind: String,
    types: BTreeMap<String, TypeDef>,
}

/// A loaded module.
pub struct Module {
    pub def: ModuleDef,
    pub file: String,
    /// The claim `spec` schema from the XRD (Crossplane modules).
    pub spec_schema: Option<(Value, jsonschema::Validator)>,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Module({}@{})", self.def.name, self.def.version)
    }
}

impl Module {
    /// `name@version`
    pub fn id(&self) -> String {
        format!("{}@{}", self.def.name, self.def.version)
    }
}

/// Every module, by type.
#[derive(Debug, Default)]
pub struct Catalog {
    pub types: BTreeMap<String, TypeDef>,
    pub modules: Vec<Module>,
}

/// The types every built-in intent may have.
pub const BUILTIN_TYPES: [&str; 4] = ["bucket", "postgres", "queue", "cache"];

impl Catalog {
    /// Loads the catalog from `(path under modules/, text)` pairs and checks it against the
    /// platform's environments.
    pub fn load<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
        cfg: &PlatformConfig,
    ) -> Result<Catalog> {
        let files: BTreeMap<&str, &str> = files.into_iter().collect();
        let mut cat = Catalog::default();
        if files.is_empty() {
            return Ok(cat);
        }
        let types_file = "modules/types.yaml";
        let text = files.get("types.yaml").ok_or_else(|| {
            Error::invalid(format!(
                "{types_file} is missing: it declares the resource types"
            ))
            .with("file", types_file)
        })?;
        let tf: TypesFile = parse_yaml(types_file, text)?;
        cat.types = tf.types;
        for (rel, text) in &files {
            let Some((ty_dir, name)) = rel.split_once('/') else {
                continue;
            };
            if !name.ends_with(".yaml") || name.ends_with(".xrd.yaml") {
                continue;
            }
            let file = format!("modules/{rel}");
            let def: ModuleDef = parse_yaml(&file, text)?;
            let bad = |field: &str, msg: String| {
                Error::invalid(format!("{file}: {msg}"))
                    .with("file", file.clone())
                    .with("field", field.to_string())
            };
            if def.kind != "Module" {
                return Err(bad(
                    "kind",
                    format!("expected `Module`, found `{}`", def.kind),
                ));
            }
            if def.ty != ty_dir {
                return Err(bad(
                    "type",
                    format!(
                        "type `{}` does not match its folder modules/{ty_dir}/",
                        def.ty
                    ),
                ));
            }
            let Some(tdef) = cat.types.get(&def.ty) else {
                return Err(bad(
                    "type",
                    format!("type `{}` is not declared in {types_file}", def.ty),
                ));
            };
            for (var, out) in &tdef.bindings {
                if !def.outputs.contains_key(out) {
                    return Err(bad(
                        "outputs",
                        format!(
                            "the outputs contract lacks `{out}`, which every {} binding needs (for {var}); add it or use another module",
                            def.ty
                        ),
                    ));
                }
            }
            if crate::golden_path::Version::parse(&def.version).is_none() {
                return Err(bad(
                    "version",
                    format!("`{}` is not a pinned X.Y.Z version", def.version),
                ));
            }
            match def.flavour {
                Flavour::Terraform if def.source.is_none() => {
                    return Err(bad("source", "a terraform module needs `source`".into()));
                }
                Flavour::Crossplane if def.claim.is_none() || def.xrd.is_none() => {
                    return Err(bad(
                        "claim",
                        "a crossplane module needs `claim` and `xrd`".into(),
                    ));
                }
                _ => {}
            }
            if def.flavour == Flavour::Terraform {
                // Inputs become attribute names and outputs `module.x.NAME` expressions in the
                // HCL idp writes: a name that is not an identifier would break the file (or
                // inject into it) at request time.
                let inputs = def
                    .locked
                    .keys()
                    .map(|k| ("locked", k.as_str()))
                    .chain(
                        def.params
                            .iter()
                            .map(|(p, pd)| ("params", pd.input.as_deref().unwrap_or(p))),
                    )
                    .chain([("naming.input", def.naming.input.as_str())])
                    .chain(def.outputs.keys().map(|k| ("outputs", k.as_str())))
                    .chain([("type", def.ty.as_str())]);
                for (field, name) in inputs {
                    if !super::hcl::is_ident(name) {
                        return Err(bad(
                            field,
                            format!(
                                "{} is not an HCL identifier (a letter or '_', then letters, \
                                 digits, '_' or '-')",
                                crate::naming::shown(name)
                            ),
                        ));
                    }
                }
            }
            for (p, pd) in &def.params {
                let input = pd.input.as_deref().unwrap_or(p);
                if def.locked.contains_key(input) || input == def.naming.input {
                    return Err(bad(
                        &format!("params.{p}"),
                        format!("sets input `{input}`, which the platform locks"),
                    ));
                }
                check_value(pd, &pd.default).map_err(|m| bad(&format!("params.{p}.default"), m))?;
            }
            for (scope, defaults) in &def.environment_defaults {
                let known = cfg
                    .environments
                    .iter()
                    .any(|e| &e.name == scope || &e.env_type == scope);
                if !known {
                    return Err(bad(
                        &format!("environment_defaults.{scope}"),
                        format!(
                            "`{scope}` is neither an environment nor an environment type of idp.yaml"
                        ),
                    ));
                }
                for (p, v) in defaults {
                    let pd = def.params.get(p).ok_or_else(|| {
                        bad(
                            &format!("environment_defaults.{scope}.{p}"),
                            format!("`{p}` is not a parameter"),
                        )
                    })?;
                    check_value(pd, v)
                        .map_err(|m| bad(&format!("environment_defaults.{scope}.{p}"), m))?;
                }
            }
            if let Some(envs) = &def.rule.environment {
                for e in envs {
                    if cfg.environment(e).is_none() {
                        return Err(bad(
                            "match.environment",
                            format!("`{e}` is not an environment of idp.yaml"),
                        ));
                    }
                }
            }
            let spec_schema = match &def.xrd {
                Some(x) => {
                    let xrd_rel = format!("{ty_dir}/{x}");
                    let xrd_text = files.get(xrd_rel.as_str()).ok_or_else(|| {
                        bad("xrd", format!("XRD file modules/{xrd_rel} does not exist"))
                    })?;
                    Some(xrd_spec_schema(&format!("modules/{xrd_rel}"), xrd_text)?)
                }
                None => None,
            };
            if cat.modules.iter().any(|m| m.def.name == def.name) {
                return Err(bad(
                    "name",
                    format!("module `{}` is defined twice", def.name),
                ));
            }
            cat.modules.push(Module {
                def,
                file,
                spec_schema,
            });
        }
        cat.check_ties(cfg)?;
        Ok(cat)
    }

    /// The modules of `ty`.
    pub fn of_type<'a>(&'a self, ty: &'a str) -> impl Iterator<Item = &'a Module> + 'a {
        self.modules.iter().filter(move |m| m.def.ty == ty)
    }

    /// Every request a rule can tell apart, tried against every rule: if two rules match the
    /// same request with the same specificity, the catalog is ambiguous.
    fn check_ties(&self, cfg: &PlatformConfig) -> Result<()> {
        for ty in self.types.keys() {
            let mods: Vec<&Module> = self.of_type(ty).collect();
            let collect = |f: &dyn Fn(&MatchRule) -> Option<Vec<String>>| -> Vec<Option<String>> {
                let mut set: BTreeSet<String> = BTreeSet::new();
                for m in &mods {
                    set.extend(f(&m.def.rule).unwrap_or_default());
                }
                // `None` stands for any value no rule names (or no class at all).
                std::iter::once(None)
                    .chain(set.into_iter().map(Some))
                    .collect()
            };
            let classes = collect(&|r| r.class.clone());
            let teams = collect(&|r| r.team.clone());
            let services = collect(&|r| r.service.clone());
            for env in &cfg.environments {
                for class in &classes {
                    for team in &teams {
                        for service in &services {
                            let input = MatchInput {
                                class: class.as_deref(),
                                environment: &env.name,
                                environment_type: &env.env_type,
                                team: team.as_deref().unwrap_or("\u{0}any"),
                                service: service.as_deref().unwrap_or("\u{0}any"),
                            };
                            let matched: Vec<&&Module> =
                                mods.iter().filter(|m| m.def.rule.check(&input).0).collect();
                            let Some(best) = matched.iter().map(|m| m.def.rule.specificity()).max()
                            else {
                                continue;
                            };
                            let top: Vec<&&&Module> = matched
                                .iter()
                                .filter(|m| m.def.rule.specificity() == best)
                                .collect();
                            if top.len() > 1 {
                                let names: Vec<String> = top
                                    .iter()
                                    .map(|m| format!("{} ({})", m.def.name, m.file))
                                    .collect();
                                return Err(Error::invalid(format!(
                                    "module catalog is ambiguous: {} match a {ty} request{}{} in environment {} equally \
                                     (specificity {best}); make one rule more specific",
                                    names.join(" and "),
                                    class.as_deref().map(|c| format!(" of class {c}")).unwrap_or_default(),
                                    team.as_deref().map(|t| format!(" for team {t}")).unwrap_or_default(),
                                    env.name
                                ))
                                .with("file", top[0].file.clone())
                                .with("field", "match"));
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Checks a value against a parameter's type, bounds and enum; returns what is wrong.
pub fn check_value(pd: &ParamDef, v: &Value) -> std::result::Result<(), String> {
    let type_ok = match pd.ty.as_str() {
        "string" => v.is_string(),
        "integer" => v.as_i64().is_some() || v.as_u64().is_some(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        other => {
            return Err(format!(
                "unknown parameter type `{other}` (string, integer, number, boolean)"
            ));
        }
    };
    if !type_ok {
        return Err(format!(
            "expected a {}, got {}",
            pd.ty,
            crate::naming::shown(&v.to_string())
        ));
    }
    if let Some(n) = v.as_f64() {
        if let Some(min) = pd.minimum
            && n < min
        {
            return Err(format!("{n} is below the minimum {min}"));
        }
        if let Some(max) = pd.maximum
            && n > max
        {
            return Err(format!("{n} is above the maximum {max}"));
        }
    }
    if let Some(allowed) = &pd.allowed
        && !allowed.contains(v)
    {
        let list: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
        return Err(format!(
            "{} is not one of {}",
            crate::naming::shown(&v.to_string()),
            list.join(", ")
        ));
    }
    if let Some(s) = v.as_str() {
        crate::golden_path::params::check_string("value", s, false)
            .map_err(|e| e.message().to_string())?;
    }
    Ok(())
}

/// The JSON schema of a claim's `spec`, from an XRD's served version.
fn xrd_spec_schema(file: &str, text: &str) -> Result<(Value, jsonschema::Validator)> {
    let xrd: Value = parse_yaml(file, text)?;
    let bad = |m: &str| Error::invalid(format!("{file}: {m}")).with("file", file);
    let versions = xrd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no spec.versions"))?;
    let served = versions
        .iter()
        .find(|v| v.get("served").and_then(Value::as_bool) == Some(true))
        .ok_or_else(|| bad("no served version"))?;
    let spec = served
        .pointer("/schema/openAPIV3Schema/properties/spec")
        .cloned()
        .ok_or_else(|| bad("the served version has no openAPIV3Schema.properties.spec"))?;
    let validator = jsonschema::validator_for(&spec)
        .map_err(|e| bad(&format!("spec schema does not compile: {e}")))?;
    Ok((spec, validator))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_bounds_serialize_as_integers_and_others_as_they_are() {
        let p: ParamDef = serde_norway::from_str(
            "type: number\ndefault: 1\nminimum: 1\nmaximum: 365.0\napproval_below: 0.5\n",
        )
        .unwrap();
        let v = serde_json::to_string(&p).unwrap();
        assert!(v.contains(r#""minimum":1,"maximum":365,"#), "{v}");
        assert!(
            v.contains(r#""approval_below":0.5,"approval_above":null"#),
            "{v}"
        );
    }
}
