//! `idp-testforge --listen 127.0.0.1:0 --root DIR --token TOKEN`: prints its base URL as the
//! first line on stdout, then serves until SIGINT or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

#[derive(Parser)]
#[command(
    version,
    about = "A test forge: GitHub-, Gitea- and GitLab-shaped REST over real git smart HTTP"
)]
struct Args {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Where the bare repositories live.
    #[arg(long)]
    root: PathBuf,
    /// The main user's token (the user is `idp-bot`).
    #[arg(long, env = "IDP_TESTFORGE_TOKEN")]
    token: String,
    /// More users, as LOGIN:TOKEN (reviewers, for branch protection).
    #[arg(long = "user", value_name = "LOGIN:TOKEN")]
    users: Vec<String>,
    /// API requests per token per window before a 403 with x-ratelimit-remaining: 0.
    #[arg(long)]
    rate_limit: Option<u64>,
    /// The rate-limit window, in seconds.
    #[arg(long, default_value_t = 3600)]
    rate_window_secs: u64,
    /// Latency added to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Signs webhook deliveries (X-Hub-Signature-256); they are kept at BASE/_forge/deliveries.
    #[arg(long, env = "IDP_TESTFORGE_WEBHOOK_SECRET")]
    webhook_secret: Option<String>,
    /// A GitHub App, as APP_ID:INSTALLATION_ID:SLUG:PRIVATE_KEY_PEM_FILE (the forge keeps the
    /// public half of the key; the installation's tokens act as SLUG[bot]).
    #[arg(long = "app", value_name = "ID:INSTALLATION:SLUG:PEM")]
    apps: Vec<String>,
    /// How long an installation token lasts, in seconds.
    #[arg(long, default_value_t = 3600)]
    app_token_ttl_secs: u64,
}

fn main() {
    let a = Args::parse();
    let mut cfg = idp_testforge::Config::new(&a.root, &a.token);
    for u in &a.users {
        let Some((login, token)) = u.split_once(':') else {
            eprintln!(
                "idp-testforge: --user takes LOGIN:TOKEN, got `{}`",
                u.split(':').next().unwrap_or("")
            );
            std::process::exit(2);
        };
        cfg.users.push((login.into(), token.into()));
    }
    cfg.rate_limit = a.rate_limit;
    cfg.rate_window_secs = a.rate_window_secs;
    cfg.latency_ms = a.latency_ms;
    cfg.webhook_secret = a.webhook_secret;
    cfg.app_token_ttl_secs = a.app_token_ttl_secs;
    for spec in &a.apps {
        let app = (|| {
            let mut it = spec.splitn(4, ':');
            let (id, inst, slug, pem) = (it.next()?, it.next()?, it.next()?, it.next()?);
            let pem = std::fs::read_to_string(pem).ok()?;
            idp_testforge::App::from_private_key_pem(
                id.parse().ok()?,
                inst.parse().ok()?,
                slug,
                &pem,
            )
            .ok()
        })();
        match app {
            Some(app) => cfg.apps.push(app),
            None => {
                eprintln!(
                    "idp-testforge: --app takes ID:INSTALLATION:SLUG:PEM_FILE with a readable RSA key"
                );
                std::process::exit(2);
            }
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let r = rt.block_on(idp_testforge::serve(
        a.listen,
        cfg,
        |addr| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "http://{addr}");
            let _ = out.flush();
        },
        async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("a SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        },
    ));
    if let Err(e) = r {
        eprintln!("idp-testforge: {e}");
        std::process::exit(1);
    }
}
