//! Policy point benchmarks (issue: one policy point):
//! * authorization decisions, p50/p99, at 10, 100 and 1,000 Cedar policies, with the
//!   (action, resource type) index and without it — goal: p99 <= 50 us at 1,000 policies;
//! * guardrails (conventions + the built-in Rego) over a whole golden-path change set —
//!   goal: <= 1 ms.
//!
//! Run: `cargo bench -p idp-core --bench policy`

#[path = "common.rs"]
mod common;

use common::{pct, sample, us, verdict};
use idp_core::blocking::Platform;
use idp_core::org::Directory;
use idp_core::policy::{
    Authz, AuthzContext, AuthzRequest, AuthzResource, GuardContext, GuardedFile,
};
use idp_core::{Operation, ServiceRequest};

const BUILTIN: &str = include_str!("../platform/policies/authz.cedar");
const ORG: &str = include_str!("../platform/org/org.yaml");

/// The built-in policies plus `n - 7` team policies of the kind a large org writes: each team
/// may request waivers and approve for its own services. None applies to a provision_gitops
/// decision on a service, which is the common case the index is for.
fn policies(n: usize) -> String {
    let mut text = BUILTIN.to_string();
    for i in 0..n.saturating_sub(7) {
        let action = if i % 2 == 0 {
            "request_waiver"
        } else {
            "approve_waiver"
        };
        text.push_str(&format!(
            "\n@id(\"team-{i}\")\npermit (principal in Idp::Team::\"group:default/team-{i}\", action == Idp::Action::\"{action}\", resource is Idp::Waiver)\nwhen {{ resource.rule == \"rule-{i}\" }};\n"
        ));
    }
    text
}

fn main() {
    let dir = Directory::load([("org.yaml", ORG)]).unwrap();
    let req = AuthzRequest {
        principal: dir.principal("alice"),
        action: "provision_gitops".into(),
        resource: AuthzResource::Service {
            name: "payments-api".into(),
            owner: "team-payments".into(),
            golden_path: "p".into(),
        },
        context: AuthzContext {
            environment: Some("dev".into()),
            ..Default::default()
        },
    };
    let env = idp_core::policy::authz::EnvFacts {
        protected: false,
        kind: "non-prod".into(),
    };
    println!("authorization decisions (Cedar), 20,000 timed decisions each");
    println!(
        "{:>9} {:>10} {:>10} {:>10} {:>14}",
        "policies", "index", "p50 us", "p99 us", "decisions/s"
    );
    let mut p99_1000 = f64::MAX;
    let only_indexed = std::env::var("IDP_BENCH_PROFILE").is_ok();
    let skip_authz = std::env::var("IDP_BENCH_GUARDRAILS").is_ok();
    for n in [10usize, 100, 1000] {
        if skip_authz {
            break;
        }
        for indexed in [true, false] {
            if only_indexed && !indexed {
                continue;
            }
            let text = policies(n);
            let mut a = Authz::load([("bench.cedar", text.as_str())]).unwrap();
            a.bind_directory(&dir).unwrap();
            assert_eq!(a.len(), n.max(7));
            if !indexed {
                a = a.without_index();
            }
            let d = a.decide(&req, &dir, Some(&env)).unwrap();
            assert!(d.allowed);
            let s = sample(20_000, 2_000, || {
                std::hint::black_box(a.decide(&req, &dir, Some(&env)).unwrap());
            });
            let (p50, p99) = (us(pct(&s, 0.5)), us(pct(&s, 0.99)));
            if n == 1000 && indexed {
                p99_1000 = p99;
            }
            println!(
                "{n:>9} {:>10} {p50:>10.1} {p99:>10.1} {:>14.0}",
                if indexed { "on" } else { "off" },
                1e6 / us(s.iter().sum::<std::time::Duration>() / s.len() as u32)
            );
        }
    }
    println!(
        "goal: p99 <= 50 us at 1,000 policies with the index: {p99_1000:.1} us, {}",
        verdict(p99_1000 <= 50.0)
    );

    // Guardrails over the change sets of a whole golden path (4 steps, ~45 files).
    let ws = tempfile::tempdir().unwrap();
    let p = Platform::builtin(ws.path()).unwrap();
    let plan = p
        .plan(
            &p.principal("alice"),
            Operation::RunGoldenPath,
            &ServiceRequest::new("payments-api", "team-payments"),
        )
        .unwrap();
    let files: Vec<GuardedFile<'_>> = plan
        .change_sets
        .iter()
        .flat_map(|cs| {
            cs.files
                .iter()
                .filter(|f| !f.is_stamp())
                .map(move |f| GuardedFile {
                    repo: &cs.repo,
                    path: &f.path,
                    environment: f.environment.as_deref(),
                    content: f.content.as_ref().unwrap().as_slice(),
                })
        })
        .collect();
    let ctx = GuardContext {
        service: "payments-api".into(),
        ..Default::default()
    };
    let g = &p.definition().guardrails;
    assert!(g.check(&ctx, &files).unwrap().iter().all(|v| !v.blocks()));
    let s = sample(500, 50, || {
        std::hint::black_box(g.check(&ctx, &files).unwrap());
    });
    let p50 = us(pct(&s, 0.5));
    println!(
        "\nguardrails over a whole golden-path change set ({} files, {} Rego rules): p50 {:.0} us, p99 {:.0} us",
        files.len(),
        g.rego_rules(),
        p50,
        us(pct(&s, 0.99))
    );
    println!("goal: <= 1 ms: {}", verdict(p50 <= 1000.0));
    let cfg = &p.definition().config;
    let conventions_only = idp_core::policy::Guardrails::load(
        &cfg.guardrails,
        &cfg.labels.required,
        &cfg.tags.required,
        [],
    )
    .unwrap();
    let s = sample(500, 50, || {
        std::hint::black_box(conventions_only.check(&ctx, &files).unwrap());
    });
    let s2 = sample(500, 50, || {
        for f in &files {
            std::hint::black_box(
                idp_core::policy::guardrails::parse_documents(f.path, f.content).unwrap(),
            );
        }
    });
    println!(
        "  of which: parsing every file {:.0} us; conventions without Rego {:.0} us (p50)",
        us(pct(&s2, 0.5)),
        us(pct(&s, 0.5))
    );
}
