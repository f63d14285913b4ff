//! The Rust face of the parity suite (`tests/parity/run.py`): runs every call of a request
//! vector through idp-core's typed API — `ServiceRequest`, `Platform::run_golden_path`,
//! `Platform::explain`, ... — as a Rust embedder writes it, not through `idp_core::api` (the
//! JSON dispatcher the bindings share), and prints one JSON result per call: the serde form of
//! what the method returned, or `{"error": ...}`.
//!
//!   idp-parity-rust VECTOR.json WORKSPACE > results.json

use std::process::ExitCode;

use idp_core::platform::{FleetUpgradeRequest, UpgradeRequest};
use idp_core::{Error, Operation, Platform, Principal, Result, ServiceRequest};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let [_, vector, workspace] = argv.as_slice() else {
        eprintln!("usage: idp-parity-rust VECTOR.json WORKSPACE");
        return ExitCode::from(2);
    };
    match run(vector, workspace).await {
        Ok(results) => {
            println!("{}", serde_json::to_string_pretty(&results).expect("json"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("idp-parity-rust: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(vector: &str, workspace: &str) -> Result<Vec<Value>> {
    let text = std::fs::read_to_string(vector)?;
    let v: Value = serde_json::from_str(&text)?;
    let platform = Platform::builtin(workspace).await?;
    let default_as = v["as"].as_str().unwrap_or("user:default/alice");
    let calls = v["calls"].as_array().cloned().unwrap_or_default();
    let mut out = Vec::new();
    for c in &calls {
        if let Some(spec) = c.get("team_push") {
            out.push(team_push(workspace, spec)?);
            continue;
        }
        let who = platform.principal(c["as"].as_str().unwrap_or(default_as));
        let method = c["method"].as_str().unwrap_or_default();
        out.push(
            call(&platform, &who, method, c["args"].clone())
                .await
                .unwrap_or_else(|e| json!({"error": e.to_json()})),
        );
    }
    Ok(out)
}

/// A team's push between calls (tests/parity/team_push.py, the same for every face).
fn team_push(workspace: &str, spec: &Value) -> Result<Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../team_push.py");
    let out = std::process::Command::new("python3")
        .args([script, workspace, &spec.to_string()])
        .output()?;
    if !out.status.success() {
        return Err(Error::internal(format!(
            "team_push failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

fn typed<T: serde::de::DeserializeOwned>(v: Value) -> Result<T> {
    Ok(serde_json::from_value(v)?)
}

fn to_value(v: impl serde::Serialize) -> Result<Value> {
    Ok(serde_json::to_value(v)?)
}

async fn call(p: &Platform, who: &Principal, method: &str, args: Value) -> Result<Value> {
    let request = || ServiceRequest::from_json(args.clone());
    let service = || -> Result<String> {
        args["service"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error::invalid("a vector call needs args.service"))
    };
    Ok(match method {
        "bootstrap_service" => p.bootstrap_service(who, &request()?).await?.to_json(),
        "wire_ci" => p.wire_ci(who, &request()?).await?.to_json(),
        "provision_gitops" => p.provision_gitops(who, &request()?).await?.to_json(),
        "attach_observability" => p.attach_observability(who, &request()?).await?.to_json(),
        "request_infra_resource" => p.request_infra_resource(who, &request()?).await?.to_json(),
        "run_golden_path" => p.run_golden_path(who, &request()?).await?.to_json(),
        "plan" => {
            let op = Operation::parse(args["operation"].as_str().unwrap_or_default())?;
            let req = ServiceRequest::from_json(args["request"].clone())?;
            p.plan(who, op, &req).await?.to_json()
        }
        "explain" => p.explain(who, &service()?).await?.to_json(),
        "fleet" => to_value(p.fleet(who).await?)?,
        "modules" => to_value(p.modules())?,
        "infra_impact" => to_value(p.infra_impact(who).await?)?,
        "upgrade" => to_value(
            p.upgrade(who, &typed::<UpgradeRequest>(args)?, false)
                .await?,
        )?,
        "upgrade_plan" => to_value(
            p.upgrade(who, &typed::<UpgradeRequest>(args)?, true)
                .await?,
        )?,
        "upgrade_fleet" => {
            let plan = args["plan"].as_bool().unwrap_or(false);
            let mut a = args.clone();
            if let Some(o) = a.as_object_mut() {
                o.remove("plan");
            }
            to_value(
                p.upgrade_fleet(who, &typed::<FleetUpgradeRequest>(a)?, plan)
                    .await?,
            )?
        }
        other => {
            return Err(Error::invalid(format!(
                "the parity suite has no Rust call for {other}"
            )));
        }
    })
}
