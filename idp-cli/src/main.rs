//! `idp`: the command-line face of idp-core. Every command builds a principal and a request,
//! calls one `Platform` method, and prints the receipt (`--json`: as JSON on stdout). Progress
//! goes to stderr. The exit code is the error kind (see `idp --help`).

#[macro_use]
mod output;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use idp_core::blocking::Platform;
use idp_core::{CancelToken, Error, Operation, ServiceRequest};

const EXIT_CODES: &str = "Exit codes: 0 ok, 1 internal error, 2 invalid input, 3 denied, 4 conflict, \
5 not found, 6 policy violation, 7 provider error.";

/// idp: golden paths as code. Creates service repos, CI, GitOps manifests and dashboards through
/// one policy point, and explains everything it made.
#[derive(Parser)]
#[command(name = "idp", version, after_help = EXIT_CODES)]
struct Cli {
    /// Platform folder (idp.yaml, golden-paths/, org/, ...); default: the built-in platform.
    #[arg(long, global = true, env = "IDP_PLATFORM")]
    platform: Option<PathBuf>,
    /// Where repos, state and audit live.
    #[arg(long, global = true, env = "IDP_WORKSPACE", default_value = ".idp")]
    workspace: PathBuf,
    /// Who is acting, as a catalog entity ref (user:default/alice).
    #[arg(long = "as", global = true, env = "IDP_AS")]
    as_user: Option<String>,
    /// Print the result (receipt, plan, ...) as JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// No progress on stderr.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the built-in platform folder to DIR for your team to edit.
    Init { dir: PathBuf },
    /// Pin the workspace to this platform folder (--platform): writes with any other folder are
    /// refused. Platform admins only; a pinned workspace is re-pinned with its pinned folder.
    Pin {
        /// `digest`: exactly these files (any edit needs a re-pin); `path`: whatever the folder
        /// at this path holds.
        #[arg(long, value_enum, default_value = "digest")]
        by: PinByArg,
        /// Remove the pin instead.
        #[arg(long, conflicts_with = "show")]
        clear: bool,
        /// Show the pin and whether this platform matches it; changes nothing.
        #[arg(long)]
        show: bool,
    },
    /// Golden paths: run every step for a service.
    #[command(name = "golden-path", subcommand)]
    GoldenPath(GoldenPathCmd),
    /// Create the service repo: app, tests, container, security baselines, catalog entry.
    BootstrapService(RequestArgs),
    /// Add the CI pipeline to the service repo.
    WireCi(RequestArgs),
    /// Write Argo CD applications and Kubernetes manifests for every environment.
    ProvisionGitops(RequestArgs),
    /// Add the Grafana dashboard and SLO burn-rate alerts.
    AttachObservability(RequestArgs),
    /// Ask for infrastructure by intent (`--intent bucket:logs --param retention_days=90`): an
    /// org-approved module per environment in the infra repo, wired back to the service.
    RequestInfraResource {
        #[command(flatten)]
        request: RequestArgs,
        /// Only these environments (repeatable; default: every environment).
        #[arg(long = "env")]
        envs: Vec<String>,
    },
    /// Move a service (or with --all, the fleet) to a newer golden-path version, keeping the
    /// team's edits (three-way merge); --plan shows every file's action and diff first.
    Upgrade {
        /// The service (omit with --all).
        service: Option<String>,
        /// Every service on an older version (of --owner, when given), in parallel.
        #[arg(long, conflicts_with = "service")]
        all: bool,
        /// Target version (default: the latest).
        #[arg(long)]
        to: Option<String>,
        /// With --all: only this team's services.
        #[arg(long, requires = "all")]
        owner: Option<String>,
        /// Show what would happen, with diffs; write nothing.
        #[arg(long)]
        plan: bool,
        /// Keep local edits of platform-managed files instead of replacing them.
        #[arg(long)]
        keep: bool,
    },
    /// Every service with its golden path, scaffold version, how far behind, and its drift.
    Fleet,
    /// The module catalog.
    #[command(subcommand)]
    Modules(ModulesCmd),
    /// Infrastructure across services.
    #[command(subcommand)]
    Infra(InfraCmd),
    /// Dry run: show the exact change sets (with --diff, the diffs) of OPERATION; writes nothing.
    Plan {
        /// golden-path, bootstrap-service, wire-ci, provision-gitops, attach-observability
        operation: String,
        #[command(flatten)]
        request: RequestArgs,
        /// Show unified diffs.
        #[arg(long)]
        diff: bool,
        /// With request-infra-resource: only these environments (repeatable).
        #[arg(long = "env")]
        envs: Vec<String>,
    },
    /// What idp created for SERVICE, and how to override each file safely.
    Explain { service: String },
    /// Resume an interrupted run to the state an uninterrupted run reaches.
    Resume { run: String },
    /// Feed a forge's webhook delivery (a pull request merged or closed): verified with
    /// providers.source_control.webhook_secret, it resumes the runs waiting on that pull request.
    Webhook {
        /// A header of the delivery, as `Name: value` (repeat for each).
        #[arg(long = "header", value_name = "NAME: VALUE")]
        headers: Vec<String>,
        /// The delivery's body, byte for byte (`-`: standard input).
        #[arg(long)]
        body: PathBuf,
    },
    /// List runs, newest first.
    Runs {
        #[arg(long)]
        service: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Waivers: explicit, approved, expiring exceptions to a rule.
    #[command(subcommand)]
    Waiver(WaiverCmd),
    /// Policies: run policy unit tests.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Delivery events: deployments, commits and SLO alerts, for insights.
    #[command(subcommand)]
    Events(EventsCmd),
    /// DORA four keys (with their bands), adoption, version drift and escape latches.
    Insights {
        /// Only this service.
        #[arg(long)]
        service: Option<String>,
        /// Only this team's services.
        #[arg(long)]
        team: Option<String>,
        /// Start of the period (RFC 3339 or YYYY-MM-DD; default: 90 days before --until).
        #[arg(long)]
        since: Option<String>,
        /// End of the period, exclusive (default: now).
        #[arg(long)]
        until: Option<String>,
        /// Also write the report as one self-contained HTML page with charts to FILE.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum EventsCmd {
    /// Record the events of a webhook payload saved to FILE (`-` for stdin): an Argo CD
    /// Application, an Alertmanager (version 4) webhook, or a GitHub push or deployment_status.
    Ingest {
        /// Where the payload comes from (idp-core parses and checks it).
        #[arg(long, value_parser = ["argocd", "alertmanager", "github"])]
        source: String,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum ModulesCmd {
    /// List every org-approved module: type, flavour, version, matching rule.
    List,
}

#[derive(Subcommand)]
enum InfraCmd {
    /// Re-resolve every stored request against the current catalog (e.g. `--platform NEWDIR`)
    /// and show, per service, what would change. Writes nothing.
    Impact,
}

/// How `idp pin` pins.
#[derive(Clone, Copy, clap::ValueEnum)]
enum PinByArg {
    Digest,
    Path,
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Check the whole hash chain and every signed checkpoint; exit 1 naming the first bad
    /// record if anything was edited, deleted, inserted or reordered.
    /// Reads only: works on a read-only copy of a workspace.
    Verify {
        /// Verify checkpoints against this ed25519 public key (hex) instead of the workspace's.
        #[arg(long)]
        key: Option<String>,
        /// Also verify against the checkpoints exported to FILE (`idp audit export`): records
        /// deleted or rewritten up to any of them are detected.
        #[arg(long, value_name = "FILE")]
        checkpoints: Option<PathBuf>,
    },
    /// Append the newest signed checkpoint to FILE (JSON lines), kept outside the workspace, for
    /// `audit verify --checkpoints FILE` later.
    Export {
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// List audit records, oldest first.
    List {
        #[arg(long)]
        service: Option<String>,
        /// Only records at or after this RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Sign a checkpoint of the current head with the workspace key (platform admins). Every
    /// append signs the new head already; this is for logs written before that.
    Checkpoint,
}

#[derive(Subcommand)]
enum WaiverCmd {
    /// Ask for an exception to RULE for a service (and environment) until --expires.
    Request {
        /// The rule: protected-environment, a guardrail rule (image-tag-pinned, deny_privileged,
        /// ...), or module-override:PARAM for a module parameter that needs approval.
        #[arg(long)]
        rule: String,
        #[arg(long)]
        service: String,
        /// The owning team, for a service idp has not created yet.
        #[arg(long)]
        owner: Option<String>,
        #[arg(long = "env")]
        environment: Option<String>,
        #[arg(long)]
        justification: String,
        /// An RFC 3339 time, or a duration: 12h, 7d (at most 90 days).
        #[arg(long, default_value = "7d")]
        expires: String,
        /// An operation the waiver approves (repeatable): provision_gitops, upgrade,
        /// request_infra_resource, ...; required for protected-environment. Default: any.
        #[arg(long = "operation", value_name = "OPERATION")]
        operations: Vec<String>,
    },
    /// Approve a waiver (someone other than its requester, allowed by policy).
    Approve { id: String },
    /// List waivers and their state (pending, approved, expired).
    List {
        #[arg(long)]
        service: Option<String>,
    },
}

#[derive(Subcommand)]
enum PolicyCmd {
    /// Run the policy unit tests (*.yaml: request -> expected decision) in DIR; exit 1 on failure.
    Test { dir: PathBuf },
}

#[derive(Subcommand)]
enum GoldenPathCmd {
    /// Run every step of the golden path (bootstrap, CI, GitOps, observability).
    Run(Box<RequestArgs>),
    /// List the golden paths and their versions.
    List,
    /// Check every golden path and version: it loads, its schema and defaults are sound, it
    /// renders with its defaults and passes the guardrails. Exit 1 when any problem is an error.
    Check,
    /// Release (freeze) golden path ID at VERSION: write its release.lock, the digest of
    /// everything it renders from, into the platform folder (--platform). A later change to any
    /// of those files, shared templates included, sets the version aside until a new version is
    /// cut.
    Release { id: String, version: String },
}

#[derive(Args, Clone, Default)]
struct RequestArgs {
    /// Service name.
    #[arg(long)]
    service: Option<String>,
    /// Owning team (team-payments).
    #[arg(long)]
    owner: Option<String>,
    /// Golden path id (default: the platform's default).
    #[arg(long = "golden-path")]
    golden_path: Option<String>,
    /// Golden path version (default: the service's current, or the latest).
    #[arg(long)]
    version: Option<String>,
    /// A parameter, KEY=VALUE (repeatable); typed by the golden path's schema.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// A parameter for one environment, ENV:KEY=VALUE (repeatable), over --param in that
    /// environment's files; kept for later runs like parameters (ENV:KEY=null removes it).
    #[arg(long = "env-param", value_name = "ENV:KEY=VALUE")]
    env_params: Vec<String>,
    /// The whole request as a JSON or YAML file (`-` for stdin); flags override its fields.
    #[arg(long)]
    request: Option<PathBuf>,
    /// A change window of idp.yaml that pre-approves changes to protected environments.
    #[arg(long = "change-window")]
    change_window: Option<String>,
    /// Infrastructure intent TYPE[:CLASS[:ID]] (repeatable), e.g. bucket:logs.
    #[arg(long = "intent", value_name = "TYPE[:CLASS[:ID]]")]
    intents: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let cancel = CancelToken::new();
    cancel_on_ctrl_c(cancel.clone(), cli.quiet);
    match run(cli, cancel) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            output::error(&e, json);
            ExitCode::from(e.kind().exit_code() as u8)
        }
    }
}

/// The first Ctrl-C asks the run to stop at its next safe point (it is then recorded as
/// cancelled, and `idp resume` finishes it); a second one ends the process at once.
fn cancel_on_ctrl_c(token: CancelToken, quiet: bool) {
    let listener = std::thread::Builder::new()
        .name("idp-ctrl-c".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if tokio::signal::ctrl_c().await.is_err() {
                    return;
                }
                token.cancel();
                if !quiet {
                    eprintln!(
                        "idp: cancelling at the next safe point (Ctrl-C again to stop at once)"
                    );
                }
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(idp_core::ErrorKind::Cancelled.exit_code());
                }
            });
        });
    if let Err(e) = listener {
        eprintln!("idp: Ctrl-C will stop the process at once: {e}");
    }
}

fn open(cli: &Cli, cancel: CancelToken) -> idp_core::Result<Platform> {
    let p = match &cli.platform {
        Some(dir) => Platform::from_dir(dir, &cli.workspace)?,
        None => Platform::builtin(&cli.workspace)?,
    }
    .with_cancel(cancel)
    .with_face("cli")?;
    if cli.quiet {
        return Ok(p);
    }
    Ok(p.with_progress(Arc::new(|ev: &idp_core::Progress| {
        let run = if ev.run_id.is_empty() {
            String::new()
        } else {
            format!("[{}] ", ev.run_id)
        };
        eprintln!("idp: {run}{}", ev.message);
    })))
}

fn principal(cli: &Cli, p: &Platform) -> idp_core::Result<idp_core::Principal> {
    let user = cli.as_user.clone().unwrap_or_else(|| {
        format!(
            "user:default/{}",
            std::env::var("USER").unwrap_or_else(|_| "unknown".into())
        )
    });
    idp_core::org::check_user_ref(&user)?;
    Ok(p.principal(&user))
}

/// A webhook payload from a file (or stdin), at most
/// [`idp_core::platform::insights::MAX_PAYLOAD_BYTES`].
fn read_payload(file: &std::path::Path) -> idp_core::Result<serde_json::Value> {
    use std::io::Read;
    let max = idp_core::platform::insights::MAX_PAYLOAD_BYTES as u64;
    let shown = file.display().to_string();
    let reader: Box<dyn Read> = if shown == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(file).map_err(|e| {
            idp_core::Error::invalid(format!("cannot read {shown}: {e}")).with("field", "file")
        })?)
    };
    let mut text = Vec::new();
    reader
        .take(max + 1)
        .read_to_end(&mut text)
        .map_err(|e| idp_core::Error::invalid(format!("cannot read {shown}: {e}")))?;
    if text.len() as u64 > max {
        return Err(
            idp_core::Error::invalid(format!("{shown} is larger than {max} bytes"))
                .with("field", "file"),
        );
    }
    serde_json::from_slice(&text).map_err(|e| {
        idp_core::Error::invalid(format!("{shown} is not JSON: {e}")).with("field", "file")
    })
}

fn build_request(p: &Platform, a: &RequestArgs) -> idp_core::Result<ServiceRequest> {
    let mut req = match &a.request {
        Some(path) if path.as_os_str() == "-" => {
            ServiceRequest::read("from stdin", std::io::stdin())?
        }
        Some(path) => {
            let file = std::fs::File::open(path).map_err(|e| {
                Error::invalid(format!("cannot read request file {}: {e}", path.display()))
            })?;
            ServiceRequest::read(&path.display().to_string(), file)?
        }
        None => ServiceRequest::default(),
    };
    if let Some(s) = &a.service {
        req.service = s.clone();
    }
    if let Some(o) = &a.owner {
        req.owner = o.clone();
    }
    if a.golden_path.is_some() {
        req.golden_path = a.golden_path.clone();
    }
    if a.version.is_some() {
        req.version = a.version.clone();
    }
    if a.change_window.is_some() {
        req.change_window = a.change_window.clone();
    }
    for i in &a.intents {
        let intent = idp_core::intent::Intent::parse_short(i)?;
        req.intents.push(serde_json::to_value(intent)?);
    }
    if req.service.is_empty() {
        return Err(Error::invalid("--service is required").with("field", "service"));
    }
    let mut pairs = Vec::new();
    for kv in &a.params {
        let (k, v) = kv.split_once('=').ok_or_else(|| {
            Error::invalid(format!("--param {kv:?} is not KEY=VALUE")).with("field", "param")
        })?;
        pairs.push((None, k.trim().to_string(), v.to_string()));
    }
    for ekv in &a.env_params {
        let (env, k, v) = split_env_param(ekv)?;
        pairs.push((Some(env.to_string()), k.to_string(), v.to_string()));
    }
    p.add_string_parameters(&mut req, &pairs)?;
    Ok(req)
}

/// `ENV:KEY=VALUE` of `--env-param`, trimmed.
fn split_env_param(ekv: &str) -> idp_core::Result<(&str, &str, &str)> {
    let bad = || {
        Error::invalid(format!("--env-param {ekv:?} is not ENV:KEY=VALUE"))
            .with("field", "env-param")
    };
    let (env, kv) = ekv.split_once(':').ok_or_else(bad)?;
    let (k, v) = kv.split_once('=').ok_or_else(bad)?;
    let (env, k) = (env.trim(), k.trim());
    if env.is_empty() || k.is_empty() {
        return Err(bad());
    }
    Ok((env, k, v))
}

/// A request-infra-resource request: here --param sets the intent's parameters (typed by the
/// module: numbers and booleans are parsed, everything else stays a string), and --env limits
/// the environments.
fn infra_request(
    p: &Platform,
    request: &RequestArgs,
    envs: &[String],
) -> idp_core::Result<ServiceRequest> {
    let mut args = request.clone();
    let params = std::mem::take(&mut args.params);
    let env_params = std::mem::take(&mut args.env_params);
    let mut req = build_request(p, &args)?;
    if req.intents.is_empty() {
        return Err(
            Error::invalid("give at least one --intent TYPE[:CLASS[:ID]]").with("field", "intent"),
        );
    }
    if (!params.is_empty() || !env_params.is_empty()) && req.intents.len() > 1 {
        return Err(Error::invalid(
            "--param and --env-param apply to one --intent; use --request FILE for several",
        )
        .with("field", "param"));
    }
    // Typed by the module: numbers, booleans and null are parsed, anything else is a string.
    let typed = |v: &str| match serde_json::from_str::<serde_json::Value>(v) {
        Ok(
            j @ (serde_json::Value::Number(_)
            | serde_json::Value::Bool(_)
            | serde_json::Value::Null),
        ) => j,
        _ => serde_json::Value::String(v.to_string()),
    };
    for kv in &params {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| Error::invalid(format!("--param {kv:?} is not KEY=VALUE")))?;
        req.intents[0]["params"][k.trim()] = typed(v);
    }
    for ekv in &env_params {
        let (env, k, v) = split_env_param(ekv)?;
        req.intents[0]["environment_params"][env][k] = typed(v);
    }
    if !envs.is_empty() {
        for i in &mut req.intents {
            i["environments"] = serde_json::json!(envs);
        }
    }
    Ok(req)
}

fn operation(cli: &Cli, p: &Platform, op: Operation, a: &RequestArgs) -> idp_core::Result<()> {
    let who = principal(cli, p)?;
    let req = build_request(p, a)?;
    let receipt = p.execute(&who, op, &req)?;
    output::receipt(&receipt, cli.json);
    exit_if_waiting(&receipt);
    Ok(())
}

/// The exit code of a run that waits for a change request's review: not an error (nothing
/// failed), but not done either, so scripts can tell.
const EXIT_WAITING: i32 = 10;

fn exit_if_waiting(r: &idp_core::receipt::Receipt) {
    if r.status == idp_core::receipt::RunStatus::Waiting {
        std::process::exit(EXIT_WAITING);
    }
}

fn run(cli: Cli, cancel: CancelToken) -> idp_core::Result<()> {
    if let Command::Init { dir } = &cli.command {
        let n = Platform::init_dir(dir)?;
        if cli.json {
            output::json(&serde_json::json!({"dir": dir, "files": n}));
        } else {
            say!(
                "wrote the built-in platform ({n} files) to {}; use it with --platform {}",
                dir.display(),
                dir.display()
            );
        }
        return Ok(());
    }
    if let Command::Audit(AuditCmd::Verify { key, checkpoints }) = &cli.command {
        // Read-only: no platform is built (that would record a policy load and create files).
        let files = match &cli.platform {
            Some(dir) => idp_core::platform::PlatformFiles::from_dir(dir)?,
            None => idp_core::platform::PlatformFiles::builtin(),
        };
        let cfg = idp_core::platform::PlatformDef::load(files)?.config;
        let anchors = match checkpoints {
            Some(f) => idp_core::audit::read_exported(f)?,
            None => Vec::new(),
        };
        let report = idp_core::audit::verify_workspace(
            cfg.providers.audit.as_ref(),
            &cfg.providers.state,
            &cli.workspace,
            &idp_core::audit::VerifyOptions {
                trusted_key: key.clone(),
                anchors,
            },
        )?;
        output::audit_verify(&report, cli.json);
        if !report.ok {
            std::process::exit(1);
        }
        return Ok(());
    }
    let p = open(&cli, cancel)?;
    match &cli.command {
        Command::Init { .. } => unreachable!("handled above"),
        Command::Pin { by, clear, show } => {
            if *show {
                let pin = p.pinned()?;
                let v = serde_json::json!({
                    "pin": pin,
                    "platform_digest": p.definition().digest,
                    "matches": p.pin_mismatch().is_none(),
                });
                if cli.json {
                    output::json(&v);
                } else {
                    match &pin {
                        None => println!("not pinned"),
                        Some(pin) => println!(
                            "pinned to {}; this platform {}",
                            serde_json::to_string(pin)?,
                            if p.pin_mismatch().is_none() {
                                "matches"
                            } else {
                                "does not match"
                            }
                        ),
                    }
                }
                return Ok(());
            }
            let who = principal(&cli, &p)?;
            if *clear {
                p.unpin(&who)?;
                if cli.json {
                    output::json(&serde_json::json!({"pin": null}));
                } else {
                    println!("the workspace is no longer pinned");
                }
                return Ok(());
            }
            let by = match by {
                PinByArg::Digest => idp_core::platform::pin::PinBy::Digest,
                PinByArg::Path => idp_core::platform::pin::PinBy::Path,
            };
            let pin = p.pin(&who, by)?;
            if cli.json {
                output::json(&serde_json::json!({"pin": pin}));
            } else {
                println!("pinned the workspace to {}", serde_json::to_string(&pin)?);
            }
            Ok(())
        }
        Command::GoldenPath(GoldenPathCmd::Run(a)) => {
            operation(&cli, &p, Operation::RunGoldenPath, a)
        }
        Command::GoldenPath(GoldenPathCmd::List) => {
            output::golden_paths(&p, cli.json);
            Ok(())
        }
        Command::GoldenPath(GoldenPathCmd::Release { id, version }) => {
            let Some(dir) = &cli.platform else {
                return Err(Error::invalid(
                    "golden-path release writes into a platform folder: give --platform DIR",
                )
                .with("field", "platform"));
            };
            let path = idp_core::platform::PlatformDef::release(dir, id, version)?;
            output::json_or(
                &serde_json::json!({"golden_path": id, "version": version, "release_lock": path}),
                cli.json,
                || {
                    format!(
                        "released {id}@{version}: {} records what it renders from",
                        path.display()
                    )
                },
            );
            Ok(())
        }
        Command::GoldenPath(GoldenPathCmd::Check) => {
            let r = p.check_golden_paths()?;
            output::golden_path_check(&r, cli.json);
            if !r.ok {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::BootstrapService(a) => operation(&cli, &p, Operation::BootstrapService, a),
        Command::WireCi(a) => operation(&cli, &p, Operation::WireCi, a),
        Command::ProvisionGitops(a) => operation(&cli, &p, Operation::ProvisionGitops, a),
        Command::AttachObservability(a) => operation(&cli, &p, Operation::AttachObservability, a),
        Command::RequestInfraResource { request, envs } => {
            let req = infra_request(&p, request, envs)?;
            let who = principal(&cli, &p)?;
            let receipt = p.execute(&who, Operation::RequestInfraResource, &req)?;
            output::receipt(&receipt, cli.json);
            Ok(())
        }
        Command::Upgrade {
            service,
            all,
            to,
            owner,
            plan,
            keep,
        } => {
            let who = principal(&cli, &p)?;
            if *all {
                let r = p.upgrade_fleet(
                    &who,
                    &idp_core::platform::FleetUpgradeRequest {
                        to: to.clone(),
                        owner: owner.clone(),
                        keep: *keep,
                    },
                    *plan,
                )?;
                output::fleet_upgrade(&r, cli.json);
                if r.failed > 0 {
                    std::process::exit(1);
                }
                if r.conflicts > 0 {
                    std::process::exit(idp_core::ErrorKind::Conflict.exit_code());
                }
                return Ok(());
            }
            let service = service.clone().ok_or_else(|| {
                Error::invalid("name a SERVICE, or use --all").with("field", "service")
            })?;
            let r = p.upgrade(
                &who,
                &idp_core::platform::UpgradeRequest {
                    service,
                    to: to.clone(),
                    keep: *keep,
                },
                *plan,
            )?;
            output::upgrade(&r, cli.json);
            // The change requests are open with conflict markers: not done until a person
            // resolves them, which scripts must be able to tell from the exit code.
            if r.status == idp_core::platform::UpgradeStatus::Conflicts {
                std::process::exit(idp_core::ErrorKind::Conflict.exit_code());
            }
            Ok(())
        }
        Command::Fleet => {
            output::fleet(&p.fleet(&principal(&cli, &p)?)?, cli.json);
            Ok(())
        }
        Command::Modules(ModulesCmd::List) => {
            output::modules(&p.modules(), cli.json);
            Ok(())
        }
        Command::Infra(InfraCmd::Impact) => {
            let who = principal(&cli, &p)?;
            output::impact(&p.infra_impact(&who)?, cli.json);
            Ok(())
        }
        Command::Plan {
            operation,
            request,
            diff,
            envs,
        } => {
            let op = Operation::parse(operation)?;
            let who = principal(&cli, &p)?;
            let req = if op == Operation::RequestInfraResource {
                infra_request(&p, request, envs)?
            } else {
                build_request(&p, request)?
            };
            let plan = p.plan(&who, op, &req)?;
            output::plan(&plan, cli.json, *diff);
            Ok(())
        }
        Command::Explain { service } => {
            let e = p.explain(&principal(&cli, &p)?, service)?;
            output::explanation(&e, cli.json);
            Ok(())
        }
        Command::Resume { run } => {
            let who = principal(&cli, &p)?;
            let receipt = p.resume(&who, run)?;
            output::receipt(&receipt, cli.json);
            exit_if_waiting(&receipt);
            Ok(())
        }
        Command::Webhook { headers, body } => {
            let mut map = std::collections::BTreeMap::new();
            for h in headers {
                let (k, v) = h.split_once(':').ok_or_else(|| {
                    Error::invalid(format!("--header {h:?} is not `Name: value`"))
                })?;
                map.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
            let bytes = if body.as_os_str() == "-" {
                let mut b = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)?;
                b
            } else {
                std::fs::read(body).map_err(|e| {
                    Error::invalid(format!("cannot read --body {}: {e}", body.display()))
                })?
            };
            let body = String::from_utf8(bytes)
                .map_err(|_| Error::invalid("the webhook body is not UTF-8 JSON"))?;
            let report = p.forge_webhook(
                &principal(&cli, &p)?,
                &idp_core::platform::webhooks::WebhookDelivery { headers: map, body },
            )?;
            output::webhook(&report, cli.json);
            Ok(())
        }
        Command::Runs { service, limit } => {
            let runs = p.runs(&principal(&cli, &p)?, service.as_deref(), *limit)?;
            output::runs(&runs, cli.json);
            Ok(())
        }
        Command::Events(EventsCmd::Ingest { source, file }) => {
            let who = principal(&cli, &p)?;
            let payload = read_payload(file)?;
            let r = p.ingest_events(
                &who,
                &idp_core::platform::insights::IngestRequest {
                    source: source.clone(),
                    payload,
                },
            )?;
            output::ingest(&r, cli.json);
            Ok(())
        }
        Command::Insights {
            service,
            team,
            since,
            until,
            html,
        } => {
            let who = principal(&cli, &p)?;
            let q = idp_core::platform::insights::InsightsQuery {
                service: service.clone(),
                team: team.clone(),
                since: since.clone(),
                until: until.clone(),
            };
            let report = p.insights(&who, &q)?;
            if let Some(path) = html {
                std::fs::write(path, idp_core::insights::html::render(&report)).map_err(|e| {
                    idp_core::Error::invalid(format!("cannot write {}: {e}", path.display()))
                        .with("field", "html")
                })?;
            }
            output::insights(&report, cli.json);
            Ok(())
        }
        Command::Audit(cmd) => audit(&cli, &p, cmd),
        Command::Waiver(cmd) => waiver(&cli, &p, cmd),
        Command::Policy(PolicyCmd::Test { dir }) => {
            let report = p.test_policies(dir)?;
            output::policy_tests(&report, cli.json);
            if report.failed > 0 {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

fn audit(cli: &Cli, p: &Platform, cmd: &AuditCmd) -> idp_core::Result<()> {
    use idp_core::audit::AuditFilter;
    match cmd {
        AuditCmd::Verify { .. } => unreachable!("verified read-only before the platform opens"),
        AuditCmd::Export { to } => {
            let cp = p.audit_export(to)?;
            output::json_or(&serde_json::to_value(&cp)?, cli.json, || {
                format!(
                    "exported the checkpoint of record {} to {}",
                    cp.seq,
                    to.display()
                )
            });
        }
        AuditCmd::List {
            service,
            since,
            limit,
        } => {
            let records = p.audit_list(
                &principal(cli, p)?,
                &AuditFilter {
                    service: service.clone(),
                    since: since.clone(),
                    limit: *limit,
                },
            )?;
            output::audit_list(&records, cli.json);
        }
        AuditCmd::Checkpoint => {
            let cp = p.audit_checkpoint(&principal(cli, p)?)?;
            output::json_or(&serde_json::to_value(&cp)?, cli.json, || match &cp {
                Some(c) => format!("signed checkpoint at record {} ({})", c.seq, c.hash),
                None => "the audit log is empty; nothing to sign".into(),
            });
        }
    }
    Ok(())
}

fn waiver(cli: &Cli, p: &Platform, cmd: &WaiverCmd) -> idp_core::Result<()> {
    let who = principal(cli, p)?;
    match cmd {
        WaiverCmd::Request {
            rule,
            service,
            owner,
            environment,
            justification,
            expires,
            operations,
        } => {
            let w = p.request_waiver(
                &who,
                &idp_core::policy::WaiverRequest {
                    rule: rule.clone(),
                    service: service.clone(),
                    environment: environment.clone(),
                    justification: justification.clone(),
                    expires: expires.clone(),
                    owner: owner.clone(),
                    operations: operations.iter().map(|o| o.replace('-', "_")).collect(),
                },
            )?;
            output::json_or(&serde_json::to_value(&w)?, cli.json, || {
                format!(
                    "requested waiver {} (rule {}, {}); it applies once someone else approves it",
                    w.id, w.rule, w.service
                )
            });
        }
        WaiverCmd::Approve { id } => {
            let w = p.approve_waiver(&who, id)?;
            output::json_or(&serde_json::to_value(&w)?, cli.json, || {
                format!("approved waiver {} until {}", w.id, w.expires_at)
            });
        }
        WaiverCmd::List { service } => {
            let list = p.list_waivers(&who, service.as_deref())?;
            output::waivers(&list, cli.json);
        }
    }
    Ok(())
}
