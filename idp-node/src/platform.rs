//! `Platform`: the core's [`idp_core::Platform`] with one Promise-returning method per call of
//! the core's call surface ([`idp_core::api::METHODS`], in camelCase). A call runs on tokio (the
//! addon's runtime): no libuv thread is held while idp works or waits. The JS thread only
//! converts arguments and results, delivers progress events as they happen (`onProgress`), and
//! passes an `AbortSignal`'s abort on to the run, which stops at its next safe point.
//!
//! Argument and result types are the core's Rust types, generated into `api.d.ts`.

use idp_core::api::{self, Call};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::Value;

use crate::error::ToJsError;

/// Options of every call.
// Declared for the generated index.d.ts only: options are read property by property, since a
// callback and an AbortSignal cannot cross as JSON.
#[allow(dead_code)]
#[napi(object)]
pub struct CallOptions {
    /// Who is acting: a catalog user ref (`user:default/alice`; teams from the platform's org
    /// directory), or `{ user, groups }` with explicit groups (e.g. Backstage ownership refs).
    /// Default: the platform's `as` option, else `user:default/$USER` like the CLI.
    #[napi(js_name = "as", ts_type = "string | api.Principal")]
    pub principal: Option<Value>,
    /// Called with every progress event as it happens (on the JS thread).
    #[napi(ts_type = "(event: api.Progress) => void")]
    pub on_progress: Option<Value>,
    /// Aborting it cancels the call: the run stops at its next safe point, is recorded as
    /// cancelled (`resume` finishes it), and the promise rejects with code `Cancelled`.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Value>,
    /// The face this call comes through, recorded on the runs it starts for adoption insights
    /// (default `node`; the Backstage actions say `backstage`).
    pub face: Option<String>,
}

/// Options of `Platform.fromDir` and `Platform.builtin`.
#[napi(object)]
pub struct PlatformOptions {
    /// The default principal of every call (see `CallOptions.as`).
    #[napi(js_name = "as", ts_type = "string | api.Principal")]
    pub principal: Option<Value>,
    /// Forge tokens by host (`github.com`, `ghe.example:8443`), used when idp.yaml's
    /// `providers.source_control.token` is not set (the Backstage module passes its
    /// `integrations` credentials this way).
    pub host_tokens: Option<std::collections::HashMap<String, String>>,
}

/// A call's result as a JS value. The core's JSON is serialized on a worker thread and parsed
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

type Progress = ThreadsafeFunction<Value, (), Value, Status, false>;

/// `signal.addEventListener(type, listener)`.
type AddEventListener<'env> = Function<'env, FnArgs<(&'env str, Function<'env, (), ()>)>, ()>;

/// A platform definition (config, org, golden paths, policies) bound to a workspace (repos,
/// state, audit). Arguments and results are the core's JSON, the same in every face
/// (snake_case keys); only method names are camelCase.
#[napi]
pub struct Platform {
    inner: idp_core::Platform,
    principal: Option<Value>,
}

fn open(
    env: &Env,
    mut builder: idp_core::platform::PlatformBuilder,
    options: Option<PlatformOptions>,
) -> Result<Platform> {
    let (principal, tokens) = match options {
        Some(o) => (o.principal, o.host_tokens.unwrap_or_default()),
        None => (None, Default::default()),
    };
    for (host, token) in tokens {
        builder = builder.host_token(host, idp_core::config::Secret::new(token));
    }
    // Runs started from Node are counted as such in adoption insights (Backstage actions say
    // `face: 'backstage'` per call).
    block_on(builder.build())
        .and_then(|inner| inner.with_face("node"))
        .map(|inner| Platform { inner, principal })
        .map_err(|e| e.to_js_error(env))
}

/// Declares the typed methods: each is `call` with its method name, typed from `api.d.ts`.
macro_rules! methods {
    ($( $(#[doc = $doc:tt])* $name:ident $ts_args:literal $ts_ret:literal; )*) => {
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
                open(&env, idp_core::Platform::builder().workspace(ws), options)
            }

            /// The platform defined in folder `dir` (`idp.yaml`, `golden-paths/`, ...), with
            /// repos, state and audit under `workspace` (default `.idp`).
            #[napi(factory)]
            pub fn from_dir(
                env: Env,
                dir: String,
                workspace: Option<String>,
                options: Option<PlatformOptions>,
            ) -> Result<Platform> {
                let ws = workspace.unwrap_or_else(|| ".idp".into());
                open(
                    &env,
                    idp_core::Platform::builder().platform_dir(dir).workspace(ws),
                    options,
                )
            }

            /// Where repos, state and audit live.
            #[napi(getter)]
            pub fn workspace(&self) -> String {
                self.inner.workspace().to_string_lossy().into_owned()
            }

            /// Calls core method `method` (one of `methods()`, snake_case) with `args`.
            #[napi(
                ts_generic_types = "M extends api.IdpMethod",
                ts_args_type = "method: M, args?: api.IdpMethods[M]['args'], options?: CallOptions",
                ts_return_type = "Promise<api.IdpMethods[M]['result']>"
            )]
            pub fn call<'env>(
                &self,
                env: &'env Env,
                method: String,
                args: Option<Value>,
                options: Option<Object<'env>>,
            ) -> Result<PromiseRaw<'env, Json>> {
                self.start(env, &method, args, options)
            }

            $(
                $(#[doc = $doc])*
                #[napi(
                    ts_args_type = $ts_args,
                    ts_return_type = $ts_ret
                )]
                pub fn $name<'env>(
                    &self,
                    env: &'env Env,
                    args: Option<Value>,
                    options: Option<Object<'env>>,
                ) -> Result<PromiseRaw<'env, Json>> {
                    self.start(env, stringify!($name), args, options)
                }
            )*
        }
    };
}

methods! {
    #[doc = "The service repo: app, tests, container, security baselines, catalog entry."]
    bootstrap_service
        "request: api.IdpMethods['bootstrap_service']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['bootstrap_service']['result']>";
    #[doc = "The CI pipeline in the service repo."]
    wire_ci
        "request: api.IdpMethods['wire_ci']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['wire_ci']['result']>";
    #[doc = "Argo CD applications and Kubernetes manifests per environment."]
    provision_gitops
        "request: api.IdpMethods['provision_gitops']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['provision_gitops']['result']>";
    #[doc = "The Grafana dashboard and SLO burn-rate alerts."]
    attach_observability
        "request: api.IdpMethods['attach_observability']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['attach_observability']['result']>";
    #[doc = "The request's `intents` as org-approved modules in the infra repo."]
    request_infra_resource
        "request: api.IdpMethods['request_infra_resource']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['request_infra_resource']['result']>";
    #[doc = "Every step of the golden path, in order."]
    run_golden_path
        "request: api.IdpMethods['run_golden_path']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['run_golden_path']['result']>";
    #[doc = "Dry run: the exact change sets with diffs and policy decisions. Writes nothing."]
    plan
        "args: api.IdpMethods['plan']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['plan']['result']>";
    #[doc = "What idp created for `service`, and how to override each file safely."]
    explain
        "args: api.IdpMethods['explain']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['explain']['result']>";
    #[doc = "Resumes an interrupted, failed or cancelled run to the end state an uninterrupted run reaches."]
    resume
        "args: api.IdpMethods['resume']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['resume']['result']>";
    #[doc = "A forge's webhook delivery (headers and raw body), verified with the configured secret: a pull request merged or closed resumes the runs waiting on it."]
    forge_webhook
        "args: api.IdpMethods['forge_webhook']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['forge_webhook']['result']>";
    #[doc = "Runs, newest first."]
    runs
        "args?: api.IdpMethods['runs']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['runs']['result']>";
    #[doc = "The golden paths and versions, with their parameter schemas."]
    golden_paths
        "args?: api.IdpMethods['golden_paths']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['golden_paths']['result']>";
    #[doc = "Checks every golden path and version: it loads, its schema and defaults are sound, it renders with its defaults, and what it renders passes the guardrails. Writes nothing."]
    check_golden_paths
        "args?: api.IdpMethods['check_golden_paths']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['check_golden_paths']['result']>";
    #[doc = "Asks for an exception to a rule; it applies once someone else approves it."]
    request_waiver
        "args: api.IdpMethods['request_waiver']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['request_waiver']['result']>";
    #[doc = "Approves waiver `id` (as someone other than its requester, allowed by policy)."]
    approve_waiver
        "args: api.IdpMethods['approve_waiver']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['approve_waiver']['result']>";
    #[doc = "Waivers and their state."]
    list_waivers
        "args?: api.IdpMethods['list_waivers']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['list_waivers']['result']>";
    #[doc = "Checks the audit hash chain and signed checkpoints."]
    audit_verify
        "args?: api.IdpMethods['audit_verify']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['audit_verify']['result']>";
    #[doc = "Audit records, oldest first."]
    audit_list
        "args?: api.IdpMethods['audit_list']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['audit_list']['result']>";
    #[doc = "Signs a checkpoint of the audit head; `null` when the log is empty."]
    audit_checkpoint
        "args?: api.IdpMethods['audit_checkpoint']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['audit_checkpoint']['result']>";
    #[doc = "Asks the policy point about a request; no side effects."]
    authorize
        "args: api.IdpMethods['authorize']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['authorize']['result']>";
    #[doc = "Runs the policy unit tests in `dir` against this platform's policies."]
    test_policies
        "args: api.IdpMethods['test_policies']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['test_policies']['result']>";
    #[doc = "Every infrastructure module of the platform's catalog."]
    modules
        "args?: api.IdpMethods['modules']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['modules']['result']>";
    #[doc = "What would change, per service, if every stored infrastructure request were resolved"]
    #[doc = "again against the current module catalog. Writes nothing."]
    infra_impact
        "args?: api.IdpMethods['infra_impact']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['infra_impact']['result']>";
    #[doc = "Upgrades a service to a newer golden-path version with a three-way merge."]
    upgrade
        "args: api.IdpMethods['upgrade']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['upgrade']['result']>";
    #[doc = "What `upgrade` would change, conflicts included. Writes nothing."]
    upgrade_plan
        "args: api.IdpMethods['upgrade_plan']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['upgrade_plan']['result']>";
    #[doc = "Upgrades every service (`owner`: one team's) on an older version; `plan` writes nothing."]
    upgrade_fleet
        "args?: api.IdpMethods['upgrade_fleet']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['upgrade_fleet']['result']>";
    #[doc = "Every service with its golden path, scaffold version, how far behind it is, and drift."]
    fleet
        "args?: api.IdpMethods['fleet']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['fleet']['result']>";
    #[doc = "Records the delivery events of a webhook payload (Argo CD, Alertmanager v4, GitHub)."]
    ingest_events
        "args: api.IdpMethods['ingest_events']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['ingest_events']['result']>";
    #[doc = "DORA four keys, adoption, version drift and escape latches over a period."]
    insights
        "args?: api.IdpMethods['insights']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['insights']['result']>";
    #[doc = "The insights report as one self-contained HTML page with charts."]
    insights_html
        "args?: api.IdpMethods['insights_html']['args'], options?: CallOptions"
        "Promise<api.IdpMethods['insights_html']['result']>";
}

impl Platform {
    /// Starts `method` on tokio and returns its promise. On the JS thread: the options are read,
    /// the progress callback becomes a thread-safe function, and the signal gets a listener
    /// that cancels the run.
    fn start<'env>(
        &self,
        env: &'env Env,
        method: &str,
        args: Option<Value>,
        options: Option<Object<'env>>,
    ) -> Result<PromiseRaw<'env, Json>> {
        let mut platform = self.inner.clone();
        let mut principal = self.principal.clone();
        let mut face = None;
        if let Some(o) = &options {
            if let Some(p) = o.get::<Value>("as")?.filter(|v| !v.is_null()) {
                principal = Some(p);
            }
            if let Some(f) = o.get::<Function<'_, Value, ()>>("onProgress")? {
                let tsfn: Progress = f
                    .build_threadsafe_function::<Value>()
                    .callee_handled::<false>()
                    .build_callback(|ctx| Ok(ctx.value))?;
                platform = platform.with_progress(std::sync::Arc::new(move |ev| {
                    if let Ok(v) = serde_json::to_value(ev) {
                        tsfn.call(v, ThreadsafeFunctionCallMode::NonBlocking);
                    }
                }));
            }
            face = o.get::<String>("face")?;
            if let Some(signal) = o.get::<Object<'_>>("signal")? {
                let token = idp_core::CancelToken::new();
                if signal.get::<bool>("aborted")?.unwrap_or(false) {
                    token.cancel();
                } else {
                    let t = token.clone();
                    let on_abort = env.create_function_from_closure::<(), (), _>(
                        "idpCancelOnAbort",
                        move |_| {
                            t.cancel();
                            Ok(())
                        },
                    )?;
                    let add: AddEventListener<'_> =
                        signal.get_named_property("addEventListener")?;
                    add.apply(signal, FnArgs::from(("abort", on_abort)))?;
                }
                platform = platform.with_cancel(token);
            }
        }
        let principal = principal.unwrap_or_else(default_principal);
        let method = method.to_string();
        let args = args.unwrap_or(Value::Null);
        env.spawn_future_with_callback(
            async move {
                let out: idp_core::Result<String> = async {
                    // A bad face is a rejected promise, like every other bad argument.
                    let platform = match &face {
                        Some(f) => platform.with_face(f)?,
                        None => platform,
                    };
                    let who = api::principal(&platform, &principal)?;
                    let value = Call::parse(&method, args)?.run(&platform, &who).await?;
                    Ok(serde_json::to_string(&value)?)
                }
                .await;
                Ok(out)
            },
            |env, out| {
                let text = out.map_err(|e| e.to_js_error(env))?;
                let json: Object = env.get_global()?.get_named_property("JSON")?;
                let parse: Function<String, Unknown> = json.get_named_property("parse")?;
                Ok(Json(parse.call(text)?.raw()))
            },
        )
    }
}

/// The same default as the CLI's `--as`: the operating-system user.
fn default_principal() -> Value {
    Value::String(format!(
        "user:default/{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    ))
}
