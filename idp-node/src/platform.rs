//! `Platform`: the core's [`idp_core::Platform`] with one async method per operation of
//! [`idp_core::api::METHODS`], in camelCase. Each call is a [`Call`] task on the libuv thread
//! pool: the JS thread only converts arguments and results, the core works off it.

use std::sync::Arc;

use idp_core::api;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;

use crate::error::ToJsError;

/// A request about one service: the core's `ServiceRequest`, with its snake_case keys (the same
/// JSON as the Python face and the CLI's `--request` file).
// Declared for the generated index.d.ts only: requests cross as JSON, so the core validates them
// and names the bad field, and a field the core adds needs no change here.
#[allow(dead_code)]
#[napi(object)]
pub struct ServiceRequest {
    /// The service name (a DNS-1123 label that also matches the org's naming rule).
    pub service: String,
    /// The owning team (`team-payments` or `group:default/team-payments`).
    pub owner: String,
    /// The golden path id; default: the platform's default.
    #[napi(js_name = "golden_path")]
    pub golden_path: Option<String>,
    /// The golden path version; default: the service's current, or the latest.
    pub version: Option<String>,
    /// Parameters, checked against the golden path's JSON Schema.
    #[napi(ts_type = "Record<string, unknown>")]
    pub parameters: Option<Value>,
    /// Infrastructure intents (`{ type, class?, id?, params }`), for `requestInfraResource`.
    #[napi(ts_type = "Array<Record<string, unknown>>")]
    pub intents: Option<Value>,
    /// A change window of idp.yaml that pre-approves changes to protected environments.
    #[napi(js_name = "change_window")]
    pub change_window: Option<String>,
}

/// Options of every call.
#[napi(object)]
pub struct CallOptions {
    /// Who is acting: a catalog user ref (`user:default/alice`; teams from the platform's org
    /// directory), or `{ user, groups }` with explicit groups (e.g. Backstage ownership refs).
    /// Default: the platform's `as` option, else `user:default/$USER` like the CLI.
    #[napi(
        js_name = "as",
        ts_type = "string | { user: string; groups?: string[] }"
    )]
    pub principal: Option<Value>,
}

/// Options of `Platform.fromDir` and `Platform.builtin`.
#[napi(object)]
pub struct PlatformOptions {
    /// The default principal of every call (see `CallOptions.as`).
    #[napi(
        js_name = "as",
        ts_type = "string | { user: string; groups?: string[] }"
    )]
    pub principal: Option<Value>,
}

/// One api call, run on the libuv thread pool.
pub struct Call {
    platform: Arc<idp_core::Platform>,
    method: String,
    principal: Value,
    arguments: Value,
}

/// A call's result as a JS value. The core's JSON is serialized on the worker thread and parsed
/// with V8's `JSON.parse` on the JS thread: several times faster than building the objects one
/// napi call per property, and keys keep the core's order.
pub struct Json(napi::sys::napi_value);

impl TypeName for Json {
    fn type_name() -> &'static str {
        "Json"
    }

    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ToNapiValue for Json {
    unsafe fn to_napi_value(_env: napi::sys::napi_env, val: Self) -> Result<napi::sys::napi_value> {
        Ok(val.0)
    }
}

impl Task for Call {
    type Output = std::result::Result<String, idp_core::Error>;
    type JsValue = Json;

    fn compute(&mut self) -> Result<Self::Output> {
        let p = &self.platform;
        Ok(api::principal(p, &self.principal)
            .and_then(|who| api::call(p, &who, &self.method, &self.arguments))
            .and_then(|v| Ok(serde_json::to_string(&v)?)))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Json> {
        let text = output.map_err(|e| e.to_js_error(&env))?;
        let json: Object = env.get_global()?.get_named_property("JSON")?;
        let parse: Function<String, Unknown> = json.get_named_property("parse")?;
        Ok(Json(parse.call(text)?.raw()))
    }
}

/// A platform definition (config, org, golden paths, policies) bound to a workspace (repos,
/// state, audit). Arguments and results are the core's JSON, the same in every face
/// (snake_case keys); only method names are camelCase.
#[napi]
pub struct Platform {
    inner: Arc<idp_core::Platform>,
    principal: Option<Value>,
}

fn js_err(env: &Env, e: idp_core::Error) -> napi::Error {
    e.to_js_error(env)
}

#[napi]
impl Platform {
    /// The built-in default platform, with repos, state and audit under `workspace`
    /// (default `.idp`).
    #[napi(factory)]
    pub fn builtin(
        env: Env,
        workspace: Option<String>,
        options: Option<PlatformOptions>,
    ) -> Result<Platform> {
        let ws = workspace.unwrap_or_else(|| ".idp".into());
        idp_core::Platform::builtin(ws)
            .map(|p| Platform::new(p, options))
            .map_err(|e| js_err(&env, e))
    }

    /// The platform defined in folder `dir` (`idp.yaml`, `golden-paths/`, ...), with repos,
    /// state and audit under `workspace` (default `.idp`).
    #[napi(factory)]
    pub fn from_dir(
        env: Env,
        dir: String,
        workspace: Option<String>,
        options: Option<PlatformOptions>,
    ) -> Result<Platform> {
        let ws = workspace.unwrap_or_else(|| ".idp".into());
        idp_core::Platform::from_dir(dir, ws)
            .map(|p| Platform::new(p, options))
            .map_err(|e| js_err(&env, e))
    }

    /// Where repos, state and audit live.
    #[napi(getter)]
    pub fn workspace(&self) -> String {
        self.inner.workspace().to_string_lossy().into_owned()
    }

    /// Calls core method `method` (one of `METHODS`, snake_case) with JSON `args`.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn call(
        &self,
        method: String,
        args: Option<Value>,
        options: Option<CallOptions>,
    ) -> AsyncTask<Call> {
        self.task(method, args, options)
    }

    /// The service repo: app, tests, container, security baselines, catalog entry.
    #[napi(
        ts_args_type = "request: ServiceRequest, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn bootstrap_service(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("bootstrap_service", a, o)
    }

    /// The CI pipeline in the service repo.
    #[napi(
        ts_args_type = "request: ServiceRequest, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn wire_ci(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("wire_ci", a, o)
    }

    /// Argo CD applications and Kubernetes manifests per environment.
    #[napi(
        ts_args_type = "request: ServiceRequest, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn provision_gitops(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("provision_gitops", a, o)
    }

    /// The Grafana dashboard and SLO burn-rate alerts.
    #[napi(
        ts_args_type = "request: ServiceRequest, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn attach_observability(
        &self,
        a: Option<Value>,
        o: Option<CallOptions>,
    ) -> AsyncTask<Call> {
        self.task("attach_observability", a, o)
    }

    /// The request's `intents` as org-approved modules in the infra repo.
    #[napi(
        ts_args_type = "request: ServiceRequest, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn request_infra_resource(
        &self,
        a: Option<Value>,
        o: Option<CallOptions>,
    ) -> AsyncTask<Call> {
        self.task("request_infra_resource", a, o)
    }

    /// Every step of the golden path, in order.
    #[napi(
        ts_args_type = "request: ServiceRequest, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn run_golden_path(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("run_golden_path", a, o)
    }

    /// Dry run: the exact change sets with diffs and policy decisions. Writes nothing.
    #[napi(
        ts_args_type = "args: { operation: string; request: ServiceRequest }, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn plan(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("plan", a, o)
    }

    /// What idp created for `service`, and how to override each file safely.
    #[napi(
        ts_args_type = "args: { service: string }, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn explain(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("explain", a, o)
    }

    /// Resumes run `run_id` to the end state an uninterrupted run reaches.
    #[napi(
        ts_args_type = "args: { run_id: string }, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn resume(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("resume", a, o)
    }

    /// Runs, newest first.
    #[napi(
        ts_args_type = "args?: { service?: string; limit?: number }, options?: CallOptions",
        ts_return_type = "Promise<Array<Record<string, any>>>"
    )]
    pub fn runs(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("runs", a, o)
    }

    /// The golden paths and versions, with their parameter schemas.
    #[napi(
        ts_args_type = "args?: {}, options?: CallOptions",
        ts_return_type = "Promise<Array<Record<string, any>>>"
    )]
    pub fn golden_paths(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("golden_paths", a, o)
    }

    /// Asks for an exception to a rule; it applies once someone else approves it.
    #[napi(
        ts_args_type = "args: { rule: string; service: string; environment?: string; justification: string; expires: string }, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn request_waiver(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("request_waiver", a, o)
    }

    /// Approves waiver `id` (as someone other than its requester, allowed by policy).
    #[napi(
        ts_args_type = "args: { id: string }, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn approve_waiver(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("approve_waiver", a, o)
    }

    /// Waivers and their state.
    #[napi(
        ts_args_type = "args?: { service?: string }, options?: CallOptions",
        ts_return_type = "Promise<Array<Record<string, any>>>"
    )]
    pub fn list_waivers(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("list_waivers", a, o)
    }

    /// Checks the audit hash chain and signed checkpoints.
    #[napi(
        ts_args_type = "args?: { key?: string }, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn audit_verify(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("audit_verify", a, o)
    }

    /// Audit records, oldest first.
    #[napi(
        ts_args_type = "args?: { service?: string; since?: string; limit?: number }, options?: CallOptions",
        ts_return_type = "Promise<Array<Record<string, any>>>"
    )]
    pub fn audit_list(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("audit_list", a, o)
    }

    /// Signs a checkpoint of the audit head; `null` when the log is empty.
    #[napi(
        ts_args_type = "args?: {}, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any> | null>"
    )]
    pub fn audit_checkpoint(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("audit_checkpoint", a, o)
    }

    /// Asks the policy point about a request; no side effects.
    #[napi(
        ts_args_type = "args: { principal: { user: string; groups: string[] }; action: string; resource: Record<string, any>; context?: Record<string, any> }, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn authorize(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("authorize", a, o)
    }

    /// Every infrastructure module of the platform's catalog.
    #[napi(
        ts_args_type = "args?: {}, options?: CallOptions",
        ts_return_type = "Promise<Array<Record<string, any>>>"
    )]
    pub fn modules(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("modules", a, o)
    }

    /// What would change, per service, if every stored infrastructure request were resolved
    /// again against the current module catalog. Writes nothing.
    #[napi(
        ts_args_type = "args?: {}, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn infra_impact(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("infra_impact", a, o)
    }

    /// Upgrades `service` to version `to` (default: the latest) with a three-way merge; `keep`
    /// keeps local edits of platform-managed files.
    #[napi(
        ts_args_type = "args: { service: string; to?: string; keep?: boolean }, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn upgrade(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("upgrade", a, o)
    }

    /// What `upgrade` would change, conflicts included. Writes nothing.
    #[napi(
        ts_args_type = "args: { service: string; to?: string; keep?: boolean }, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn upgrade_plan(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("upgrade_plan", a, o)
    }

    /// Upgrades every service (`owner`: one team's) to `to`; `plan` writes nothing.
    #[napi(
        ts_args_type = "args?: { to?: string; owner?: string; keep?: boolean; plan?: boolean }, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn upgrade_fleet(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("upgrade_fleet", a, o)
    }

    /// Every service with its golden path, scaffold version, how far behind it is, and drift.
    #[napi(
        ts_args_type = "args?: {}, options?: CallOptions",
        ts_return_type = "Promise<Array<Record<string, any>>>"
    )]
    pub fn fleet(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("fleet", a, o)
    }

    /// Runs the policy unit tests in `dir` against this platform's policies.
    #[napi(
        ts_args_type = "args: { dir: string }, options?: CallOptions",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn test_policies(&self, a: Option<Value>, o: Option<CallOptions>) -> AsyncTask<Call> {
        self.task("test_policies", a, o)
    }
}

impl Platform {
    fn new(p: idp_core::Platform, options: Option<PlatformOptions>) -> Platform {
        Platform {
            inner: Arc::new(p),
            principal: options.and_then(|o| o.principal),
        }
    }

    fn task(
        &self,
        method: impl Into<String>,
        args: Option<Value>,
        options: Option<CallOptions>,
    ) -> AsyncTask<Call> {
        let principal = options
            .and_then(|o| o.principal)
            .or_else(|| self.principal.clone())
            .unwrap_or_else(default_principal);
        AsyncTask::new(Call {
            platform: Arc::clone(&self.inner),
            method: method.into(),
            principal,
            arguments: args.unwrap_or(Value::Null),
        })
    }
}

/// The same default as the CLI's `--as`: the operating-system user.
fn default_principal() -> Value {
    Value::String(format!(
        "user:default/{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    ))
}
