//! The audit log: every operation, plan, denial, waiver action and policy load appends one
//! record, allowed or denied. Records form a hash chain — each record's `hash` is the SHA-256 of
//! the canonical JSON `{"event": …, "prev_hash": …, "seq": …}` — so an edit, deletion,
//! insertion or reordering anywhere is found by [`verify`](AuditLog::verify), which names the
//! first bad record. Signed checkpoints (ed25519) let an auditor check a prefix against a key.
//!
//! Secret-like values are redacted before hashing, so they never reach the store.

mod sqlite;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use sqlite::SqliteAuditLog;

use crate::digest::sha256_hex;
use crate::error::Result;

/// The hash that precedes the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, as the engine reports it (before sequencing and hashing).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// RFC 3339 UTC.
    pub time: String,
    /// `user:default/alice`
    pub principal: String,
    /// `run_golden_path`, `plan`, `request_waiver`, `policy_load`, ...
    pub operation: String,
    /// What it acted on: `service:payments-api`, `waiver:wv-…`, `platform:…`.
    pub resource: String,
    /// SHA-256 of the canonical, redacted request.
    pub input_digest: String,
    /// `allow`, `deny`, or `none` when no decision was needed.
    pub decision: String,
    /// Ids of the policies that decided.
    pub policies: Vec<String>,
    /// Waivers that turned a deny into an allowed exception.
    pub waivers: Vec<String>,
    /// `completed`, `denied`, `failed`, `planned`, `requested`, `approved`, `loaded`, ...
    pub outcome: String,
    /// `repo:path` -> sha256 of what was written.
    pub artifacts: Vec<Value>,
    /// Run id or another correlation id.
    pub correlation_id: String,
    /// Anything else worth keeping (redacted).
    pub details: Value,
}

/// A sequenced, hash-chained record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: u64,
    pub prev_hash: String,
    pub hash: String,
    pub event: AuditEvent,
}

/// A signed statement "record `seq` has hash `hash`".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: u64,
    pub hash: String,
    pub signed_at: String,
    /// Hex ed25519 public key.
    pub public_key: String,
    /// Hex ed25519 signature over [`checkpoint_message`].
    pub signature: String,
}

/// The result of verifying the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub records: u64,
    /// Last record's hash (the head of the chain).
    pub head: String,
    pub checkpoints_verified: u64,
    /// The first record (by position) that does not verify, and why.
    pub first_bad: Option<BadRecord>,
}

/// Where and why the chain breaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BadRecord {
    /// The sequence number expected at this position.
    pub seq: u64,
    pub reason: String,
}

/// Which records to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only records about this service (`service:NAME`).
    pub service: Option<String>,
    /// Only records at or after this RFC 3339 time.
    pub since: Option<String>,
    pub limit: Option<usize>,
}

/// Where audit records go. Appends are durable when they return.
pub trait AuditLog: Send + Sync {
    /// Appends one event; returns the sequenced record.
    fn append(&self, event: AuditEvent) -> Result<AuditRecord>;
    /// Appends events in one durable transaction (group commit).
    fn append_batch(&self, events: Vec<AuditEvent>) -> Result<Vec<AuditRecord>>;
    /// Records in sequence order.
    fn list(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>>;
    /// Checks the whole chain and every checkpoint signature.
    fn verify(&self) -> Result<VerifyReport>;
    /// Signs the current head.
    fn checkpoint(&self) -> Result<Option<Checkpoint>>;
    /// Every checkpoint, oldest first.
    fn checkpoints(&self) -> Result<Vec<Checkpoint>>;
}

/// The exact bytes that are hashed for a record: the canonical JSON of
/// `{"event": EVENT, "prev_hash": PREV, "seq": SEQ}`, built by concatenation from the event's
/// canonical JSON so verification never re-parses.
pub fn hashed_bytes(seq: u64, prev_hash: &str, event_canonical: &str) -> String {
    format!("{{\"event\":{event_canonical},\"prev_hash\":\"{prev_hash}\",\"seq\":{seq}}}")
}

/// The hash of a record.
pub fn record_hash(seq: u64, prev_hash: &str, event_canonical: &str) -> String {
    sha256_hex(hashed_bytes(seq, prev_hash, event_canonical).as_bytes())
}

/// What a checkpoint signs.
pub fn checkpoint_message(seq: u64, hash: &str) -> String {
    format!("idp-audit-checkpoint\n{seq}\n{hash}\n")
}

/// Checks records one at a time, in position order.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    prev: String,
    expected: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            prev: GENESIS.to_string(),
            expected: 1,
        }
    }
}

impl ChainVerifier {
    /// Checks the next record: its position, its link to the previous one, and its hash.
    pub fn push(
        &mut self,
        seq: u64,
        prev_hash: &str,
        hash: &str,
        event_canonical: &str,
    ) -> Result<(), BadRecord> {
        let expected = self.expected;
        let bad = |reason: String| {
            Err(BadRecord {
                seq: expected,
                reason,
            })
        };
        if seq != expected {
            return bad(format!(
                "expected record {expected} here, found {seq} (a record was deleted, inserted or moved)"
            ));
        }
        if prev_hash != self.prev {
            return bad(format!(
                "prev_hash {prev_hash} does not match the previous record's hash {}",
                self.prev
            ));
        }
        let computed = record_hash(seq, &self.prev, event_canonical);
        if computed != hash {
            return bad(format!(
                "content does not match its hash (edited): stored {hash}, computed {computed}"
            ));
        }
        self.prev.clear();
        self.prev.push_str(hash);
        self.expected += 1;
        Ok(())
    }

    /// Records verified so far.
    pub fn records(&self) -> u64 {
        self.expected - 1
    }

    /// Hash of the last verified record.
    pub fn head(&self) -> &str {
        &self.prev
    }

    /// The report for what was pushed, with `first_bad` when a push failed.
    pub fn report(&self, first_bad: Option<BadRecord>) -> VerifyReport {
        VerifyReport {
            ok: first_bad.is_none(),
            records: self.records(),
            head: self.prev.clone(),
            checkpoints_verified: 0,
            first_bad,
        }
    }
}

/// Verifies a chain given as `(seq, prev_hash, hash, event_canonical)` rows in position order.
pub fn verify_rows<'a>(
    rows: impl Iterator<Item = (u64, &'a str, &'a str, &'a str)>,
) -> VerifyReport {
    let mut v = ChainVerifier::default();
    for (seq, prev, hash, event) in rows {
        if let Err(bad) = v.push(seq, prev, hash, event) {
            return v.report(Some(bad));
        }
    }
    v.report(None)
}

const SECRET_VALUE: &str = "***";

/// Replaces the values of secret-like keys (by name, and any key in `extra`) with `***`, at any
/// depth. Applied to every event before it is hashed and stored.
pub fn redact(value: &Value, extra: &dyn Fn(&str) -> bool) -> Value {
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    if crate::golden_path::params::is_secret_key(k) || extra(k) {
                        (k.clone(), Value::String(SECRET_VALUE.into()))
                    } else {
                        (k.clone(), redact(v, extra))
                    }
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| redact(v, extra)).collect()),
        other => other.clone(),
    }
}

impl AuditEvent {
    /// The event's canonical JSON, after redaction of its free-form parts.
    pub fn canonical(&self) -> String {
        let mut e = self.clone();
        e.details = redact(&e.details, &|_| false);
        crate::digest::canonical_json(&serde_json::to_value(&e).expect("event serializes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_hash_is_the_sha256_of_the_canonical_record() {
        let ev = AuditEvent {
            principal: "user:default/a".into(),
            ..Default::default()
        };
        let canon = ev.canonical();
        let value = serde_json::json!({"seq": 1, "prev_hash": GENESIS, "event": serde_json::from_str::<Value>(&canon).unwrap()});
        assert_eq!(
            hashed_bytes(1, GENESIS, &canon),
            crate::digest::canonical_json(&value)
        );
    }

    #[test]
    fn redaction_reaches_nested_secret_keys() {
        let v =
            serde_json::json!({"a": {"db_password": "x", "list": [{"api_token": "y"}]}, "ok": 1});
        let r = redact(&v, &|_| false);
        assert_eq!(r["a"]["db_password"], "***");
        assert_eq!(r["a"]["list"][0]["api_token"], "***");
        assert_eq!(r["ok"], 1);
    }
}
