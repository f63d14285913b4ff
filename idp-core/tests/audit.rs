//! The audit chain on a real SQLite database: appends, group commit, and tamper detection.

use std::path::Path;
use std::sync::Arc;

use idp_core::audit::{AuditEvent, AuditFilter, AuditLog, SqliteAuditLog, VerifyOptions};
use proptest::prelude::*;
use rusqlite::Connection;

/// Runs an audit call to completion here: outside a tokio runtime the SQLite log works inline,
/// so the future is ready at its first poll.
fn now<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

fn event(i: usize) -> AuditEvent {
    AuditEvent {
        time: format!("2026-11-26T10:00:{:02}.000Z", i % 60),
        principal: "user:default/alice".into(),
        operation: "run_golden_path".into(),
        resource: format!("service:svc-{}", i % 3),
        input_digest: format!("{i:064x}"),
        decision: "allow".into(),
        policies: vec!["owner-non-protected".into()],
        outcome: "completed".into(),
        correlation_id: format!("run-{i}"),
        details: serde_json::json!({"i": i, "api_token": "s3cr3t-value"}),
        ..Default::default()
    }
}

fn open(dir: &Path) -> SqliteAuditLog {
    let log = SqliteAuditLog::open(&dir.join("audit.db"), &dir.join("audit.key")).unwrap();
    // Every other open verifies in parallel segments, so tampering is tested at segment boundaries.
    if std::env::var("IDP_TEST_SERIAL_VERIFY").is_err() && rand_parallel() {
        log.set_parallel_verify_from(0);
    }
    log
}

/// Half of the opens verify in segments (alternating), so both paths meet every tampering case.
fn rand_parallel() -> bool {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed) % 2 == 1
}

fn filled(dir: &Path, n: usize) -> SqliteAuditLog {
    let log = open(dir);
    now(log.append_batch((0..n).map(event).collect())).unwrap();
    log
}

fn tamper(dir: &Path, sql: &str) {
    let c = Connection::open(dir.join("audit.db")).unwrap();
    c.execute_batch(sql).unwrap();
}

#[test]
fn an_untouched_log_verifies_and_secrets_never_reach_the_database() {
    let d = tempfile::tempdir().unwrap();
    let log = filled(d.path(), 50);
    let r = now(log.verify(&VerifyOptions::default())).unwrap();
    assert!(r.ok && r.records == 50, "{r:?}");
    drop(log);
    let bytes = std::fs::read(d.path().join("audit.db")).unwrap();
    let wal = std::fs::read(d.path().join("audit.db-wal")).unwrap_or_default();
    for b in [bytes, wal] {
        assert!(
            !b.windows(12).any(|w| w == b"s3cr3t-value"),
            "secret in the audit store"
        );
    }
}

#[test]
fn editing_any_record_is_detected_and_named() {
    let d = tempfile::tempdir().unwrap();
    filled(d.path(), 20);
    tamper(
        d.path(),
        "UPDATE audit SET event = replace(event, 'alice', 'mallory') WHERE seq = 7",
    );
    let r = now(open(d.path()).verify(&VerifyOptions::default())).unwrap();
    assert!(!r.ok);
    assert_eq!(r.first_bad.unwrap().seq, 7);
}

#[test]
fn deleting_a_record_is_detected() {
    let d = tempfile::tempdir().unwrap();
    filled(d.path(), 20);
    tamper(d.path(), "DELETE FROM audit WHERE seq = 11");
    let r = now(open(d.path()).verify(&VerifyOptions::default())).unwrap();
    assert_eq!(r.first_bad.unwrap().seq, 11);
}

#[test]
fn swapping_two_records_is_detected() {
    let d = tempfile::tempdir().unwrap();
    filled(d.path(), 20);
    tamper(
        d.path(),
        "UPDATE audit SET seq = -1 WHERE seq = 5; UPDATE audit SET seq = 5 WHERE seq = 6; \
         UPDATE audit SET seq = 6 WHERE seq = -1;",
    );
    let r = now(open(d.path()).verify(&VerifyOptions::default())).unwrap();
    assert_eq!(r.first_bad.unwrap().seq, 5);
}

#[test]
fn rewriting_the_tail_consistently_is_caught_by_the_signed_checkpoint() {
    let d = tempfile::tempdir().unwrap();
    let log = filled(d.path(), 10);
    now(log.checkpoint()).unwrap().unwrap();
    drop(log);
    // An attacker with database access but not the signing key rewrites record 3 and re-chains
    // everything after it so that every hash link is consistent again.
    let c = Connection::open(d.path().join("audit.db")).unwrap();
    let rows: Vec<(u64, String)> = c
        .prepare("SELECT seq, event FROM audit ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let mut prev = idp_core::audit::GENESIS.to_string();
    for (seq, ev) in rows {
        let ev = if seq == 3 {
            ev.replace("alice", "mallory")
        } else {
            ev
        };
        let h = idp_core::audit::record_hash(seq, &prev, &ev);
        c.execute(
            "UPDATE audit SET event = ?2, prev_hash = ?3, hash = ?4 WHERE seq = ?1",
            rusqlite::params![seq, ev, prev, h],
        )
        .unwrap();
        prev = h;
    }
    drop(c);
    let r = now(open(d.path()).verify(&VerifyOptions::default())).unwrap();
    assert!(!r.ok, "{r:?}");
    assert_eq!(r.first_bad.unwrap().seq, 10);
}

#[test]
fn checkpoints_verify_only_with_the_right_key() {
    let d = tempfile::tempdir().unwrap();
    let log = filled(d.path(), 5);
    now(log.checkpoint()).unwrap();
    assert!(
        now(log.verify(&VerifyOptions::default()))
            .unwrap()
            .checkpoints_verified
            >= 1
    );
    let other = tempfile::tempdir().unwrap();
    let stranger = open(other.path()).public_key();
    let r = now(log.verify(&VerifyOptions {
        trusted_key: Some(stranger),
        ..Default::default()
    }))
    .unwrap();
    assert!(!r.ok);
}

#[test]
fn concurrent_appenders_share_one_gapless_chain() {
    let d = tempfile::tempdir().unwrap();
    let log = Arc::new(open(d.path()));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    now(log.append(event(t * 100 + i))).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let r = now(log.verify(&VerifyOptions::default())).unwrap();
    assert!(r.ok && r.records == 400, "{r:?}");
    let svc0 = now(log.list(&AuditFilter {
        service: Some("svc-0".into()),
        ..Default::default()
    }))
    .unwrap();
    assert!(!svc0.is_empty() && svc0.iter().all(|r| r.event.resource == "service:svc-0"));
}

proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any single edit, deletion or swap anywhere in a chain of any length is found, at the
    /// first position it affects.
    #[test]
    fn any_single_tampering_is_detected(n in 2usize..40, pick in 0usize..1000, kind in 0u8..3) {
        let d = tempfile::tempdir().unwrap();
        filled(d.path(), n);
        let k = (pick % n) as u64 + 1;
        let expected = match kind {
            0 => { tamper(d.path(), &format!("UPDATE audit SET event = replace(event, 'completed', 'denied') WHERE seq = {k}")); k }
            1 => { tamper(d.path(), &format!("DELETE FROM audit WHERE seq = {k}")); if k as usize == n { 0 } else { k } }
            _ => {
                let j = if k as usize == n { k - 1 } else { k + 1 };
                tamper(d.path(), &format!("UPDATE audit SET seq = -1 WHERE seq = {k}; UPDATE audit SET seq = {k} WHERE seq = {j}; UPDATE audit SET seq = {j} WHERE seq = -1;"));
                k.min(j)
            }
        };
        let r = now(open(d.path()).verify(&VerifyOptions::default())).unwrap();
        if expected == 0 {
            // Dropping the newest record leaves a valid shorter chain; the head's signature
            // (every append signs it) catches it.
            prop_assert!(!r.ok);
            prop_assert_eq!(r.records as usize, n - 1);
        } else {
            prop_assert!(!r.ok);
            prop_assert_eq!(r.first_bad.unwrap().seq, expected);
        }
    }
}

#[test]
fn moving_a_record_to_another_service_is_detected() {
    let d = tempfile::tempdir().unwrap();
    filled(d.path(), 6);
    tamper(
        d.path(),
        "UPDATE audit SET resource = 'service:elsewhere' WHERE seq = 4",
    );
    let r = now(open(d.path()).verify(&VerifyOptions::default())).unwrap();
    assert!(!r.ok, "{r:?}");
    assert_eq!(r.first_bad.as_ref().unwrap().seq, 4, "{r:?}");
    let d = tempfile::tempdir().unwrap();
    filled(d.path(), 6);
    tamper(
        d.path(),
        "UPDATE audit SET time = '2020-01-01T00:00:00.000Z' WHERE seq = 2",
    );
    let r = now(open(d.path()).verify(&VerifyOptions::default())).unwrap();
    assert_eq!(r.first_bad.as_ref().map(|b| b.seq), Some(2), "{r:?}");
}

#[test]
fn a_forged_append_and_deleted_checkpoints_are_detected() {
    // An attacker without the key appends a well-chained record.
    let d = tempfile::tempdir().unwrap();
    let log = filled(d.path(), 5);
    let head = now(log.verify(&VerifyOptions::default())).unwrap().head;
    drop(log);
    let mut forged = event(99);
    forged.principal = "user:default/mallory".into();
    let canon = forged.redacted().canonical_of_redacted();
    let hash = idp_core::audit::record_hash(6, &head, &canon);
    let c = Connection::open(d.path().join("audit.db")).unwrap();
    c.execute(
        "INSERT INTO audit (seq, prev_hash, hash, time, resource, event) VALUES (6, ?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![head, hash, forged.time, forged.resource, canon],
    )
    .unwrap();
    drop(c);
    let r = now(open(d.path()).verify(&VerifyOptions::default())).unwrap();
    assert!(!r.ok, "{r:?}");
    assert_eq!(r.first_bad.unwrap().seq, 6);
    // Deleting every checkpoint, with the auditor's key given, fails too.
    let d = tempfile::tempdir().unwrap();
    let log = filled(d.path(), 5);
    let key = log.public_key();
    drop(log);
    tamper(d.path(), "DELETE FROM audit_checkpoints");
    let r = now(open(d.path()).verify(&VerifyOptions {
        trusted_key: Some(key),
        ..Default::default()
    }))
    .unwrap();
    assert!(!r.ok, "{r:?}");
}

#[test]
fn truncation_beyond_the_kept_checkpoints_is_caught_by_an_exported_one() {
    let d = tempfile::tempdir().unwrap();
    let log = filled(d.path(), 1004);
    let exported = now(log.checkpoints())
        .unwrap()
        .into_iter()
        .max_by_key(|c| c.seq)
        .unwrap();
    assert_eq!(exported.seq, 1004, "every append signs the head");
    drop(log);
    // Cut the log back to the last every-1000th checkpoint, and the head's signature with it.
    tamper(
        d.path(),
        "DELETE FROM audit WHERE seq > 1000; DELETE FROM audit_checkpoints WHERE seq > 1000;",
    );
    let log = open(d.path());
    let alone = now(log.verify(&VerifyOptions::default())).unwrap();
    assert!(alone.ok, "what the log alone cannot tell: {alone:?}");
    let r = now(log.verify(&VerifyOptions {
        anchors: vec![exported],
        ..Default::default()
    }))
    .unwrap();
    assert!(!r.ok, "{r:?}");
    assert!(r.first_bad.unwrap().reason.contains("tail was deleted"));
}

#[test]
fn verification_reads_only() {
    let d = tempfile::tempdir().unwrap();
    let log = filled(d.path(), 20);
    let key = log.public_key();
    drop(log);
    // A copy of the database alone, as an auditor would receive it.
    let copy = tempfile::tempdir().unwrap();
    let c = Connection::open(d.path().join("audit.db")).unwrap();
    c.execute(
        "VACUUM INTO ?1",
        [copy.path().join("audit.db").to_str().unwrap()],
    )
    .unwrap();
    drop(c);
    let before = std::fs::read(copy.path().join("audit.db")).unwrap();
    let ro = SqliteAuditLog::open_read_only(&copy.path().join("audit.db")).unwrap();
    let r = ro
        .verify_here(&VerifyOptions {
            trusted_key: Some(key),
            ..Default::default()
        })
        .unwrap();
    assert!(r.ok && r.records == 20, "{r:?}");
    assert!(
        now(ro.append(event(1))).is_err(),
        "a read-only log appended"
    );
    drop(ro);
    assert_eq!(before, std::fs::read(copy.path().join("audit.db")).unwrap());
    let names: Vec<String> = std::fs::read_dir(copy.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["audit.db"], "verification created files");
}
