//! `idp policy test DIR`: policy unit tests written as data. Every `*.yaml` in DIR holds
//! `tests:`, each a request and the decision expected from the platform's policies — an
//! authorization request (`action` + `service` or `waiver`), or a file for the guardrails.
//!
//! ```yaml
//! tests:
//!   - name: an outsider may not bootstrap
//!     principal: user:default/mallory
//!     action: bootstrap_service
//!     service: { name: payments-api, owner: team-payments }
//!     expect: deny
//!   - name: a privileged container is stopped
//!     guardrails:
//!       path: apps/payments-api/dev/deployment.yaml
//!       content: "apiVersion: apps/v1\nkind: Deployment\n..."
//!     expect: deny
//!     rules: [deny_privileged]
//! ```

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::org::Principal;
use crate::platform::PlatformDef;
use crate::policy::authz::EnvFacts;
use crate::policy::{
    AuthzContext, AuthzRequest, AuthzResource, Enforcement, GuardContext, GuardedFile, RequestTime,
};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct TestFile {
    tests: Vec<TestCase>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct TestCase {
    name: String,
    #[serde(default)]
    principal: Option<String>,
    /// Explicit groups; default: the principal's teams in the org directory.
    #[serde(default)]
    groups: Option<Vec<String>>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    service: Option<ServiceRef>,
    #[serde(default)]
    waiver: Option<WaiverRef>,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    context: Option<AuthzContext>,
    /// The clock of the request (RFC 3339, `2026-11-27T16:30:00Z`): policies see its weekday,
    /// hour and date in the organization's time zone. Default: the real time (or `context.time`).
    #[serde(default)]
    now: Option<String>,
    #[serde(default)]
    guardrails: Option<GuardrailInput>,
    expect: Expect,
    /// Expected deciding policy ids (authorization) or denying rules (guardrails), exactly.
    #[serde(default)]
    policies: Option<Vec<String>>,
    #[serde(default)]
    rules: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ServiceRef {
    name: String,
    owner: String,
    #[serde(default)]
    golden_path: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct WaiverRef {
    #[serde(default = "waiver_id")]
    id: String,
    rule: String,
    service: String,
    owner: String,
    requested_by: String,
}

fn waiver_id() -> String {
    "wv-test".into()
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct GuardrailInput {
    #[serde(default = "default_repo")]
    repo: String,
    path: String,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    service: String,
    content: String,
}

fn default_repo() -> String {
    "gitops".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Expect {
    Allow,
    Deny,
}

/// The outcome of one test.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TestResult {
    pub file: String,
    pub name: String,
    pub passed: bool,
    /// What happened, for a person reading the report.
    pub detail: String,
}

/// Every test's outcome.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TestReport {
    pub passed: usize,
    pub failed: usize,
    pub results: Vec<TestResult>,
}

/// Runs every `*.yaml` test file in `dir` against `def`'s policies.
pub fn run(def: &PlatformDef, dir: &Path) -> Result<TestReport> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| {
            Error::invalid(format!(
                "cannot read policy test folder {}: {e}",
                dir.display()
            ))
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::invalid(format!(
            "{} holds no *.yaml policy tests",
            dir.display()
        )));
    }
    let mut results = Vec::new();
    for path in files {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path)?;
        let tf: TestFile = crate::config::parse_yaml(&name, &text)?;
        for t in tf.tests {
            let (passed, detail) = run_case(def, &t)
                .map_err(|e| e.with("file", name.clone()).with("test", t.name.clone()))?;
            results.push(TestResult {
                file: name.clone(),
                name: t.name,
                passed,
                detail,
            });
        }
    }
    let passed = results.iter().filter(|r| r.passed).count();
    Ok(TestReport {
        passed,
        failed: results.len() - passed,
        results,
    })
}

/// The test's principal: `user` with the test's `groups`, or its teams in the directory.
fn principal_of(def: &PlatformDef, t: &TestCase, user: &str) -> Principal {
    match &t.groups {
        Some(g) => Principal::new(crate::org::entity_ref("user", user), g.clone()),
        None => def.directory.principal(user),
    }
}

fn run_case(def: &PlatformDef, t: &TestCase) -> Result<(bool, String)> {
    if let Some(g) = &t.guardrails {
        // Rego sees who acts and how (`data.idp`) when the test names them.
        let ctx = GuardContext {
            service: g.service.clone(),
            principal: t
                .principal
                .as_deref()
                .map(|user| principal_of(def, t, user)),
            operation: t.action.clone(),
            ..Default::default()
        };
        let file = GuardedFile {
            repo: &g.repo,
            path: &g.path,
            environment: g.environment.as_deref(),
            content: g.content.as_bytes(),
        };
        let found = def.guardrails.check(&ctx, &[file])?;
        let denies: BTreeSet<String> = found
            .iter()
            .filter(|v| v.severity == Enforcement::Deny)
            .map(|v| v.rule.clone())
            .collect();
        let got = if denies.is_empty() {
            Expect::Allow
        } else {
            Expect::Deny
        };
        let rules_ok = t
            .rules
            .as_ref()
            .is_none_or(|r| r.iter().cloned().collect::<BTreeSet<_>>() == denies);
        let detail = outcome(
            "rules",
            t.expect,
            t.rules.as_deref(),
            got,
            &denies.into_iter().collect::<Vec<_>>(),
        );
        return Ok((got == t.expect && rules_ok, detail));
    }
    let user = t
        .principal
        .as_deref()
        .ok_or_else(|| Error::invalid("an authorization test needs `principal`"))?;
    let action = t
        .action
        .clone()
        .ok_or_else(|| Error::invalid("an authorization test needs `action`"))?;
    let principal = principal_of(def, t, user);
    let resource = match (&t.service, &t.waiver) {
        (Some(s), None) => AuthzResource::Service {
            name: s.name.clone(),
            owner: s.owner.clone(),
            golden_path: s.golden_path.clone(),
        },
        (None, Some(w)) => AuthzResource::Waiver {
            id: w.id.clone(),
            rule: w.rule.clone(),
            service: w.service.clone(),
            service_owner: w.owner.clone(),
            requested_by: w.requested_by.clone(),
        },
        _ => {
            return Err(Error::invalid(
                "an authorization test needs exactly one of `service` or `waiver`",
            ));
        }
    };
    let mut context = t.context.clone().unwrap_or_default();
    if t.environment.is_some() {
        context.environment = t.environment.clone();
    }
    let tz = def.config.organization.tz();
    if let Some(now) = &t.now {
        let at = chrono::DateTime::parse_from_rfc3339(now).map_err(|e| {
            Error::invalid(format!("now: {now:?} is not an RFC 3339 time: {e}"))
                .with("field", "now")
        })?;
        context.time = Some(RequestTime::at(at.with_timezone(&chrono::Utc), tz));
    } else if context.time.is_none() {
        context.time = Some(RequestTime::at(chrono::Utc::now(), tz));
    }
    let env = match &context.environment {
        Some(e) => Some(
            def.config
                .environment(e)
                .map(|e| EnvFacts {
                    protected: e.protected,
                    kind: e.env_type.clone(),
                })
                .ok_or_else(|| Error::invalid(format!("environment {e} is not in idp.yaml")))?,
        ),
        None => None,
    };
    let d = def.authz.decide(
        &AuthzRequest {
            principal,
            action,
            resource,
            context,
        },
        &def.directory,
        env.as_ref(),
    )?;
    let got = if d.allowed {
        Expect::Allow
    } else {
        Expect::Deny
    };
    let policies_ok = t.policies.as_ref().is_none_or(|p| {
        let mut want = p.clone();
        want.sort();
        want == d.policies
    });
    let detail = outcome(
        "policies",
        t.expect,
        t.policies.as_deref(),
        got,
        &d.policies,
    );
    Ok((got == t.expect && policies_ok, detail))
}

/// `expected Deny (policies [a]), got Deny (policies [b])`: what the test asked for, with the
/// ids when it names them, and what happened, with the ids that decided it.
fn outcome(
    ids: &str,
    expect: Expect,
    want: Option<&[String]>,
    got: Expect,
    have: &[String],
) -> String {
    let wanted = match want {
        Some(w) => {
            let mut w = w.to_vec();
            w.sort();
            format!(" ({ids} [{}])", w.join(", "))
        }
        None => String::new(),
    };
    format!(
        "expected {expect:?}{wanted}, got {got:?} ({ids} [{}])",
        have.join(", ")
    )
}
