//! The `idp` binary against a forge (`kind: github`, `gitea`, `gitlab`) on the test forge: real
//! HTTP, real git smart HTTP underneath. What idp did is checked with other clients: the git CLI
//! (clone over HTTP) and plain HTTP requests to the forge's API. The test forge keeps one store
//! behind its three API shapes, so what idp did through any of them is read back through the
//! GitHub shape; what a person does (merge, close) goes through the kind's own API.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TOKEN: &str = "cli-forge-token";
const REVIEWER: &str = "cli-forge-reviewer";
const WEBHOOK_SECRET: &str = "cli-forge-webhook-secret";

struct Setup {
    kind: &'static str,
    _dir: tempfile::TempDir,
    forge: idp_testforge::Running,
    platform: PathBuf,
    ws: PathBuf,
    root: PathBuf,
}

/// A test forge and a platform folder whose source control is that forge (`kind: github`).
fn setup(auto_merge: bool) -> Setup {
    setup_kind("github", auto_merge)
}

/// A test forge and a platform folder whose source control is that forge, as `kind`.
fn setup_kind(kind: &'static str, auto_merge: bool) -> Setup {
    setup_with(kind, auto_merge, 0, "")
}

/// A setup whose forge adds `latency_ms` to every request, with `extra` lines appended to
/// `providers.source_control`.
fn setup_with(kind: &'static str, auto_merge: bool, latency_ms: u64, extra: &str) -> Setup {
    setup_forge(kind, auto_merge, extra, |cfg| cfg.latency_ms = latency_ms)
}

/// A setup whose forge's configuration `tweak` adjusts.
fn setup_forge(
    kind: &'static str,
    auto_merge: bool,
    extra: &str,
    tweak: impl FnOnce(&mut idp_testforge::Config),
) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = idp_testforge::Config::new(dir.path().join("forge"), TOKEN);
    cfg.users.push(("reviewer".into(), REVIEWER.into()));
    cfg.webhook_secret = Some(WEBHOOK_SECRET.into());
    tweak(&mut cfg);
    let forge = idp_testforge::spawn(cfg).unwrap();
    let platform = dir.path().join("platform");
    let out = Command::new(env!("CARGO_BIN_EXE_idp"))
        .arg("init")
        .arg(&platform)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let yaml = std::fs::read_to_string(platform.join("idp.yaml")).unwrap();
    let yaml = yaml
        .replace(
            "    kind: local-git\n",
            &format!(
                "    kind: {kind}\n    api_url: {}/api/{}\n    owner: acme\n    token: {{ env: IDP_GITHUB_TOKEN }}\n    webhook_secret: {{ env: IDP_GITHUB_WEBHOOK_SECRET }}\n{extra}",
                forge.base_url,
                match kind {
                    "github" => "v3",
                    "gitea" => "v1",
                    _ => "v4",
                }
            ),
        )
        .replace(
            "    auto_merge: true\n",
            &format!("    auto_merge: {auto_merge}\n"),
        );
    assert!(yaml.contains(&format!("kind: {kind}")));
    std::fs::write(platform.join("idp.yaml"), yaml).unwrap();
    Setup {
        kind,
        ws: dir.path().join("ws"),
        root: dir.path().to_path_buf(),
        _dir: dir,
        forge,
        platform,
    }
}

impl Setup {
    fn idp(&self) -> Command {
        self.idp_as("user:default/alice")
    }

    fn idp_as(&self, user: &str) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_idp"));
        c.arg("--workspace")
            .arg(&self.ws)
            .arg("--platform")
            .arg(&self.platform)
            .arg("--as")
            .arg(user)
            .env("IDP_GITHUB_TOKEN", TOKEN)
            .env("IDP_GITHUB_WEBHOOK_SECRET", WEBHOOK_SECRET)
            .env_remove("IDP_FAILPOINT");
        c
    }

    /// `METHOD path` on the forge, from a client that shares no code with idp.
    fn http(&self, method: &str, path: &str, body: &str) -> idp_testforge::Reply {
        self.forge.request(TOKEN, method, path, body)
    }

    /// Queues faults on the forge (`POST /_forge/faults`).
    fn faults(&self, json: &str) {
        let r = self.http("POST", "/_forge/faults", json);
        assert_eq!(r.status, 204, "{r:?}");
    }

    /// The repo's pull requests (none when it does not exist).
    fn pulls(&self, repo: &str) -> Vec<serde_json::Value> {
        let path = format!("/api/v3/repos/acme/{repo}/pulls?state=all&per_page=100");
        let r = self.http("GET", &path, "");
        if r.status == 404 {
            return Vec::new();
        }
        assert_eq!(r.status, 200, "{path}: {r:?}");
        r.json().as_array().unwrap().clone()
    }

    /// The pull requests of `service` in its repo and in the GitOps repo.
    fn pulls_of(&self, service: &str) -> Vec<serde_json::Value> {
        let mut all = self.pulls(service);
        all.extend(self.pulls("gitops").into_iter().filter(|p| {
            p["head"]["ref"]
                .as_str()
                .unwrap()
                .starts_with(&format!("idp/{service}/"))
        }));
        all
    }

    /// Every audit record.
    fn audit(&self) -> Vec<serde_json::Value> {
        let out = self
            .idp()
            .args(["--json", "-q", "audit", "list", "--limit", "100000"])
            .output()
            .unwrap();
        json_of(&out).as_array().unwrap().clone()
    }

    fn runs(&self) -> Vec<serde_json::Value> {
        let out = self.idp().args(["--json", "-q", "runs"]).output().unwrap();
        json_of(&out).as_array().unwrap().clone()
    }

    /// Clones `repo` with the git CLI over smart HTTP.
    fn clone(&self, repo: &str) -> PathBuf {
        let dest = self.root.join(format!("clone-{repo}"));
        let url = self.forge.git_base(TOKEN);
        let ok = Command::new("git")
            .args(["clone", "-q", &format!("{url}/acme/{repo}.git")])
            .arg(&dest)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git clone {repo}");
        dest
    }
}

fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

const RUN: [&str; 6] = [
    "golden-path",
    "run",
    "--service",
    "payments-api",
    "--owner",
    "team-payments",
];

fn file(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_golden_path_lands_on_the_forge_as_merged_pull_requests_and_a_rerun_opens_none() {
    golden_path_and_infra_on("github");
}

#[test]
fn on_gitea_the_golden_path_and_an_infra_request_land_as_merged_pull_requests() {
    golden_path_and_infra_on("gitea");
}

#[test]
fn on_gitlab_the_golden_path_and_an_infra_request_land_as_merged_merge_requests() {
    golden_path_and_infra_on("gitlab");
}

/// The golden path, the same request again, and an infra request, through `kind`'s API.
fn golden_path_and_infra_on(kind: &'static str) {
    let s = setup_kind(kind, true);
    let out = s.idp().args(["--json", "-q"]).args(RUN).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let receipt = json_of(&out);
    assert_eq!(receipt["status"], "completed", "{receipt}");
    let steps = receipt["steps"].as_array().unwrap();
    for step in steps {
        let cr = &step["change_request"];
        assert_eq!(cr["state"], "merged", "{step}");
        let url = cr["url"].as_str().unwrap();
        assert!(
            url.starts_with(&format!("{}/acme/", s.forge.base_url))
                && url.contains(s.review_path()),
            "{url}"
        );
    }

    // Each step is one pull request, merged, labelled, its body the step's plan with the key.
    let service = s.pulls("payments-api");
    let gitops = s.pulls("gitops");
    assert_eq!(service.len() + gitops.len(), steps.len(), "{service:?}");
    for p in service.iter().chain(&gitops) {
        assert_eq!(p["merged"], true, "{p}");
        assert_eq!(p["labels"][0]["name"], "idp");
        let body = p["body"].as_str().unwrap();
        assert!(body.contains("idp explain payments-api"), "{body}");
        assert!(body.contains("<!-- idp-change-request-key: "), "{body}");
    }

    // What a team member clones is what the receipt says was created.
    let repo = s.clone("payments-api");
    assert!(file(&repo, "catalog-info.yaml").contains("payments-api"));
    assert!(repo.join(".github/workflows").is_dir());
    let gitops_clone = s.clone("gitops");
    for env in ["dev", "staging", "prod"] {
        assert!(
            file(
                &gitops_clone,
                &format!("apps/payments-api/{env}/deployment.yaml")
            )
            .contains("kind: Deployment")
        );
        assert!(
            gitops_clone
                .join(format!("argocd/applications/payments-api-{env}.yaml"))
                .is_file()
        );
    }

    // The same request again: nothing to write, no new pull request, the same receipt.
    let again = s.idp().args(["--json", "-q"]).args(RUN).output().unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(s.pulls("payments-api").len(), service.len());
    assert_eq!(s.pulls("gitops").len(), gitops.len());
    assert_eq!(json_of(&again)["steps"], receipt["steps"]);

    // "I need a bucket for logs": one merged change request in the infra repo, per environment
    // a module a team member finds in a clone.
    let out = s
        .idp_as("user:default/pat")
        .args(["--json", "-q", "request-infra-resource", "--service"])
        .args(["payments-api", "--intent", "bucket:logs"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let infra = json_of(&out);
    assert_eq!(infra["status"], "completed", "{infra}");
    for step in infra["steps"].as_array().unwrap() {
        assert_eq!(step["change_request"]["state"], "merged", "{step}");
    }
    let pulls = s.pulls("infra");
    assert!(!pulls.is_empty());
    assert!(pulls.iter().all(|p| p["merged"] == true), "{pulls:?}");
    let clone = s.clone("infra");
    assert!(
        file(&clone, "terraform/prod/payments-api/bucket-logs.tf").contains("aws:kms"),
        "the prod module"
    );
}

#[test]
fn a_token_that_is_missing_or_refused_is_a_clear_error_that_never_shows_the_token() {
    let s = setup(true);
    let out = s
        .idp()
        .env_remove("IDP_GITHUB_TOKEN")
        .args(["-q"])
        .args(RUN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("IDP_GITHUB_TOKEN"), "{err}");
    assert!(!s.ws.exists(), "a refused configuration writes nothing");

    let wrong = "ghp_wrong-token-that-must-not-leak";
    let out = s
        .idp()
        .env("IDP_GITHUB_TOKEN", wrong)
        .args(["--json", "-q"])
        .args(RUN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("token was refused"), "{all}");
    assert!(!all.contains(wrong), "the token leaked: {all}");
    let audit = s.audit();
    assert!(!audit.is_empty());
    assert!(!serde_json::to_string(&audit).unwrap().contains(wrong));
}

/// Every step's pull request, exactly once, merged.
fn assert_one_merged_pull_per_step(s: &Setup, service: &str) {
    let pulls = s.pulls_of(service);
    let heads: Vec<&str> = pulls
        .iter()
        .map(|p| p["head"]["ref"].as_str().unwrap())
        .collect();
    let mut want: Vec<String> = [
        "bootstrap-service",
        "wire-ci",
        "provision-gitops",
        "attach-observability",
    ]
    .iter()
    .map(|s| format!("idp/{service}/{s}"))
    .collect();
    let mut got: Vec<String> = heads.iter().map(|h| h.to_string()).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "one pull request per step");
    for p in &pulls {
        assert_eq!(p["merged"], true, "{}", p["html_url"]);
    }
}

#[test]
fn five_hundreds_rate_limits_and_dropped_connections_are_survived_without_a_duplicate() {
    let s = setup(true);
    s.faults(
        r#"[
        {"kind": "status", "status": 503, "count": 3},
        {"kind": "status", "status": 502, "path_contains": "/git/trees", "count": 1},
        {"kind": "status", "status": 429, "retry_after": 1, "path_contains": "/pulls", "method": "POST", "count": 1},
        {"kind": "status", "status": 403, "retry_after": 1, "path_contains": "/merge", "count": 1},
        {"kind": "drop_after", "path_contains": "/pulls", "method": "POST", "count": 2},
        {"kind": "drop_after", "path_contains": "/git/refs", "method": "POST", "count": 1},
        {"kind": "drop_after", "path_contains": "/merge", "count": 1},
        {"kind": "drop_before", "path_contains": "/git/commits", "method": "POST", "count": 1},
        {"kind": "drop_after", "path_contains": "/orgs/acme/repos", "count": 1}
    ]"#,
    );
    let out = s.idp().args(["--json", "-q"]).args(RUN).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json_of(&out)["status"], "completed");
    let left = s.http("GET", "/_forge/faults", "");
    assert_eq!(left.json(), serde_json::json!([]), "every fault was met");
    assert_one_merged_pull_per_step(&s, "payments-api");
}

#[test]
fn a_storm_past_the_retry_budget_fails_retryably_and_a_resume_finishes_with_one_pull_per_step() {
    let s = setup_with("github", true, 0, "    attempts: 3\n");
    // Fine until the second step's pull request, then every call fails.
    s.faults(r#"[{"kind": "status", "status": 503, "path_contains": "/payments-api/git/trees", "count": 1000}]"#);
    let out = s.idp().args(["--json", "-q"]).args(RUN).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err: serde_json::Value = serde_json::from_slice(&out.stderr)
        .or_else(|_| serde_json::from_slice(&out.stdout))
        .unwrap_or_else(|_| panic!("{out:?}"));
    let text = err.to_string();
    assert!(
        text.contains("failed after 3 attempt(s)") && text.contains("503"),
        "{text}"
    );
    assert_eq!(err["error"]["retryable"], true, "{err}");
    assert!(s.pulls_of("payments-api").is_empty());

    assert_eq!(s.http("DELETE", "/_forge/faults", "").status, 204);
    let run = s
        .runs()
        .into_iter()
        .find(|r| r["status"] != "completed")
        .expect("the failed run is listed");
    let resumed = s
        .idp()
        .args(["--json", "-q", "resume", run["run_id"].as_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert_one_merged_pull_per_step(&s, "payments-api");
}

/// A small deterministic generator: the "random" moments are the same on every run, and the
/// seed is in the failure message.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

impl Setup {
    /// Starts the golden path for `service` in the background and returns once its run is
    /// recorded (the forge work is all after that).
    fn start_run(&self, service: &str) -> (std::process::Child, std::time::Instant) {
        let child = self
            .idp()
            .args([
                "-q",
                "golden-path",
                "run",
                "--service",
                service,
                "--owner",
                "team-payments",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let begun = std::time::Instant::now();
        while !self.runs().iter().any(|r| r["service"] == service) {
            assert!(
                begun.elapsed().as_secs() < 60,
                "the run of {service} never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        (child, std::time::Instant::now())
    }
}

#[test]
fn a_cli_killed_at_random_moments_then_resumed_opens_exactly_one_pull_per_step() {
    killed_and_resumed_on("github");
}

#[test]
fn on_gitea_a_cli_killed_at_random_moments_then_resumed_opens_exactly_one_pull_per_step() {
    killed_and_resumed_on("gitea");
}

#[test]
fn on_gitlab_a_cli_killed_at_random_moments_then_resumed_opens_exactly_one_request_per_step() {
    killed_and_resumed_on("gitlab");
}

/// SIGKILL at random moments of eight runs on `kind`, each then resumed: one merged change
/// request per step, every time.
fn killed_and_resumed_on(kind: &'static str) {
    // 20 ms per request stretches a run's forge work to about a second.
    let s = setup_with(kind, true, 20, "");
    let (mut reference, started) = s.start_run("payments-api");
    assert!(reference.wait().unwrap().success());
    let span = started.elapsed().as_millis() as u64;
    assert_one_merged_pull_per_step(&s, "payments-api");

    let seed = 0x1d9_2026;
    let mut rng = Lcg(seed);
    let (mut interrupted, mut between_pulls) = (0, 0);
    for i in 0..8 {
        let service = format!("svc-{i}");
        let run = [
            "golden-path",
            "run",
            "--service",
            &service,
            "--owner",
            "team-payments",
        ];
        let delay = rng.next(span.max(1));
        let (mut child, started) = s.start_run(&service);
        std::thread::sleep(
            std::time::Duration::from_millis(delay).saturating_sub(started.elapsed()),
        );
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let pending = s
            .runs()
            .into_iter()
            .find(|r| r["service"] == service.as_str() && r["status"] != "completed");
        let opened = s.pulls_of(&service).len();
        if pending.is_some() {
            interrupted += 1;
            between_pulls += usize::from(opened > 0);
        }
        let finish = match &pending {
            Some(r) => s
                .idp()
                .args(["-q", "resume", r["run_id"].as_str().unwrap()])
                .output()
                .unwrap(),
            None => s.idp().args(["-q"]).args(run).output().unwrap(),
        };
        assert!(
            finish.status.success(),
            "seed {seed:#x}, kill {delay} ms into the run ({opened} pull requests open): {}",
            String::from_utf8_lossy(&finish.stderr)
        );
        // And the same request once more changes nothing.
        let again = s.idp().args(["-q"]).args(run).output().unwrap();
        assert!(again.status.success());
        assert_one_merged_pull_per_step(&s, &service);
    }
    // The test proves something only if most kills landed inside a run.
    assert!(
        interrupted >= 5 && between_pulls >= 2,
        "only {interrupted} of 8 kills interrupted a run, {between_pulls} after a pull request (span {span} ms)"
    );
}

/// The exit code of a run that waits for a review.
const WAITING: i32 = 10;

impl Setup {
    /// Merges `url`'s pull (or merge) request as a person would, through the kind's API.
    fn merge(&self, url: &str) {
        let (repo, n) = pull_of(url);
        let r = match self.kind {
            "github" => self.http(
                "PUT",
                &format!("/api/v3/repos/acme/{repo}/pulls/{n}/merge"),
                "{}",
            ),
            "gitea" => self.http(
                "POST",
                &format!("/api/v1/repos/acme/{repo}/pulls/{n}/merge"),
                r#"{"Do": "merge"}"#,
            ),
            _ => self.http(
                "PUT",
                &format!("/api/v4/projects/acme%2F{repo}/merge_requests/{n}/merge"),
                "{}",
            ),
        };
        assert_eq!(r.status, 200, "{r:?}");
    }

    /// Closes `url`'s pull (or merge) request without merging, through the kind's API.
    fn close(&self, url: &str) {
        let (repo, n) = pull_of(url);
        let r = match self.kind {
            "github" => self.http(
                "PATCH",
                &format!("/api/v3/repos/acme/{repo}/pulls/{n}"),
                r#"{"state": "closed"}"#,
            ),
            "gitea" => self.http(
                "PATCH",
                &format!("/api/v1/repos/acme/{repo}/pulls/{n}"),
                r#"{"state": "closed"}"#,
            ),
            _ => self.http(
                "PUT",
                &format!("/api/v4/projects/acme%2F{repo}/merge_requests/{n}"),
                r#"{"state_event": "close"}"#,
            ),
        };
        assert!(r.status == 200 || r.status == 201, "{r:?}");
    }

    /// The path a change request's web URL has before its number.
    fn review_path(&self) -> &'static str {
        match self.kind {
            "github" => "/pull/",
            "gitea" => "/pulls/",
            _ => "/-/merge_requests/",
        }
    }
}

/// `(repo, number)` of a pull or merge request's web URL (`BASE/acme/REPO/pull/N`,
/// `BASE/acme/REPO/pulls/N`, `BASE/acme/REPO/-/merge_requests/N`).
fn pull_of(url: &str) -> (String, String) {
    let rest = url.split("/acme/").nth(1).expect("a URL in acme");
    let repo = rest.split('/').next().unwrap();
    let n = url.rsplit('/').next().unwrap();
    (repo.to_string(), n.to_string())
}

/// Runs `cmd`, which must exit `code`; its JSON receipt.
fn receipt_of(mut cmd: Command, code: i32) -> serde_json::Value {
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    json_of(&out)
}

/// The open pull request a waiting receipt names.
fn waiting_on(r: &serde_json::Value) -> String {
    assert_eq!(r["status"], "waiting", "{r}");
    let last = r["steps"].as_array().unwrap().last().unwrap();
    assert_eq!(last["change_request"]["state"], "open", "{r}");
    last["change_request"]["url"].as_str().unwrap().to_string()
}

#[test]
fn without_auto_merge_each_step_waits_for_its_review_and_resume_goes_on_after_the_merge() {
    let s = setup(false);
    let mut cmd = s.idp();
    cmd.args(["--json", "-q"]).args(RUN);
    let r = receipt_of(cmd, WAITING);
    let url = waiting_on(&r);
    assert_eq!(
        r["steps"].as_array().unwrap().len(),
        1,
        "nothing after the open one"
    );
    let run = r["run_id"].as_str().unwrap().to_string();
    assert_eq!(s.runs()[0]["status"], "waiting");

    // Still open: resuming waits again, on the same pull request.
    let mut cmd = s.idp();
    cmd.args(["--json", "-q", "resume", &run]);
    assert_eq!(waiting_on(&receipt_of(cmd, WAITING)), url);
    assert_eq!(s.pulls_of("payments-api").len(), 1);

    // Merged: the next step, which starts from the merged default branch.
    s.merge(&url);
    let mut cmd = s.idp();
    cmd.args(["--json", "-q", "resume", &run]);
    let r = receipt_of(cmd, WAITING);
    assert_eq!(r["run_id"], run.as_str());
    assert_eq!(r["steps"][0]["change_request"]["state"], "merged");
    let url = waiting_on(&r);
    assert!(url.contains("/payments-api/pull/2"), "{url}");

    // The same request again resumes the waiting run too (every face can do that).
    s.merge(&url);
    let mut cmd = s.idp();
    cmd.args(["--json", "-q"]).args(RUN);
    let r = receipt_of(cmd, WAITING);
    assert_eq!(r["run_id"], run.as_str());
    s.merge(&waiting_on(&r));
    let mut cmd = s.idp();
    cmd.args(["--json", "-q", "resume", &run]);
    let r = receipt_of(cmd, WAITING);
    s.merge(&waiting_on(&r));
    let mut cmd = s.idp();
    cmd.args(["--json", "-q", "resume", &run]);
    let done = receipt_of(cmd, 0);
    assert_eq!(done["status"], "completed");
    assert_eq!(done["steps"].as_array().unwrap().len(), 4);
    assert_one_merged_pull_per_step(&s, "payments-api");
    let waits = s
        .audit()
        .iter()
        .filter(|r| r["event"]["outcome"] == "waiting")
        .count();
    assert_eq!(waits, 5, "every wait is audited");
}

#[test]
fn a_pull_request_closed_without_merging_rejects_the_run_and_a_new_request_opens_a_new_one() {
    let s = setup(false);
    let mut cmd = s.idp();
    cmd.args(["--json", "-q"]).args(RUN);
    let r = receipt_of(cmd, WAITING);
    let url = waiting_on(&r);
    let run = r["run_id"].as_str().unwrap().to_string();
    let (repo, n) = pull_of(&url);
    let closed = s.http(
        "PATCH",
        &format!("/api/v3/repos/acme/{repo}/pulls/{n}"),
        r#"{"state": "closed"}"#,
    );
    assert_eq!(closed.status, 200);

    let out = s.idp().args(["-q", "resume", &run]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("closed without merging") && err.contains(&url),
        "{err}"
    );
    assert_eq!(s.runs()[0]["status"], "rejected");

    // Rejected is final for that run; the request again starts a new run and a new review.
    let mut cmd = s.idp();
    cmd.args(["--json", "-q"]).args(RUN);
    let again = receipt_of(cmd, WAITING);
    assert_ne!(again["run_id"], run.as_str());
    assert_ne!(waiting_on(&again), url);
    assert_eq!(s.pulls("payments-api").len(), 2);
}

#[test]
fn a_forge_that_requires_an_approval_makes_the_run_wait_and_idp_merges_after_it() {
    let s = setup(true);
    // The GitOps repo exists already, with main protected by a required review.
    let r = s.http(
        "POST",
        "/api/v3/orgs/acme/repos",
        r#"{"name": "gitops", "auto_init": true, "private": true}"#,
    );
    assert_eq!(r.status, 201);
    let r = s.http(
        "PUT",
        "/api/v3/repos/acme/gitops/branches/main/protection",
        r#"{"required_pull_request_reviews": {"required_approving_review_count": 1}}"#,
    );
    assert_eq!(r.status, 200);

    let mut cmd = s.idp();
    cmd.args(["--json", "-q"]).args(RUN);
    let r = receipt_of(cmd, WAITING);
    let run = r["run_id"].as_str().unwrap().to_string();
    assert_eq!(
        r["steps"].as_array().unwrap().len(),
        3,
        "the service repo merged at once"
    );
    let mut url = waiting_on(&r);
    assert!(url.contains("/gitops/pull/1"), "{url}");

    for _ in 0..2 {
        let (repo, n) = pull_of(&url);
        let approve = s.forge.request(
            REVIEWER,
            "POST",
            &format!("/api/v3/repos/acme/{repo}/pulls/{n}/reviews"),
            r#"{"event": "APPROVE"}"#,
        );
        assert_eq!(approve.status, 200, "{approve:?}");
        let mut cmd = s.idp();
        cmd.args(["--json", "-q", "resume", &run]);
        let out = cmd.output().unwrap();
        let r = json_of(&out);
        if r["status"] == "completed" {
            assert_eq!(out.status.code(), Some(0));
            assert_one_merged_pull_per_step(&s, "payments-api");
            return;
        }
        assert_eq!(out.status.code(), Some(WAITING));
        let next = waiting_on(&r);
        assert_ne!(next, url, "idp merged the approved one and moved on");
        url = next;
    }
    panic!("the run did not complete after two approvals");
}

impl Setup {
    /// The forge's webhook deliveries so far.
    fn deliveries(&self) -> Vec<serde_json::Value> {
        self.http("GET", "/_forge/deliveries", "")
            .json()
            .as_array()
            .unwrap()
            .clone()
    }

    /// `idp webhook` with `delivery`'s headers and `body`.
    fn feed(&self, delivery: &serde_json::Value, body: &str) -> Output {
        let file = self.root.join("delivery-body.json");
        std::fs::write(&file, body).unwrap();
        let mut c = self.idp();
        c.args(["--json", "-q", "webhook", "--body"]).arg(&file);
        for (k, v) in delivery["headers"].as_object().unwrap() {
            c.arg("--header")
                .arg(format!("{k}: {}", v.as_str().unwrap()));
        }
        c.output().unwrap()
    }
}

#[test]
fn a_signed_webhook_resumes_the_run_waiting_on_a_merged_or_closed_pull_request() {
    webhooks_on("github");
}

#[test]
fn on_gitea_a_signed_webhook_resumes_or_rejects_the_waiting_run() {
    webhooks_on("gitea");
}

#[test]
fn on_gitlab_a_webhook_with_the_secret_token_resumes_or_rejects_the_waiting_run() {
    webhooks_on("gitlab");
}

/// Review as a state through `kind`'s webhooks: a merge resumes the waiting run, a close
/// rejects it, a delivery that fails verification changes nothing.
fn webhooks_on(kind: &'static str) {
    let s = setup_kind(kind, false);
    let mut cmd = s.idp();
    cmd.args(["--json", "-q"]).args(RUN);
    let r = receipt_of(cmd, WAITING);
    let run = r["run_id"].as_str().unwrap().to_string();
    s.merge(&waiting_on(&r));
    let merged = s.deliveries().pop().expect("the forge sent a delivery");
    let body = merged["body"].as_str().unwrap();

    // A body changed after signing (GitLab signs nothing: a wrong token) is refused, audited,
    // and resumes nothing.
    let mut forged_delivery = merged.clone();
    let forged_body = if kind == "gitlab" {
        forged_delivery["headers"]["x-gitlab-token"] = "not-the-secret".into();
        body.to_string()
    } else {
        let b = body
            .replace("\"merged\":true", "\"merged\":false")
            .replace("\"merged\": true", "\"merged\": false");
        assert_ne!(b, body);
        b
    };
    let forged = s.feed(&forged_delivery, &forged_body);
    assert_eq!(forged.status.code(), Some(3), "{forged:?}");
    assert_eq!(s.runs()[0]["status"], "waiting");
    assert!(s.audit().iter().any(|r| r["event"]["operation"] == "forge_webhook"
        && r["event"]["decision"] == "deny"));

    // The delivery as signed: the run goes on to the next step, which waits in turn.
    let out = s.feed(&merged, body);
    assert!(out.status.success(), "{out:?}");
    let report = json_of(&out);
    let event = if kind == "gitlab" {
        "merge_request.merge"
    } else {
        "pull_request.closed"
    };
    assert_eq!(report["event"]["event"], event);
    assert_eq!(report["event"]["merged"], true);
    assert_eq!(report["runs"][0]["run_id"], run.as_str());
    assert_eq!(report["runs"][0]["status"], "waiting");
    let next = waiting_on(&report["runs"][0]["receipt"]);
    assert!(
        next.ends_with(&format!("/payments-api{}2", s.review_path())),
        "{next}"
    );
    // The same delivery again (forges redeliver) resumes nothing twice.
    let again = json_of(&s.feed(&merged, body));
    assert_eq!(again["runs"][0]["status"], "waiting");
    assert_eq!(s.pulls("payments-api").len(), 2);

    // Closed without merging: the webhook ends the run as rejected.
    s.close(&next);
    let delivery = s.deliveries().pop().unwrap();
    let report = json_of(&s.feed(&delivery, delivery["body"].as_str().unwrap()));
    assert_eq!(report["event"]["merged"], false);
    assert_eq!(report["runs"][0]["status"], "rejected");
    assert_eq!(report["runs"][0]["error"]["kind"], "Conflict");
    assert_eq!(s.runs()[0]["status"], "rejected");

    // An event not about a pull request (a ping, a push) is verified and changes nothing.
    let ping = r#"{"zen":"Keep it logically awesome.","object_kind":"push"}"#;
    let headers = match kind {
        "github" => serde_json::json!({
            "x-github-event": "ping",
            "x-hub-signature-256": format!("sha256={}", hmac(WEBHOOK_SECRET, ping)),
        }),
        "gitea" => serde_json::json!({
            "x-gitea-event": "push",
            "x-gitea-signature": hmac(WEBHOOK_SECRET, ping),
        }),
        _ => serde_json::json!({ "x-gitlab-event": "Push Hook", "x-gitlab-token": WEBHOOK_SECRET }),
    };
    let out = s.feed(&serde_json::json!({ "headers": headers }), ping);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json_of(&out)["event"], serde_json::Value::Null);
}

/// HMAC-SHA-256 as hex, computed with Python's standard library (a third implementation).
fn hmac(key: &str, msg: &str) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())",
            key,
            msg,
        ])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

impl Setup {
    /// `idp upgrade ARGS` as the platform admin (upgrades are theirs to run).
    fn upgrade(&self, args: &[&str]) -> Output {
        self.idp_as("user:default/pat")
            .args(["-q", "--json", "upgrade"])
            .args(args)
            .output()
            .unwrap()
    }
}

#[test]
fn upgrades_arrive_as_pull_requests_and_one_with_conflicts_stays_open_with_the_markers() {
    upgrades_on("github");
}

#[test]
fn on_gitea_upgrades_arrive_as_pull_requests_and_conflicts_stay_open() {
    upgrades_on("gitea");
}

#[test]
fn on_gitlab_upgrades_arrive_as_merge_requests_and_conflicts_stay_open() {
    upgrades_on("gitlab");
}

/// A clean upgrade merged, and one that conflicts with a team's edit held open with git's
/// markers on its branch, through `kind`'s API.
fn upgrades_on(kind: &'static str) {
    let s = setup_kind(kind, true);
    for service in ["payments-api", "orders-api"] {
        let out = s
            .idp()
            .args(["-q", "golden-path", "run", "--service", service])
            .args(["--owner", "team-payments", "--version", "1.0.0"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    // The team edits the line 2.0.0 changes in one service, with git, through the forge.
    let clone = s.clone("payments-api");
    let docker = std::fs::read_to_string(clone.join("Dockerfile"))
        .unwrap()
        .replace("--retries=3", "--retries=5");
    std::fs::write(clone.join("Dockerfile"), docker).unwrap();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(["-c", "user.name=T", "-c", "user.email=t@x", "-C"])
            .arg(&clone)
            .args(args)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["commit", "-qam", "more retries"]);
    git(&["push", "-q", "origin", "main"]);

    let clean = s.upgrade(&["orders-api"]);
    assert_eq!(clean.status.code(), Some(0), "{clean:?}");
    let clean = json_of(&clean);
    assert_eq!(clean["status"], "upgraded");
    for cr in clean["change_requests"].as_array().unwrap() {
        assert_eq!(cr["state"], "merged", "{cr}");
        assert!(
            cr["url"].as_str().unwrap().contains(s.review_path()),
            "{cr}"
        );
    }

    let conflicted = s.upgrade(&["payments-api"]);
    assert_eq!(conflicted.status.code(), Some(4), "{conflicted:?}");
    let conflicted = json_of(&conflicted);
    assert_eq!(conflicted["status"], "conflicts");
    let held = conflicted["change_requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["repo"] == "payments-api")
        .expect("a pull request to the service repo")
        .clone();
    assert_eq!(held["state"], "open");
    let (repo, n) = pull_of(held["url"].as_str().unwrap());
    let pr = s
        .http("GET", &format!("/api/v3/repos/acme/{repo}/pulls/{n}"), "")
        .json();
    assert_eq!(pr["merged"], false);
    assert!(pr["body"].as_str().unwrap().contains("Dockerfile"), "{pr}");
    let branch = pr["head"]["ref"].as_str().unwrap();
    assert!(branch.starts_with("idp/payments-api/upgrade-"), "{branch}");
    let raw = s.http(
        "GET",
        &format!("/acme/payments-api/raw/{branch}/Dockerfile"),
        "",
    );
    assert!(
        raw.body.contains("<<<<<<<") && raw.body.contains("--retries=5"),
        "{}",
        raw.body
    );
    // The team's main is untouched until someone resolves and merges.
    let main = s.http("GET", "/acme/payments-api/raw/main/Dockerfile", "");
    assert!(!main.body.contains("<<<<<<<"));
    // Asking again changes nothing: the same pull request, still open (two of the golden
    // path, one upgrade).
    assert_eq!(
        json_of(&s.upgrade(&["payments-api"]))["status"],
        "conflicts"
    );
    assert_eq!(s.pulls("payments-api").len(), 3);
}

/// The test-only key of the GitHub App in these tests.
fn app_key_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../idp-core/tests/fixtures/github-app-test-key.pem")
}

/// A setup whose idp acts as a GitHub App (app 42, installation `installation`) instead of a
/// token.
fn setup_app(installation: u64) -> Setup {
    let pem = std::fs::read_to_string(app_key_file()).unwrap();
    let s = setup_forge("github", true, "", |cfg| {
        cfg.apps
            .push(idp_testforge::App::from_private_key_pem(42, 7, "idp-app", &pem).unwrap())
    });
    let yaml = std::fs::read_to_string(s.platform.join("idp.yaml")).unwrap();
    let yaml = yaml.replace(
        "    token: { env: IDP_GITHUB_TOKEN }\n",
        &format!(
            "    app:\n      app_id: 42\n      installation_id: {installation}\n      private_key: {{ file: {} }}\n",
            app_key_file().display()
        ),
    );
    assert!(yaml.contains("app_id: 42"));
    std::fs::write(s.platform.join("idp.yaml"), yaml).unwrap();
    s
}

#[test]
fn a_github_app_opens_the_pull_requests_as_its_bot_and_mints_a_new_token_when_one_is_refused() {
    let s = setup_app(7);
    // The forge refuses one request, as it would a revoked installation token.
    s.faults(r#"[{"kind": "status", "status": 401, "path_contains": "/pulls", "method": "POST", "count": 1}]"#);
    let out = s
        .idp()
        .env_remove("IDP_GITHUB_TOKEN")
        .args(["--json", "-q"])
        .args(RUN)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json_of(&out)["status"], "completed");
    let pulls = s.pulls("payments-api");
    assert_eq!(pulls.len(), 2);
    for p in &pulls {
        assert_eq!(p["user"]["login"], "idp-app[bot]", "{p}");
        assert_eq!(p["merged"], true);
    }
    let stats = s.http("GET", "/_forge/stats", "").json();
    assert_eq!(
        stats["by_route"]["POST /api/v3/app/installations/N/access_tokens"], 2,
        "one token, and one more after the refusal: {stats}"
    );

    // An installation the app does not have: a clear error, no key material anywhere.
    let s = setup_app(8);
    let out = s
        .idp()
        .env_remove("IDP_GITHUB_TOKEN")
        .args(["-q"])
        .args(RUN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("providers.source_control.app"), "{err}");
    let key = std::fs::read_to_string(app_key_file()).unwrap();
    let key_line = key.lines().nth(3).unwrap();
    let all = format!("{err}{}", serde_json::to_string(&s.audit()).unwrap());
    assert!(
        !all.contains(key_line) && !all.contains("eyJ"),
        "key or JWT leaked: {all}"
    );
}

#[test]
fn a_crash_between_the_commit_and_the_pull_request_is_resumed_with_one_commit_and_one_request() {
    for kind in ["github", "gitea", "gitlab"] {
        let s = setup_kind(kind, true);
        let out = s
            .idp()
            .env("IDP_FAILPOINT", "scm:recorded")
            .args(["-q"])
            .args(RUN)
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "{kind}: the fail point was not reached"
        );
        assert!(s.pulls("payments-api").is_empty(), "{kind}");
        let branch = "/api/v3/repos/acme/payments-api/branches/idp/payments-api/bootstrap-service";
        let before = s.http("GET", branch, "").json()["commit"]["sha"].clone();
        assert!(
            before.is_string(),
            "{kind}: the step's branch was pushed before the crash"
        );

        let run = s.runs()[0]["run_id"].as_str().unwrap().to_string();
        let out = s.idp().args(["-q", "resume", &run]).output().unwrap();
        assert!(out.status.success(), "{kind}: {out:?}");
        assert_one_merged_pull_per_step(&s, "payments-api");
        let first = s
            .pulls("payments-api")
            .into_iter()
            .find(|p| p["head"]["ref"] == "idp/payments-api/bootstrap-service")
            .unwrap();
        assert_eq!(
            first["commits"], 1,
            "{kind}: one commit on the branch, {first}"
        );
        if kind == "gitea" {
            // Gitea's commit is compared with the branch as it is: the one from before stays.
            assert_eq!(first["head"]["sha"], before, "{kind}");
        }
    }
}
