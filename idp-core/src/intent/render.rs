//! Renderers: a resolution becomes the file committed to the infra repo — a Terraform module
//! block (canonical HCL) or a Crossplane claim (YAML, checked against the module's XRD).

use serde::Serialize;
use serde_json::{Value, json};

use super::catalog::{Flavour, Module};
use super::hcl::{Block, Hcl, render};
use super::resolve::Resolution;
use crate::error::{Error, Result};

/// Renders `r` (resolved to `module`) for a service whose namespace in the environment is
/// `namespace` and whose Kubernetes labels there are `labels`.
pub fn render_resolution(
    r: &Resolution,
    module: &Module,
    namespace: &str,
    labels: &Value,
) -> Result<String> {
    match module.def.flavour {
        Flavour::Terraform => Ok(terraform(r)),
        Flavour::Crossplane => crossplane(r, module, namespace, labels),
    }
}

fn header(r: &Resolution) -> Vec<String> {
    let why = r.why();
    vec![
        format!("Managed by idp: {} in {} -> {}@{} ({why}).", r.intent, r.environment, r.module, r.module_version),
        "Locked inputs are set by the platform. To change a parameter, run `idp request-infra-resource`;".into(),
        format!("`idp explain` shows where every value comes from. Outputs land in Secret {}.", r.secret),
    ]
}

fn terraform(r: &Resolution) -> String {
    let label = format!("{}_{}", r.ty, r.id).replace('-', "_");
    let mut body = vec![
        Some((
            "source".to_string(),
            Hcl::Lit(Value::String(r.source.clone())),
        )),
        Some((
            "version".to_string(),
            Hcl::Lit(Value::String(r.module_version.clone())),
        )),
        None,
    ];
    for i in &r.inputs {
        body.push(Some((i.name.clone(), Hcl::Lit(i.value.clone()))));
    }
    let mut blocks = vec![Block {
        kind: "module".into(),
        labels: vec![label.clone()],
        body,
    }];
    for o in &r.outputs {
        let mut ob = vec![Some((
            "value".to_string(),
            Hcl::Expr(format!("module.{label}.{}", o.name)),
        ))];
        if o.secret {
            ob.push(Some(("sensitive".to_string(), Hcl::Lit(Value::Bool(true)))));
        }
        blocks.push(Block {
            kind: "output".into(),
            labels: vec![format!("{label}_{}", o.name)],
            body: ob,
        });
    }
    render(&header(r), &blocks)
}

/// Serializes a JSON value with object keys sorted at every level, whatever map order
/// serde_json was built with.
struct Sorted<'a>(&'a Value);

impl Serialize for Sorted<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut map = s.serialize_map(Some(keys.len()))?;
                for k in keys {
                    map.serialize_entry(k, &Sorted(&m[k]))?;
                }
                map.end()
            }
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(&Sorted(v))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

#[derive(Serialize)]
struct Claim<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    metadata: Sorted<'a>,
    spec: Sorted<'a>,
}

fn crossplane(r: &Resolution, module: &Module, namespace: &str, labels: &Value) -> Result<String> {
    let claim = module.def.claim.as_ref().expect("checked at load");
    let params: serde_json::Map<String, Value> = r
        .inputs
        .iter()
        .map(|i| (i.name.clone(), i.value.clone()))
        .collect();
    let spec = json!({
        "parameters": params,
        "writeConnectionSecretToRef": {"name": r.secret},
    });
    if let Some((_, validator)) = &module.spec_schema {
        let problems: Vec<String> = validator
            .iter_errors(&spec)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if !problems.is_empty() {
            return Err(Error::invalid(format!(
                "{}: the claim for {} does not match its XRD ({}): {}",
                module.file,
                r.intent,
                module.def.xrd.as_deref().unwrap_or(""),
                problems.join("; ")
            )));
        }
    }
    let metadata = json!({
                // Named after the service (like every object of it); the cloud name is a parameter.
        "name": r.secret,
        "namespace": namespace,
        "labels": labels,
        "annotations": {
            "idp.dev/intent": r.intent,
            "idp.dev/module": format!("{}@{}", r.module, r.module_version),
        },
    });
    let doc = Claim {
        api_version: &claim.api_version,
        kind: &claim.kind,
        metadata: Sorted(&metadata),
        spec: Sorted(&spec),
    };
    let body =
        serde_norway::to_string(&doc).map_err(|e| Error::internal(format!("claim YAML: {e}")))?;
    let head: String = header(r).iter().map(|l| format!("# {l}\n")).collect();
    Ok(format!("{head}{body}"))
}
