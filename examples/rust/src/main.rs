//! The golden path from Rust: plan, run, rerun (a no-op), explain, a log bucket by intent, a
//! denied outsider, and the audit log verified. idp's operations are async: this program runs
//! them on tokio, as an async service embedding idp would (a synchronous program uses
//! `idp_core::blocking::Platform`, which has the same methods).
//!
//!   cargo run -p idp-example [WORKSPACE]

use idp_core::{ErrorKind, Operation, Platform, ServiceRequest};
use serde_json::json;

#[tokio::main]
async fn main() -> idp_core::Result<()> {
    let given = std::env::args().nth(1);
    let dir = match &given {
        Some(ws) => std::path::PathBuf::from(ws),
        None => std::env::temp_dir().join(format!("idp-example-{}", std::process::id())),
    };
    let result = run(&dir).await;
    if given.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn run(dir: &std::path::Path) -> idp_core::Result<()> {
    let platform = Platform::builtin(dir).await?;
    let alice = platform.principal("user:default/alice");
    let request = ServiceRequest::new("payments-api", "team-payments").param("port", 8080);

    let plan = platform
        .plan(&alice, Operation::RunGoldenPath, &request)
        .await?;
    let files: usize = plan.change_sets.iter().map(|cs| cs.files.len()).sum();
    println!(
        "plan: {files} files in {} change sets, allowed={}",
        plan.change_sets.len(),
        plan.allowed
    );

    let receipt = platform.run_golden_path(&alice, &request).await?;
    for s in &receipt.steps {
        let cr = s
            .change_request
            .as_ref()
            .map_or("no change", |c| c.id.as_str());
        println!("  {:<22} {cr}", s.step.as_str());
    }
    println!("service repo: {}", receipt.links["service_repo"]);

    let again = platform.run_golden_path(&alice, &request).await?;
    let commits = |r: &idp_core::Receipt| -> Vec<Option<String>> {
        r.steps
            .iter()
            .map(|s| s.change_request.as_ref().map(|c| c.commit.clone()))
            .collect()
    };
    assert_eq!(
        commits(&again),
        commits(&receipt),
        "a rerun must not commit"
    );
    println!("rerun: no new commits");

    let explained = platform.explain(&alice, "payments-api").await?;
    let managed = explained
        .files
        .iter()
        .filter(|f| f.managed_by_platform)
        .count();
    println!(
        "explain: {managed} of {} files kept up to date by the platform",
        explained.files.len()
    );

    // A log bucket in dev and staging: the catalog picks the module, the platform locks
    // encryption, tags and naming; prod would need the platform team's approval.
    let mut infra = ServiceRequest::new("payments-api", "team-payments");
    infra.intents.push(
        json!({"type": "bucket", "class": "logs", "environments": ["dev", "staging"],
                              "params": {"retention_days": 30}}),
    );
    let r = platform.request_infra_resource(&alice, &infra).await?;
    for s in &r.steps {
        let cr = s
            .change_request
            .as_ref()
            .map_or("no change", |c| c.id.as_str());
        println!(
            "  {:<22} {cr}: {} files",
            s.step.as_str(),
            s.artifacts.len()
        );
    }

    let mallory = platform.principal("user:default/mallory");
    let e = platform.wire_ci(&mallory, &request).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied);
    println!("mallory: denied ({})", e.kind());

    let report = platform.audit_verify(&Default::default()).await?;
    assert!(report.ok, "{report:?}");
    println!("audit log verified: {} records", report.records);
    Ok(())
}
