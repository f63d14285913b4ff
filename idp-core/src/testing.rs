//! The contract of every periphery trait, written once and run against every implementation
//! (feature `testing`): the embedded ones (local git, SQLite), the in-memory ones, the remote
//! ones, and a third party's. Each suite takes `open`, which returns a fresh handle on one and
//! the same storage every time it is called (what a restarted process would open), and panics
//! naming the first clause an implementation breaks.
//!
//! ```no_run
//! # async fn demo() {
//! use std::sync::Arc;
//! use idp_core::providers::MemorySourceControl;
//! let storage = MemorySourceControl::new("main", true);
//! idp_core::testing::source_control_contract(|| {
//!     let s = storage.clone();
//!     async move { Arc::new(s) as Arc<dyn idp_core::providers::SourceControl> }
//! })
//! .await;
//! # }
//! ```

use std::future::Future;
use std::sync::Arc;

use serde_json::json;

use crate::audit::{AuditEvent, AuditFilter, AuditLog, VerifyOptions};
use crate::golden_path::StepId;
use crate::providers::{ChangeRequestSpec, Signature, SourceControl};
use crate::receipt::{ChangeRequestState, RunStatus};
use crate::state::{ChangeRequestRecord, RunRecord, ServiceRecord, StateStore, StepRecord};

macro_rules! check {
    ($clause:expr, $cond:expr, $($fmt:tt)+) => {
        if !$cond {
            panic!("contract clause `{}` broken: {}", $clause, format!($($fmt)+));
        }
    };
}

fn ok<T>(clause: &str, r: crate::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("contract clause `{clause}` broken: the call failed: {e}"))
}

fn bytes(s: &str) -> Option<Arc<Vec<u8>>> {
    Some(Arc::new(s.as_bytes().to_vec()))
}

fn spec(repo: &str, key: &str, branch: &str, files: &[(&str, Option<&str>)]) -> ChangeRequestSpec {
    let bot = Signature {
        name: "idp-contract".into(),
        email: "contract@idp.invalid".into(),
    };
    ChangeRequestSpec {
        key: key.into(),
        repo: repo.into(),
        branch: branch.into(),
        title: format!("contract: {key}"),
        body: "A change request of the provider contract.".into(),
        files: files
            .iter()
            .map(|(p, c)| (p.to_string(), c.and_then(bytes)))
            .collect(),
        author: bot.clone(),
        committer: bot,
        trailers: vec![("Idp-Run".into(), "run-contract".into())],
        hold: false,
    }
}

async fn read(
    scm: &dyn SourceControl,
    repo: &str,
    branch: Option<&str>,
    path: &str,
) -> Option<String> {
    ok(
        "read_files",
        scm.read_files(repo, branch, &[path.to_string()]).await,
    )
    .pop()
    .flatten()
    .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The [`SourceControl`] contract. Uses repos named `contract-*`.
pub async fn source_control_contract<F, Fut>(open: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn SourceControl>>,
{
    let scm = open().await;
    let main = scm.default_branch().to_string();

    let c = "creating a repo twice is a no-op";
    ok(c, scm.create_repo("contract-a", "contract").await);
    ok(c, scm.create_repo("contract-a", "contract").await);
    check!(
        c,
        ok(c, scm.repo_exists("contract-a").await),
        "the repo does not exist"
    );
    // A forge may start a repository with its own README commit (GitHub's Git database API
    // does not work on an empty repository); nothing else may be there.
    let listed = ok(c, scm.list_files("contract-a", None, "").await);
    check!(
        c,
        listed.iter().all(|p| p == "README.md"),
        "a new repo has files: {listed:?}"
    );

    let c = "what is missing reads as none";
    check!(
        c,
        !ok(c, scm.repo_exists("contract-missing").await),
        "a missing repo exists"
    );
    let got = ok(
        c,
        scm.read_files("contract-missing", None, &["a".into(), "b".into()])
            .await,
    );
    check!(
        c,
        got == vec![None, None],
        "reads of a missing repo: {got:?}"
    );
    check!(
        c,
        read(scm.as_ref(), "contract-a", Some("no-such-branch"), "x")
            .await
            .is_none(),
        "a missing branch has a file"
    );
    check!(
        c,
        !ok(c, scm.branch_exists("contract-a", "no-such-branch").await),
        "a missing branch exists"
    );

    let c = "a change request commits its files on its branch";
    let first = ok(
        c,
        scm.submit(&spec(
            "contract-a",
            "k1",
            "idp/contract/one",
            &[("dir/a.txt", Some("1")), ("top", Some("t"))],
        ))
        .await,
    );
    check!(c, first.committed && !first.id.is_empty(), "{first:?}");
    check!(
        c,
        ok(c, scm.branch_exists("contract-a", "idp/contract/one").await),
        "no branch"
    );
    check!(
        c,
        read(
            scm.as_ref(),
            "contract-a",
            Some("idp/contract/one"),
            "dir/a.txt"
        )
        .await
        .as_deref()
            == Some("1"),
        "the branch lacks the file"
    );
    if scm.auto_merges() {
        check!(
            c,
            first.state == ChangeRequestState::Merged,
            "auto-merge left it {:?}",
            first.state
        );
        check!(
            c,
            read(scm.as_ref(), "contract-a", None, "dir/a.txt")
                .await
                .as_deref()
                == Some("1"),
            "the default branch ({main}) lacks the merged file"
        );
    } else {
        check!(
            c,
            first.state == ChangeRequestState::Open,
            "{:?}",
            first.state
        );
    }

    let c = "the same change request key twice yields one change request";
    let again = ok(
        c,
        scm.submit(&spec(
            "contract-a",
            "k1",
            "idp/contract/one",
            &[("dir/a.txt", Some("1")), ("top", Some("t"))],
        ))
        .await,
    );
    check!(
        c,
        again.id == first.id && again.commit == first.commit,
        "{first:?} then {again:?}"
    );
    check!(c, !again.committed, "the second submit committed again");

    let c = "recovery by key after a restart";
    let reopened = open().await;
    let found = ok(c, reopened.find_change_request("contract-a", "k1").await);
    check!(
        c,
        found
            .as_ref()
            .is_some_and(|f| f.id == first.id && f.commit == first.commit),
        "found {found:?}"
    );
    check!(
        c,
        ok(
            c,
            reopened
                .find_change_request("contract-a", "never-submitted")
                .await
        )
        .is_none(),
        "an unknown key found a change request"
    );

    if !scm.auto_merges() {
        return;
    }
    let c = "content the default branch already has commits nothing";
    let same = ok(
        c,
        scm.submit(&spec(
            "contract-a",
            "k2",
            "idp/contract/two",
            &[("dir/a.txt", Some("1"))],
        ))
        .await,
    );
    check!(c, same.id.is_empty() && !same.committed, "{same:?}");

    let c = "files under a prefix are listed, and a deleted file is gone";
    ok(
        c,
        scm.submit(&spec(
            "contract-a",
            "k3",
            "idp/contract/three",
            &[("dir/b.txt", Some("2")), ("top", None)],
        ))
        .await,
    );
    let mut listed = ok(c, scm.list_files("contract-a", None, "dir/").await);
    listed.sort();
    check!(c, listed == ["dir/a.txt", "dir/b.txt"], "{listed:?}");
    check!(
        c,
        read(scm.as_ref(), "contract-a", None, "top")
            .await
            .is_none(),
        "a deleted file is still there"
    );

    let c = "hold keeps a change request open; submitting it again without hold merges it";
    let held = ok(
        c,
        scm.submit(&ChangeRequestSpec {
            hold: true,
            ..spec(
                "contract-a",
                "k4",
                "idp/contract/four",
                &[("held.txt", Some("h"))],
            )
        })
        .await,
    );
    check!(c, held.state == ChangeRequestState::Open, "{held:?}");
    check!(
        c,
        read(scm.as_ref(), "contract-a", None, "held.txt")
            .await
            .is_none(),
        "a held change reached {main}"
    );
    // The default branch moves meanwhile (a shared repo): the held change must still merge.
    ok(
        c,
        scm.submit(&spec(
            "contract-a",
            "k5",
            "idp/contract/five",
            &[("other.txt", Some("o"))],
        ))
        .await,
    );
    let merged = ok(
        c,
        scm.submit(&spec(
            "contract-a",
            "k4",
            "idp/contract/four",
            &[("held.txt", Some("h"))],
        ))
        .await,
    );
    check!(
        c,
        merged.id == held.id && merged.state == ChangeRequestState::Merged,
        "{merged:?}"
    );
    for (path, want) in [("held.txt", "h"), ("other.txt", "o"), ("dir/a.txt", "1")] {
        check!(
            c,
            read(scm.as_ref(), "contract-a", None, path)
                .await
                .as_deref()
                == Some(want),
            "{path} after the held merge"
        );
    }
}

fn run(id: &str, key: &str, service: &str, status: RunStatus, at: &str) -> RunRecord {
    RunRecord {
        id: id.into(),
        key: key.into(),
        operation: "run_golden_path".into(),
        service: service.into(),
        principal: "user:default/alice".into(),
        request: json!({"service": service}),
        has_secrets: false,
        status,
        created_at: at.into(),
        updated_at: at.into(),
        receipt: None,
        error: None,
        face: "cli".into(),
    }
}

fn cr(
    key: &str,
    service: &str,
    digest: &str,
    state: ChangeRequestState,
    at: &str,
) -> ChangeRequestRecord {
    ChangeRequestRecord {
        key: key.into(),
        id: Some(format!("repo#{key}")),
        repo: "contract-repo".into(),
        service: service.into(),
        step: StepId::BootstrapService,
        run_id: "run-1".into(),
        digest: digest.into(),
        branch: "idp/x".into(),
        commit: Some("c0ffee".into()),
        url: None,
        state,
        created_at: at.into(),
    }
}

/// The [`StateStore`] contract. Uses services named `contract-*`.
pub async fn state_store_contract<F, Fut>(open: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn StateStore>>,
{
    let s = open().await;

    let c = "runs are created, found while unfinished, listed newest first, and finished";
    ok(
        c,
        s.create_run(&run(
            "run-1",
            "key-a",
            "contract-svc",
            RunStatus::Running,
            "2026-01-01T00:00:01.000Z",
        ))
        .await,
    );
    ok(
        c,
        s.create_run(&run(
            "run-2",
            "key-b",
            "contract-svc",
            RunStatus::Running,
            "2026-01-01T00:00:02.000Z",
        ))
        .await,
    );
    ok(
        c,
        s.create_run(&run(
            "run-3",
            "key-c",
            "contract-other",
            RunStatus::Running,
            "2026-01-01T00:00:03.000Z",
        ))
        .await,
    );
    let got = ok(c, s.get_run("run-1").await);
    check!(c, got.as_ref().is_some_and(|r| r.key == "key-a"), "{got:?}");
    check!(
        c,
        ok(c, s.get_run("run-none").await).is_none(),
        "a missing run exists"
    );
    check!(
        c,
        ok(c, s.find_unfinished_run("key-a").await).is_some_and(|r| r.id == "run-1"),
        "running not found"
    );
    let ids: Vec<String> = ok(c, s.list_runs(None, 10).await)
        .into_iter()
        .map(|r| r.id)
        .collect();
    check!(c, ids == ["run-3", "run-2", "run-1"], "{ids:?}");
    let ids: Vec<String> = ok(c, s.list_runs(Some("contract-svc"), 1).await)
        .into_iter()
        .map(|r| r.id)
        .collect();
    check!(c, ids == ["run-2"], "{ids:?}");
    ok(
        c,
        s.finish_run(
            "run-1",
            RunStatus::Cancelled,
            None,
            Some(&json!({"kind": "Cancelled"})),
        )
        .await,
    );
    check!(
        c,
        ok(c, s.find_unfinished_run("key-a").await)
            .is_some_and(|r| r.status == RunStatus::Cancelled),
        "a cancelled run is not found to resume"
    );
    ok(
        c,
        s.finish_run(
            "run-1",
            RunStatus::Failed,
            None,
            Some(&json!({"kind": "Provider"})),
        )
        .await,
    );
    check!(
        c,
        ok(c, s.find_unfinished_run("key-a").await).is_some_and(|r| r.status == RunStatus::Failed),
        "a failed run is not found to resume (a retry would commit twice)"
    );
    ok(
        c,
        s.finish_run("run-1", RunStatus::Waiting, None, None).await,
    );
    check!(
        c,
        ok(c, s.find_unfinished_run("key-a").await).is_some_and(|r| r.status == RunStatus::Waiting),
        "a run waiting for a review is not found to resume"
    );
    ok(
        c,
        s.finish_run("run-1", RunStatus::Superseded, None, None)
            .await,
    );
    check!(
        c,
        ok(c, s.find_unfinished_run("key-a").await).is_none(),
        "a superseded run is found to resume"
    );
    ok(
        c,
        s.finish_run(
            "run-1",
            RunStatus::Completed,
            Some(&json!({"ok": true})),
            None,
        )
        .await,
    );
    check!(
        c,
        ok(c, s.find_unfinished_run("key-a").await).is_none(),
        "a completed run is unfinished"
    );
    let done = ok(c, s.get_run("run-1").await).expect("exists");
    check!(
        c,
        done.status == RunStatus::Completed && done.receipt == Some(json!({"ok": true})),
        "{done:?}"
    );

    let c = "steps are saved and updated";
    let step = |status| StepRecord {
        step: StepId::WireCi,
        status,
        result: None,
    };
    ok(c, s.save_step("run-2", &step(RunStatus::Running)).await);
    ok(c, s.save_step("run-2", &step(RunStatus::Completed)).await);
    let steps = ok(c, s.steps("run-2").await);
    check!(
        c,
        steps.len() == 1 && steps[0].status == RunStatus::Completed,
        "{steps:?}"
    );

    let c = "services are put, replaced and listed";
    let svc = |version: &str| ServiceRecord {
        name: "contract-svc".into(),
        owner: "team-payments".into(),
        golden_path: "python-fastapi-service".into(),
        version: version.into(),
        parameters: json!({"port": 8080}),
        environments: json!({"prod": {"memory_limit": "1Gi"}}),
        created_at: "2026-01-01T00:00:00.000Z".into(),
        updated_at: "2026-01-01T00:00:00.000Z".into(),
    };
    ok(c, s.put_service(&svc("1.0.0")).await);
    ok(c, s.put_service(&svc("2.0.0")).await);
    check!(
        c,
        ok(c, s.get_service("contract-svc").await).is_some_and(
            |r| r.version == "2.0.0" && r.environments["prod"]["memory_limit"] == "1Gi"
        ),
        "not replaced, or the environments' values lost"
    );
    check!(c, ok(c, s.list_services().await).len() == 1, "listed twice");

    let c = "change requests are found by key and by digest, pending ones only by key";
    ok(
        c,
        s.put_change_request(&cr(
            "k1",
            "contract-svc",
            "d1",
            ChangeRequestState::Pending,
            "2026-01-01T00:00:01.000Z",
        ))
        .await,
    );
    check!(
        c,
        ok(
            c,
            s.change_request_for(
                "contract-svc",
                StepId::BootstrapService,
                "contract-repo",
                "d1"
            )
            .await
        )
        .is_none(),
        "a pending one was found by digest"
    );
    ok(
        c,
        s.put_change_request(&cr(
            "k1",
            "contract-svc",
            "d1",
            ChangeRequestState::Merged,
            "2026-01-01T00:00:01.000Z",
        ))
        .await,
    );
    check!(
        c,
        ok(c, s.change_request_by_key("k1").await)
            .is_some_and(|x| x.state == ChangeRequestState::Merged),
        "not updated"
    );
    check!(
        c,
        ok(
            c,
            s.change_request_for(
                "contract-svc",
                StepId::BootstrapService,
                "contract-repo",
                "d1"
            )
            .await
        )
        .is_some(),
        "not found by digest"
    );
    check!(
        c,
        ok(c, s.list_change_requests(Some("contract-svc")).await).len() == 1,
        "listed twice"
    );

    let c = "infrastructure intents are stored per service";
    ok(
        c,
        s.put_infra("contract-svc", &json!([{"type": "bucket"}]), &json!([]))
            .await,
    );
    check!(
        c,
        ok(c, s.get_infra("contract-svc").await).is_some_and(|(i, _)| i[0]["type"] == "bucket"),
        "lost"
    );
    check!(
        c,
        ok(c, s.infra_services().await) == ["contract-svc"],
        "not listed"
    );

    let c = "waivers are put, updated and listed per service";
    let mut w: crate::policy::Waiver = serde_json::from_value(json!({
        "id": "wv-contract", "rule": "protected-environment", "service": "contract-svc",
        "environment": "prod", "justification": "the provider contract", "requested_by": "user:default/alice",
        "requested_at": "2026-01-01T00:00:00.000Z", "expires_at": "2026-01-08T00:00:00.000Z",
    }))
    .expect("a waiver");
    ok(c, s.put_waiver(&w).await);
    w.approved_by = Some("user:default/pat".into());
    ok(c, s.put_waiver(&w).await);
    check!(
        c,
        ok(c, s.get_waiver("wv-contract").await).is_some_and(|x| x.approved_by.is_some()),
        "not updated"
    );
    check!(
        c,
        ok(c, s.list_waivers(Some("contract-svc")).await).len() == 1,
        "listed twice"
    );
    check!(
        c,
        ok(c, s.list_waivers(Some("contract-other")).await).is_empty(),
        "another service's"
    );

    let c = "delivery events are stored once per id and listed by time, before a bound";
    let ev = |id: &str, at: &str| crate::insights::DeliveryEvent {
        id: id.into(),
        kind: crate::insights::EventKind::Deployment,
        source: "argocd".into(),
        service: "contract-svc".into(),
        environment: Some("prod".into()),
        time: at.into(),
        revision: Some("c0ffee".into()),
        gitops_revision: None,
        outcome: Some("succeeded".into()),
        alert: None,
        started_at: None,
    };
    let later = ev("contract-ev-2", "2026-01-02T00:00:00.000Z");
    let earlier = ev("contract-ev-1", "2026-01-01T00:00:00.000Z");
    check!(
        c,
        ok(c, s.put_events(&[later.clone(), earlier.clone()]).await) == 2,
        "not both new"
    );
    let mut changed = earlier.clone();
    changed.outcome = Some("failed".into());
    check!(
        c,
        ok(
            c,
            s.put_events(&[changed, ev("contract-ev-3", "2026-01-03T00:00:00.000Z")])
                .await
        ) == 1,
        "a stored id counted as new"
    );
    let all = ok(c, s.list_events(None).await);
    check!(
        c,
        all.iter().map(|e| e.id.as_str()).collect::<Vec<_>>()
            == ["contract-ev-1", "contract-ev-2", "contract-ev-3"],
        "not by time: {all:?}"
    );
    check!(c, all[0] == earlier, "a stored event changed: {:?}", all[0]);
    check!(
        c,
        ok(c, s.list_events(Some("2026-01-02T00:00:00.000Z")).await).len() == 1,
        "the bound is not exclusive"
    );

    let c = "content is stored by hash, idempotently";
    let blob = Arc::new(b"hello".to_vec());
    let h = crate::digest::sha256_hex(&blob);
    ok(
        c,
        s.put_blobs(&[(h.clone(), blob.clone()), (h.clone(), blob.clone())])
            .await,
    );
    ok(c, s.put_blobs(&[(h.clone(), blob.clone())]).await);
    check!(
        c,
        ok(c, s.get_blob(&h).await).as_deref() == Some(b"hello".as_slice()),
        "lost"
    );
    check!(
        c,
        ok(c, s.get_blob("0000").await).is_none(),
        "a missing blob exists"
    );

    let c = "state survives reopening";
    let s2 = open().await;
    check!(c, ok(c, s2.get_run("run-2").await).is_some(), "runs lost");
    check!(
        c,
        ok(c, s2.get_service("contract-svc").await).is_some_and(|r| r.version == "2.0.0"),
        "services lost"
    );
    check!(c, ok(c, s2.get_blob(&h).await).is_some(), "content lost");
    check!(
        c,
        ok(c, s2.list_events(None).await).len() == 3,
        "events lost"
    );
    check!(
        c,
        ok(c, s2.get_run("run-2").await).is_some_and(|r| r.face == "cli"),
        "the face of a run lost"
    );

    let c = "a service lock excludes every other holder until it is released";
    let held = ok(c, s.lock_service("contract-svc").await);
    check!(
        c,
        ok(c, s2.try_lock_service("contract-svc").await).is_none(),
        "taken twice (another handle)"
    );
    check!(
        c,
        ok(c, s.try_lock_service("contract-svc").await).is_none(),
        "taken twice (the same handle)"
    );
    check!(
        c,
        ok(c, s2.try_lock_service("contract-other").await).is_some(),
        "another service's lock is taken"
    );
    let waiter = {
        let s2 = s2.clone();
        tokio::spawn(async move { s2.lock_service("contract-svc").await.map(|_| ()) })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    check!(
        c,
        !waiter.is_finished(),
        "a waiter got the lock while it was held"
    );
    drop(held);
    let got = tokio::time::timeout(std::time::Duration::from_secs(10), waiter).await;
    check!(
        c,
        matches!(got, Ok(Ok(Ok(())))),
        "the waiter did not get the released lock: {got:?}"
    );
}

fn event(i: usize, resource: &str) -> AuditEvent {
    AuditEvent {
        time: format!("2026-01-01T00:00:{:02}.000Z", i % 60),
        principal: "user:default/alice".into(),
        operation: "run_golden_path".into(),
        resource: resource.into(),
        decision: "allow".into(),
        outcome: "completed".into(),
        details: json!({"i": i, "api_token": "s3cret-value"}),
        ..Default::default()
    }
}

/// The [`AuditLog`] contract. `open` must return handles on a log that is empty at first.
pub async fn audit_log_contract<F, Fut>(open: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn AuditLog>>,
{
    let log = open().await;

    let c = "appends form a chain that verifies";
    let a = ok(c, log.append(event(1, "service:contract-a")).await);
    let b = ok(c, log.append(event(2, "service:contract-b")).await);
    check!(
        c,
        a.seq == 1 && b.seq == 2 && b.prev_hash == a.hash,
        "{a:?} {b:?}"
    );
    let batch = ok(
        c,
        log.append_batch((3..6).map(|i| event(i, "service:contract-a")).collect())
            .await,
    );
    check!(
        c,
        batch.iter().map(|r| r.seq).collect::<Vec<_>>() == [3, 4, 5],
        "{batch:?}"
    );
    let v = ok(c, log.verify(&VerifyOptions::default()).await);
    check!(c, v.ok && v.records == 5, "{v:?}");

    let c = "secrets never reach the log";
    let listed = ok(c, log.list(&AuditFilter::default()).await);
    check!(
        c,
        listed.iter().all(|r| r.event.details["api_token"] == "***"),
        "a secret was stored"
    );

    let c = "records are listed by service, time and limit";
    let of_a = ok(
        c,
        log.list(&AuditFilter {
            service: Some("contract-a".into()),
            ..Default::default()
        })
        .await,
    );
    check!(c, of_a.len() == 4, "{}", of_a.len());
    let since = ok(
        c,
        log.list(&AuditFilter {
            since: Some("2026-01-01T00:00:04Z".into()),
            ..Default::default()
        })
        .await,
    );
    check!(
        c,
        since.iter().map(|r| r.seq).collect::<Vec<_>>() == [4, 5],
        "{since:?}"
    );
    let limited = ok(
        c,
        log.list(&AuditFilter {
            limit: Some(2),
            ..Default::default()
        })
        .await,
    );
    check!(c, limited.len() == 2 && limited[0].seq == 1, "{limited:?}");

    let c = "the newest platform event of an operation is found";
    ok(
        c,
        log.append(AuditEvent {
            operation: "policy_load".into(),
            resource: "platform:x".into(),
            details: json!({"digest": "d1"}),
            ..event(6, "platform:x")
        })
        .await,
    );
    ok(
        c,
        log.append(AuditEvent {
            operation: "policy_load".into(),
            resource: "platform:x".into(),
            details: json!({"digest": "d2"}),
            ..event(7, "platform:x")
        })
        .await,
    );
    let last = ok(c, log.last_of("policy_load").await);
    check!(
        c,
        last.is_some_and(|e| e.details["digest"] == "d2"),
        "not the newest"
    );

    let c = "checkpoints sign the head and verify, against the log's key only";
    let cp = ok(c, log.checkpoint().await).expect("a non-empty log has a head");
    check!(c, cp.seq == 7, "{cp:?}");
    let v = ok(c, log.verify(&VerifyOptions::default()).await);
    check!(c, v.ok && v.checkpoints_verified >= 1, "{v:?}");
    check!(
        c,
        cp.public_key == log.public_key(),
        "signed with another key"
    );
    let other = "0".repeat(63) + "1";
    let wrong = log
        .verify(&VerifyOptions {
            trusted_key: Some(other),
            ..Default::default()
        })
        .await;
    check!(
        c,
        wrong.map(|r| !r.ok).unwrap_or(true),
        "a foreign key verified the checkpoints"
    );

    let c = "every append signs the new head, and exported checkpoints are checked";
    ok(c, log.append(event(8, "service:contract-a")).await);
    let cps = ok(c, log.checkpoints().await);
    check!(
        c,
        cps.iter().map(|c| c.seq).max() == Some(8),
        "the head (8) is not signed: {cps:?}"
    );
    let v = ok(
        c,
        log.verify(&VerifyOptions {
            anchors: vec![cp.clone()],
            ..Default::default()
        })
        .await,
    );
    check!(c, v.ok, "a true exported checkpoint failed: {v:?}");
    let mut forged = cp.clone();
    forged.hash = "f".repeat(64);
    let v = ok(
        c,
        log.verify(&VerifyOptions {
            anchors: vec![forged],
            ..Default::default()
        })
        .await,
    );
    check!(
        c,
        !v.ok,
        "an exported checkpoint that does not match verified"
    );

    let c = "appends from many tasks at once form one chain";
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let log = log.clone();
            tokio::spawn(async move {
                for i in 0..10 {
                    log.append(event(100 + t * 10 + i, "service:contract-c"))
                        .await?;
                }
                crate::Result::Ok(())
            })
        })
        .collect();
    for t in tasks {
        ok(c, t.await.expect("the task ran"));
    }
    let v = ok(c, log.verify(&VerifyOptions::default()).await);
    check!(c, v.ok && v.records == 88, "{v:?}");

    let c = "the log survives reopening";
    let again = open().await;
    let v = ok(c, again.verify(&VerifyOptions::default()).await);
    check!(c, v.ok && v.records == 88, "{v:?}");
}
