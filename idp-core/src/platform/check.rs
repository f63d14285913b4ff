//! `idp golden-path check`: every golden path and version of the platform, checked the way a
//! request would use it, before any team does. Each version must load; its parameter schema is
//! read strictly (an unknown keyword is a typo until proven otherwise: `x-` keywords are
//! extensions); every default must fit its own schema, in every environment type; the version
//! renders with its defaults for a service of the first team of the org; and what it renders
//! passes the guardrails as a first creation would. Every problem names its golden path,
//! version, file and field; one broken golden path does not hide the others' problems.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Platform;
use crate::error::Result;
use crate::golden_path::{GoldenPath, Parameters, StepId, build_context};
use crate::policy::{Enforcement, GuardContext, GuardedFile};

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A request would fail, or produce something the guardrails stop.
    Error,
    /// Worth a look; nothing fails because of it.
    Warning,
}

/// One problem of one golden path version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Problem {
    pub golden_path: String,
    pub version: String,
    pub severity: Severity,
    /// The file at fault: `golden-paths/<id>/<version>/path.yaml`, a template, or a file the
    /// version renders (`apps/<service>/dev/deployment.yaml`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Where in it: `parameters.properties.port.default`, `steps.wire_ci.files[0].path`, the
    /// guardrail rule of a rendered file, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

/// The outcome of `idp golden-path check`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GoldenPathCheckReport {
    /// Every golden path version looked at (`id@version`).
    pub checked: Vec<String>,
    pub problems: Vec<Problem>,
    /// True when no problem is an error.
    pub ok: bool,
}

/// JSON Schema keywords (2020-12, and draft 7's `definitions`/`dependencies`): anything else in
/// a parameter schema is a typo, unless it starts with `x-`.
const KEYWORDS: &[&str] = &[
    "$schema",
    "$id",
    "$ref",
    "$defs",
    "$comment",
    "$anchor",
    "$dynamicRef",
    "$dynamicAnchor",
    "$vocabulary",
    "definitions",
    "type",
    "enum",
    "const",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxContains",
    "minContains",
    "contains",
    "items",
    "prefixItems",
    "additionalItems",
    "unevaluatedItems",
    "maxProperties",
    "minProperties",
    "required",
    "dependentRequired",
    "dependentSchemas",
    "dependencies",
    "properties",
    "patternProperties",
    "additionalProperties",
    "unevaluatedProperties",
    "propertyNames",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "format",
    "contentEncoding",
    "contentMediaType",
    "contentSchema",
    "title",
    "description",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
    "examples",
];

/// The service a check renders for (a name every org's naming rule is asked to accept).
const CHECK_SERVICE: &str = "golden-path-check";

impl Platform {
    /// Checks every golden path and version (see the module documentation). Nothing is written.
    pub fn check_golden_paths(&self) -> Result<GoldenPathCheckReport> {
        let def = self.definition();
        let mut problems = Vec::new();
        let mut checked = Vec::new();
        for (id, versions) in &def.broken_golden_paths {
            for (version, p) in versions {
                checked.push(format!("{id}@{version}"));
                problems.push(Problem {
                    golden_path: id.clone(),
                    version: version.clone(),
                    severity: Severity::Error,
                    file: p.file.clone(),
                    field: p.field.clone(),
                    message: p.message.clone(),
                });
            }
        }
        for versions in def.golden_paths.values() {
            for gp in versions.values() {
                checked.push(gp.id_version());
                self.check_one(gp, &mut problems)?;
            }
        }
        checked.sort();
        let ok = !problems.iter().any(|p| p.severity == Severity::Error);
        Ok(GoldenPathCheckReport {
            checked,
            problems,
            ok,
        })
    }

    fn check_one(&self, gp: &GoldenPath, out: &mut Vec<Problem>) -> Result<()> {
        let def = self.definition();
        let path_yaml = format!("golden-paths/{}/{}/path.yaml", gp.def.id, gp.def.version);
        let mut push = |severity, file: Option<String>, field: Option<String>, message: String| {
            out.push(Problem {
                golden_path: gp.def.id.clone(),
                version: gp.def.version.clone(),
                severity,
                file,
                field,
                message,
            });
        };
        // The schema, strictly: keywords, then each default against its own property.
        let mut unknown = Vec::new();
        unknown_keywords(&gp.def.parameters, "parameters", &mut unknown);
        for (field, key) in unknown {
            push(
                Severity::Error,
                Some(path_yaml.clone()),
                Some(field),
                format!(
                    "`{key}` is not a JSON Schema keyword (a typo?); extensions start with `x-`"
                ),
            );
        }
        let props = gp.def.parameters["properties"].as_object();
        let mut bad_defaults = false;
        for (name, prop) in props.into_iter().flatten() {
            let Some(default) = prop.get("default") else {
                continue;
            };
            // A property that refers elsewhere ($ref) is checked with the whole schema below.
            let Ok(v) = jsonschema::validator_for(prop) else {
                continue;
            };
            for e in v.iter_errors(default) {
                bad_defaults = true;
                push(
                    Severity::Error,
                    Some(path_yaml.clone()),
                    Some(format!("parameters.properties.{name}.default")),
                    format!("the default does not fit its own schema: {e}"),
                );
            }
        }
        // Render with the defaults, for every environment, as a request that gives nothing.
        let given = Parameters::new();
        let required: Vec<&str> = gp.def.parameters["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|r| !gp.schema.defaults().contains_key(*r))
            .collect();
        if !required.is_empty() {
            push(
                Severity::Warning,
                Some(path_yaml.clone()),
                Some("parameters.required".into()),
                format!(
                    "not rendered: {} required and without a default; give each a default to \
                     have the templates checked",
                    required.join(", ")
                ),
            );
            return Ok(());
        }
        let params = match gp.schema.resolve(&given) {
            Ok(p) => p,
            Err(e) => {
                if !bad_defaults {
                    push(
                        Severity::Error,
                        Some(path_yaml.clone()),
                        Some("parameters".into()),
                        format!(
                            "the defaults together do not pass the schema: {}",
                            e.message()
                        ),
                    );
                }
                // The templates are still worth checking, with the defaults as they are.
                gp.schema.defaults().clone()
            }
        };
        let env_params = match gp.environment_parameters(&def.config, &given, &BTreeMap::new()) {
            Ok(p) => p,
            Err(e) => {
                push(
                    Severity::Error,
                    Some(path_yaml.clone()),
                    e.context_value("field").map(str::to_string),
                    e.message().to_string(),
                );
                return Ok(());
            }
        };
        let team = match def.directory.teams().next() {
            Some(t) => t.clone(),
            None => return Ok(()),
        };
        let repo_urls = super::prepare::repo_urls(self, CHECK_SERVICE);
        let ctx = build_context(
            &def.config,
            &team,
            gp,
            CHECK_SERVICE,
            &params,
            &env_params,
            &repo_urls,
            &Default::default(),
        );
        let mut rendered = Vec::new();
        for step in StepId::ORDER {
            let Some(sd) = gp.step(step) else {
                continue;
            };
            match gp.render_step(step, &ctx) {
                Ok(files) => {
                    let repo = super::prepare::repo_name_for(self, sd.repo, CHECK_SERVICE);
                    rendered.extend(files.into_iter().map(|f| (repo.clone(), f)));
                }
                Err(e) => {
                    // A template names its file; a path template its field in path.yaml.
                    let file = e
                        .context_value("file")
                        .map(|v| format!("golden-paths/{}/{}/{v}", gp.def.id, gp.def.version))
                        .or_else(|| Some(path_yaml.clone()));
                    let prefix = format!("{}: ", gp.id_version());
                    let message = e.message();
                    let message = message.strip_prefix(&prefix).unwrap_or(message);
                    push(
                        Severity::Error,
                        file,
                        e.context_value("field").map(str::to_string),
                        message.to_string(),
                    );
                }
            }
        }
        // What a first creation would check.
        let files: Vec<GuardedFile<'_>> = rendered
            .iter()
            .map(|(repo, f)| GuardedFile {
                repo,
                path: &f.path,
                environment: f.environment.as_deref(),
                content: f.content.as_slice(),
            })
            .collect();
        let guard = GuardContext {
            service: CHECK_SERVICE.into(),
            namespaces: ctx.namespaces(),
            operation: Some("run_golden_path".into()),
            ..Default::default()
        };
        match def.guardrails.check(&guard, &files) {
            Ok(found) => {
                for v in found {
                    let severity = match v.severity {
                        Enforcement::Deny => Severity::Error,
                        _ => Severity::Warning,
                    };
                    push(
                        severity,
                        Some(format!("{}:{}", v.repo, v.path)),
                        Some(v.rule.clone()),
                        format!("{} (from {})", v.message, v.source),
                    );
                }
            }
            Err(e) => push(
                Severity::Error,
                None,
                None,
                format!("the guardrails failed on what it renders: {}", e.message()),
            ),
        }
        Ok(())
    }
}

/// Every key of `schema` (and of the schemas inside it) that is not a JSON Schema keyword nor an
/// `x-` extension, as (field path, key).
fn unknown_keywords(schema: &Value, at: &str, out: &mut Vec<(String, String)>) {
    let Some(map) = schema.as_object() else {
        return;
    };
    for (k, v) in map {
        let here = format!("{at}.{k}");
        if k.starts_with("x-") {
            continue;
        }
        if !KEYWORDS.contains(&k.as_str()) {
            out.push((here, k.clone()));
            continue;
        }
        match k.as_str() {
            // Maps from names to schemas.
            "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas" => {
                for (name, sub) in v.as_object().into_iter().flatten() {
                    unknown_keywords(sub, &format!("{here}.{name}"), out);
                }
            }
            // Lists of schemas.
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                for (i, sub) in v.as_array().into_iter().flatten().enumerate() {
                    unknown_keywords(sub, &format!("{here}[{i}]"), out);
                }
            }
            // One schema.
            "items"
            | "additionalProperties"
            | "additionalItems"
            | "unevaluatedItems"
            | "unevaluatedProperties"
            | "propertyNames"
            | "contains"
            | "not"
            | "if"
            | "then"
            | "else"
            | "contentSchema" => unknown_keywords(v, &here, out),
            // Values, not schemas: `default`, `enum`, `const`, `examples`, ...
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keywords_are_found_where_schemas_are_and_nowhere_else() {
        let schema = serde_json::json!({
            "type": "object",
            "properties": {
                "port": {"tpye": "integer", "default": {"notAKeyword": 1}},
                "size": {"type": "string", "x-idp-environment-types": {"prod": {"tpye": 1}}},
                "list": {"type": "array", "items": {"enmu": [1]}},
            },
            "allOf": [{"requird": ["port"]}],
        });
        let mut found = Vec::new();
        unknown_keywords(&schema, "parameters", &mut found);
        found.sort();
        assert_eq!(
            found,
            [
                (
                    "parameters.allOf[0].requird".to_string(),
                    "requird".to_string()
                ),
                (
                    "parameters.properties.list.items.enmu".into(),
                    "enmu".into()
                ),
                ("parameters.properties.port.tpye".into(), "tpye".into()),
            ]
        );
    }
}
