//! The JSON call surface: every operation of [`Platform`] as one variant of [`Call`], a
//! serde-tagged enum (`{"method": "run_golden_path", "args": {...}}`). The Python and Node
//! bindings, the HTTP server and any other face parse a call and [`Call::run`] it, so every face
//! gets every operation with the same arguments, the same results and the same errors — the
//! faces only translate names and types. [`METHODS`] lists the methods in a stable order; the
//! argument and result types of each are the Rust types named in [`calls!`], from which the
//! TypeScript and Python declarations are generated (see [`crate::api::schema`]).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::audit::AuditFilter;
use crate::error::{Error, Result};
use crate::org::Principal;
use crate::platform::Platform;
use crate::request::{Operation, ServiceRequest};

pub mod schema;

/// Arguments of `plan`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanArgs {
    /// The operation to plan: `run_golden_path`, `bootstrap_service`, ... (`golden-path` and
    /// kebab-case are accepted too).
    pub operation: String,
    pub request: ServiceRequest,
}

/// Arguments naming one service.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceArg {
    pub service: String,
}

/// Arguments naming one run.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunArg {
    pub run_id: String,
}

/// Arguments of list methods (`runs`, `list_waivers`, `audit_list`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// Only this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Only records at or after this RFC 3339 time (`audit_list`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// Arguments naming one waiver.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdArg {
    pub id: String,
}

/// Arguments of `audit_verify`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyArg {
    /// Verify checkpoints against this ed25519 public key (hex) instead of the log's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Checkpoints exported earlier (kept outside the workspace): each must still match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anchors: Vec<crate::audit::Checkpoint>,
}

/// Arguments of `test_policies`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DirArg {
    pub dir: String,
}

/// No arguments.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// Arguments of `upgrade_fleet`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FleetArgs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default)]
    pub keep: bool,
    /// Plan only: write nothing.
    #[serde(default)]
    pub plan: bool,
}

/// A waiver with its state now (what `list_waivers` returns).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WaiverWithState {
    #[serde(flatten)]
    pub waiver: crate::policy::Waiver,
    pub state: crate::policy::WaiverState,
}

/// A golden path version (what `golden_paths` returns).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GoldenPathSummary {
    pub id: String,
    pub version: String,
    pub title: String,
    /// The parameters' JSON Schema.
    pub parameters: Value,
}

/// Arguments as the core parses them: serde with the path of a bad field.
fn args<T: for<'de> Deserialize<'de>>(method: &str, v: Value) -> Result<T> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        Error::invalid(format!("{method}: invalid arguments: {}", e.into_inner()))
            .with("field", path)
    })
}

/// How each argument type is parsed: requests with the request's own messages.
trait FromArgs: Sized {
    fn from_args(method: &str, v: Value) -> Result<Self>;
}

impl FromArgs for ServiceRequest {
    fn from_args(_: &str, v: Value) -> Result<Self> {
        ServiceRequest::from_json(v)
    }
}

macro_rules! plain_args {
    ($($t:ty),*) => {$(
        impl FromArgs for $t {
            fn from_args(method: &str, v: Value) -> Result<Self> {
                args(method, v)
            }
        }
    )*};
}
plain_args!(
    PlanArgs,
    ServiceArg,
    RunArg,
    ListArgs,
    IdArg,
    KeyArg,
    DirArg,
    NoArgs,
    FleetArgs,
    crate::policy::WaiverRequest,
    crate::policy::AuthzRequest,
    crate::platform::UpgradeRequest,
    crate::platform::insights::IngestRequest,
    crate::platform::insights::InsightsQuery,
    crate::platform::webhooks::WebhookDelivery
);

/// Declares every call once: its variant, method name, argument type, result type, doc, and
/// what it does. The enum, [`METHODS`], parsing, dispatch and the schema all come from here, so
/// they cannot drift apart.
macro_rules! calls {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident $method:literal ($arg:ty) -> $res:ty = |$p:ident, $who:ident, $a:ident| $body:expr;
    )*) => {
        /// One call of the JSON surface: a method and its arguments.
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(tag = "method", content = "args", rename_all = "snake_case")]
        pub enum Call {
            $($(#[doc = $doc])* $variant($arg),)*
        }

        /// Every method, in a stable order.
        pub const METHODS: &[&str] = &[$($method),*];

        impl Call {
            /// Parses `args` (JSON; `null` means no arguments) for `method`.
            pub fn parse(method: &str, args: Value) -> Result<Call> {
                let args = if args.is_null() { json!({}) } else { args };
                match method {
                    $($method => Ok(Call::$variant(<$arg as FromArgs>::from_args($method, args)?)),)*
                    other => Err(Error::invalid(format!(
                        "unknown method {}; known: {}",
                        crate::naming::shown(other),
                        METHODS.join(", ")
                    ))),
                }
            }

            /// The method's name.
            pub fn method(&self) -> &'static str {
                match self {
                    $(Call::$variant(_) => $method,)*
                }
            }

            /// Runs the call on `p` as `who`; the result as JSON.
            pub async fn run(self, p: &Platform, who: &Principal) -> Result<Value> {
                match self {
                    $(Call::$variant($a) => {
                        let ($p, $who) = (p, who);
                        let out: $res = $body;
                        Ok(serde_json::to_value(out)?)
                    })*
                }
            }
        }

        /// `(method, doc, argument schema, result schema)` of every call.
        fn signatures(
            args: &mut schemars::SchemaGenerator,
            results: &mut schemars::SchemaGenerator,
        ) -> Vec<(&'static str, String, schemars::Schema, schemars::Schema)> {
            vec![$((
                $method,
                [$($doc),*].iter().map(|l: &&str| l.trim()).collect::<Vec<_>>().join(" "),
                args.subschema_for::<$arg>(),
                results.subschema_for::<$res>(),
            )),*]
        }
    };
}

calls! {
    /// The service repo: app, tests, container, security baselines, catalog entry.
    BootstrapService "bootstrap_service" (ServiceRequest) -> crate::Receipt =
        |p, who, a| p.execute(who, Operation::BootstrapService, &a).await?;
    /// The CI pipeline in the service repo.
    WireCi "wire_ci" (ServiceRequest) -> crate::Receipt =
        |p, who, a| p.execute(who, Operation::WireCi, &a).await?;
    /// Argo CD applications and Kubernetes manifests per environment.
    ProvisionGitops "provision_gitops" (ServiceRequest) -> crate::Receipt =
        |p, who, a| p.execute(who, Operation::ProvisionGitops, &a).await?;
    /// The Grafana dashboard and SLO burn-rate alerts.
    AttachObservability "attach_observability" (ServiceRequest) -> crate::Receipt =
        |p, who, a| p.execute(who, Operation::AttachObservability, &a).await?;
    /// The request's intents as org-approved modules in the infra repo, wired back to the service.
    RequestInfraResource "request_infra_resource" (ServiceRequest) -> crate::Receipt =
        |p, who, a| p.execute(who, Operation::RequestInfraResource, &a).await?;
    /// Every step of the golden path, in order.
    RunGoldenPath "run_golden_path" (ServiceRequest) -> crate::Receipt =
        |p, who, a| p.execute(who, Operation::RunGoldenPath, &a).await?;
    /// Dry run: the exact change sets with diffs and policy decisions. Writes nothing.
    Plan "plan" (PlanArgs) -> crate::Plan =
        |p, who, a| p.plan(who, Operation::parse(&a.operation)?, &a.request).await?;
    /// What idp created for a service, and how to override each file safely.
    Explain "explain" (ServiceArg) -> crate::Explanation =
        |p, who, a| p.explain(who, &a.service).await?;
    /// Resumes an interrupted, failed or cancelled run; a completed run returns its receipt.
    Resume "resume" (RunArg) -> crate::Receipt =
        |p, who, a| p.resume(who, &a.run_id).await?;
    /// A forge's webhook delivery (headers and raw body): verified with the configured secret;
    /// a pull request merged or closed resumes the runs waiting on it.
    ForgeWebhook "forge_webhook" (crate::platform::webhooks::WebhookDelivery) -> crate::platform::webhooks::WebhookReport =
        |p, who, a| p.forge_webhook(who, &a).await?;
    /// Runs, newest first.
    Runs "runs" (ListArgs) -> Vec<crate::RunSummary> =
        |p, who, a| p.runs(who, a.service.as_deref(), a.limit.unwrap_or(20)).await?;
    /// The golden paths and their versions, with each one's parameter schema.
    GoldenPaths "golden_paths" (NoArgs) -> Vec<GoldenPathSummary> =
        |p, _who, _a| golden_paths(p);
    /// Checks every golden path and version: it loads, its schema and defaults are sound, it
    /// renders with its defaults, and what it renders passes the guardrails. Writes nothing.
    CheckGoldenPaths "check_golden_paths" (NoArgs) -> crate::platform::GoldenPathCheckReport =
        |p, _who, _a| p.check_golden_paths()?;
    /// Asks for an exception to a rule for a service (and environment), until it expires.
    RequestWaiver "request_waiver" (crate::policy::WaiverRequest) -> crate::policy::Waiver =
        |p, who, a| p.request_waiver(who, &a).await?;
    /// Approves a waiver (someone other than its requester, allowed by policy).
    ApproveWaiver "approve_waiver" (IdArg) -> crate::policy::Waiver =
        |p, who, a| p.approve_waiver(who, &a.id).await?;
    /// Waivers and their state, of one service when given.
    ListWaivers "list_waivers" (ListArgs) -> Vec<WaiverWithState> =
        |p, who, a| p
            .list_waivers(who, a.service.as_deref())
            .await?
            .into_iter()
            .map(|(waiver, state)| WaiverWithState { waiver, state })
            .collect();
    /// Checks the audit chain and every signed checkpoint.
    AuditVerify "audit_verify" (KeyArg) -> crate::audit::VerifyReport =
        |p, _who, a| p
            .audit_verify(&crate::audit::VerifyOptions { trusted_key: a.key, anchors: a.anchors })
            .await?;
    /// Audit records, oldest first.
    AuditList "audit_list" (ListArgs) -> Vec<crate::audit::AuditRecord> =
        |p, who, a| p
            .audit_list(who, &AuditFilter { service: a.service, since: a.since, limit: a.limit })
            .await?;
    /// Signs a checkpoint of the audit chain's head (`null` when the log is empty). Platform
    /// admins only.
    AuditCheckpoint "audit_checkpoint" (NoArgs) -> Option<crate::audit::Checkpoint> =
        |p, who, _a| p.audit_checkpoint(who).await?;
    /// What the policy point decides for a request (nothing is recorded).
    Authorize "authorize" (crate::policy::AuthzRequest) -> crate::policy::Decided =
        |p, _who, a| p.authorize(&a)?;
    /// Runs the policy unit tests in a folder against this platform's policies.
    TestPolicies "test_policies" (DirArg) -> crate::platform::policy_tests::TestReport =
        |p, _who, a| p.test_policies(a.dir)?;
    /// Every module of the catalog.
    Modules "modules" (NoArgs) -> Vec<crate::platform::ModuleSummary> =
        |p, _who, _a| p.modules();
    /// Every stored infrastructure request re-resolved against the catalog: what would change.
    InfraImpact "infra_impact" (NoArgs) -> crate::platform::ImpactReport =
        |p, who, _a| p.infra_impact(who).await?;
    /// Moves a service to a newer golden-path version, keeping the team's edits.
    Upgrade "upgrade" (crate::platform::UpgradeRequest) -> crate::platform::UpgradeResult =
        |p, who, a| p.upgrade(who, &a, false).await?;
    /// What an upgrade would do to every file, with diffs. Writes nothing.
    UpgradePlan "upgrade_plan" (crate::platform::UpgradeRequest) -> crate::platform::UpgradeResult =
        |p, who, a| p.upgrade(who, &a, true).await?;
    /// Upgrades every service on an older version (of one team, when given).
    UpgradeFleet "upgrade_fleet" (FleetArgs) -> crate::platform::FleetUpgradeReport =
        |p, who, a| p
            .upgrade_fleet(
                who,
                &crate::platform::FleetUpgradeRequest { to: a.to, owner: a.owner, keep: a.keep },
                a.plan,
            )
            .await?;
    /// Every service with its golden path, version, how far behind it is, and its drift.
    Fleet "fleet" (NoArgs) -> Vec<crate::platform::FleetRow> =
        |p, who, _a| p.fleet(who).await?;
    /// Records the delivery events of a webhook payload (Argo CD, Alertmanager v4, GitHub).
    IngestEvents "ingest_events" (crate::platform::insights::IngestRequest)
        -> crate::platform::insights::IngestReport =
        |p, who, a| p.ingest_events(who, &a).await?;
    /// DORA four keys, adoption, version drift and escape latches over a period.
    Insights "insights" (crate::platform::insights::InsightsQuery)
        -> crate::insights::InsightsReport =
        |p, who, a| p.insights(who, &a).await?;
    /// The insights report as one self-contained HTML page with charts.
    InsightsHtml "insights_html" (crate::platform::insights::InsightsQuery) -> String =
        |p, who, a| p.insights_html(who, &a).await?;
}

fn golden_paths(p: &Platform) -> Vec<GoldenPathSummary> {
    p.definition()
        .golden_paths
        .iter()
        .flat_map(|(id, versions)| {
            versions.values().map(move |gp| GoldenPathSummary {
                id: id.clone(),
                version: gp.def.version.clone(),
                title: gp.def.title.clone(),
                parameters: gp.schema.raw().clone(),
            })
        })
        .collect()
}

/// The principal a face passes: a user ref (groups from the org directory), or
/// `{"user": ..., "groups": [...]}` with explicit groups (e.g. Backstage ownership refs).
pub fn principal(p: &Platform, who: &Value) -> Result<Principal> {
    match who {
        Value::String(u) => {
            crate::golden_path::params::check_string("principal", u, false)?;
            crate::org::check_user_ref(u)?;
            Ok(p.principal(u))
        }
        Value::Object(_) => {
            let pr: Principal = args("principal", who.clone())?;
            crate::golden_path::params::check_string("principal.user", &pr.user, false)?;
            crate::org::check_user_ref(&pr.user)?;
            for g in &pr.groups {
                crate::golden_path::params::check_string("principal.groups", g, false)?;
            }
            if pr.groups.is_empty() {
                Ok(p.principal(&pr.user))
            } else {
                Ok(Principal::new(
                    crate::org::entity_ref("user", &pr.user),
                    pr.groups,
                ))
            }
        }
        _ => Err(Error::invalid(
            "principal must be a user ref like user:default/alice, or {user, groups}",
        )
        .with("field", "principal")),
    }
}

/// Calls `method` with JSON `arguments` as `who`.
pub async fn call(p: &Platform, who: &Principal, method: &str, arguments: Value) -> Result<Value> {
    Call::parse(method, arguments)?.run(p, who).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_listed_method_is_dispatched() {
        let ws = tempfile::tempdir().unwrap();
        let p = Platform::builtin(ws.path()).await.unwrap();
        let who = p.principal("alice");
        for m in METHODS {
            // Empty arguments: either a result or a typed error, never "unknown method".
            if let Err(e) = call(&p, &who, m, Value::Null).await {
                assert!(!e.message().contains("unknown method"), "{m}: {e}");
            }
        }
        assert!(
            call(&p, &who, "nope", Value::Null)
                .await
                .unwrap_err()
                .message()
                .contains("unknown method")
        );
    }

    #[tokio::test]
    async fn wrong_typed_arguments_are_typed_errors() {
        let ws = tempfile::tempdir().unwrap();
        let p = Platform::builtin(ws.path()).await.unwrap();
        let who = p.principal("alice");
        let e = call(
            &p,
            &who,
            "run_golden_path",
            json!({"service": 7, "owner": "team-payments"}),
        )
        .await
        .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        let e = call(&p, &who, "explain", json!({"service": "x", "extra": 1}))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
    }

    #[test]
    fn the_call_enum_and_the_method_list_agree() {
        for m in METHODS {
            let c = Call::parse(m, Value::Null);
            if let Ok(c) = c {
                assert_eq!(c.method(), *m);
                let round: Call =
                    serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
                assert_eq!(round.method(), *m);
            }
        }
    }
}
