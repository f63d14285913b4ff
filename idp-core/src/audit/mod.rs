//! The audit log: every operation, plan, denial, waiver action and policy load appends one
//! record, allowed or denied. Records form a hash chain — each record's `hash` is the SHA-256 of
//! the canonical JSON `{"event": …, "prev_hash": …, "seq": …}` — so an edit, deletion,
//! insertion or reordering anywhere is found by [`verify`](AuditLog::verify), which names the
//! first bad record. Signed checkpoints (ed25519) let an auditor check a prefix against a key.
//!
//! Secret-like values are redacted before hashing, so they never reach the store.

mod memory;
mod sqlite;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use memory::MemoryAuditLog;
pub use sqlite::{CHECKPOINT_EVERY, SqliteAuditLog};

use crate::error::Result;

/// The hash that precedes the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, as the engine reports it (before sequencing and hashing).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuditEvent {
    /// RFC 3339 UTC.
    pub time: String,
    /// `user:default/alice`
    pub principal: String,
    /// `run_golden_path`, `plan`, `request_waiver`, `policy_load`, ...
    pub operation: String,
    /// What it acted on: `service:payments-api` (waiver actions too, with the waiver id in
    /// `waivers`), or `platform:…` for policy loads.
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
    /// SHA-256 of the platform folder whose policies made the decision
    /// (`PlatformDef::digest`). Empty in records written before it was kept.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub platform: String,
}

/// A sequenced, hash-chained record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuditRecord {
    pub seq: u64,
    pub prev_hash: String,
    pub hash: String,
    pub event: AuditEvent,
}

/// A signed statement "record `seq` has hash `hash`".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BadRecord {
    /// The sequence number expected at this position.
    pub seq: u64,
    pub reason: String,
}

/// What to verify a log against.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VerifyOptions {
    /// The ed25519 public key (hex) checkpoints must be signed with; default: the log's own key.
    /// An auditor passes the key they trust, so a rewrite signed with another key fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_key: Option<String>,
    /// Checkpoints exported earlier to a place outside the workspace (`idp audit export`): each
    /// must still match the chain, so deleting or rewriting records up to any of them, even
    /// together with the checkpoints stored in the log, is detected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anchors: Vec<Checkpoint>,
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

/// Where audit records go. Appends are durable when they return, and appends from every thread,
/// process or replica form one chain. `idp_core::testing` (feature `testing`) has the contract
/// every implementation must pass.
#[async_trait::async_trait]
pub trait AuditLog: Send + Sync {
    /// The `kind:` string that selects this log.
    fn kind(&self) -> &'static str;
    /// Appends one event; returns the sequenced record.
    async fn append(&self, event: AuditEvent) -> Result<AuditRecord>;
    /// Appends events in one durable transaction (group commit).
    async fn append_batch(&self, events: Vec<AuditEvent>) -> Result<Vec<AuditRecord>>;
    /// Records in sequence order.
    async fn list(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>>;
    /// The newest platform-level event of `operation` (such as `policy_load`), if any.
    async fn last_of(&self, operation: &str) -> Result<Option<AuditEvent>>;
    /// Appends the platform-level `event` unless the newest event of its operation has the same
    /// `details[key]` (a `policy_load` of unchanged policies). Implementations that can make
    /// this atomic across processes should (the SQLite log does, in one write transaction); this
    /// default checks, then appends.
    async fn append_if_changed(&self, event: AuditEvent, key: &str) -> Result<Option<AuditRecord>> {
        let last = self.last_of(&event.operation).await?;
        if last.is_some_and(|l| l.details.get(key) == event.details.get(key)) {
            return Ok(None);
        }
        self.append(event).await.map(Some)
    }
    /// Checks the whole chain, every checkpoint's signature against `opts.trusted_key` (hex
    /// ed25519; the log's own key when `None`), that the head is signed, and every exported
    /// checkpoint in `opts.anchors`. Reads only: it never writes to the log it checks.
    async fn verify(&self, opts: &VerifyOptions) -> Result<VerifyReport>;
    /// Signs the current head. (Every append signs the new head already; this is for logs
    /// written before that.)
    async fn checkpoint(&self) -> Result<Option<Checkpoint>>;
    /// Every checkpoint, oldest first.
    async fn checkpoints(&self) -> Result<Vec<Checkpoint>>;
    /// The public key checkpoints are signed with (hex ed25519).
    fn public_key(&self) -> String;
}

/// A checkpoint of record `seq` with `hash`, signed with `key` now.
pub fn sign_checkpoint(key: &ed25519_dalek::SigningKey, seq: u64, hash: &str) -> Checkpoint {
    use ed25519_dalek::Signer;
    let sig = key.sign(checkpoint_message(seq, hash).as_bytes());
    Checkpoint {
        seq,
        hash: hash.to_string(),
        signed_at: crate::time::system_now(),
        public_key: hex::encode(key.verifying_key().as_bytes()),
        signature: hex::encode(sig.to_bytes()),
    }
}

/// Checks `checkpoints` (the log's own) and `anchors` (exported ones) against a verified chain
/// (`report`, with the hashes of the records they name in `hashes`) and the `trusted_key` (hex):
/// a bad signature, a hash that differs from the chain, a checkpoint past the end of the log
/// (truncated), or records after the last signed one (appended without the key, or the signed
/// tail was deleted) make the report fail.
pub fn check_checkpoints(
    report: &mut VerifyReport,
    checkpoints: &[Checkpoint],
    anchors: &[Checkpoint],
    hashes: &std::collections::HashMap<u64, String>,
    trusted_key: &str,
) -> Result<()> {
    use ed25519_dalek::Verifier;
    let key_bytes: [u8; 32] = hex::decode(trusted_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| crate::Error::invalid("the trusted key must be 32 bytes of hex"))?;
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&key_bytes)
        .map_err(|e| crate::Error::invalid(format!("bad public key: {e}")))?;
    // A broken chain is reported where it breaks; what comes after it is not judged.
    let chain_intact = report.ok;
    let fail = |report: &mut VerifyReport, seq: u64, reason: String| {
        if report.ok || report.first_bad.as_ref().is_some_and(|b| b.seq > seq) {
            report.ok = false;
            report.first_bad = Some(BadRecord { seq, reason });
        }
    };
    let all = checkpoints
        .iter()
        .map(|c| (c, false))
        .chain(anchors.iter().map(|c| (c, true)));
    for (cp, exported) in all {
        let what = if exported {
            "exported checkpoint"
        } else {
            "checkpoint"
        };
        let sig_ok = hex::decode(&cp.signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .map(|b| ed25519_dalek::Signature::from_bytes(&b))
            .is_some_and(|sig| {
                vk.verify(checkpoint_message(cp.seq, &cp.hash).as_bytes(), &sig)
                    .is_ok()
            });
        if !sig_ok {
            fail(
                report,
                cp.seq,
                format!("{what} signature does not verify with the trusted key"),
            );
        } else if cp.seq > report.records {
            fail(
                report,
                report.records + 1,
                format!(
                    "records up to {} were signed ({what}) but the log ends at {}: the tail was deleted",
                    cp.seq, report.records
                ),
            );
        } else if hashes.get(&cp.seq) != Some(&cp.hash) {
            fail(
                report,
                cp.seq,
                format!("record hash differs from the signed {what} (the chain was rewritten)"),
            );
        } else {
            report.checkpoints_verified += 1;
        }
    }
    // Every append signs the new head, so the last record is always signed: unsigned records at
    // the end were appended by someone without the key (or the signed tail was cut off and new
    // records forged after it).
    let signed_to = checkpoints
        .iter()
        .chain(anchors)
        .map(|c| c.seq)
        .filter(|s| *s <= report.records)
        .max()
        .unwrap_or(0);
    if chain_intact && report.records > signed_to {
        fail(
            report,
            signed_to + 1,
            format!(
                "records {}..={} are not covered by a signed checkpoint: appended without the \
                 signing key, or their signatures were deleted",
                signed_to + 1,
                report.records
            ),
        );
    }
    Ok(())
}

/// Checks that the `time` and `resource` stored beside a record (for filtering) are the ones its
/// hashed event holds: moving a record to another service would hide it from `audit list
/// --service` without touching the hash. `event` is the canonical JSON, which ends with
/// `,"resource":R,"time":T,"waivers":[...]}`.
pub fn stored_columns_match(event: &str, time: &str, resource: &str) -> bool {
    let Some(at) = event.rfind(",\"resource\":") else {
        return false;
    };
    let expected = format!(
        ",\"resource\":{},\"time\":{},\"waivers\":",
        serde_json::to_string(resource).unwrap_or_default(),
        serde_json::to_string(time).unwrap_or_default()
    );
    event[at..].starts_with(&expected)
}

/// `--since` as stored times compare: RFC 3339 UTC with milliseconds. A date alone
/// (`2026-11-28`) means its start, in UTC.
pub fn since_filter(since: Option<&str>) -> Result<Option<String>> {
    since
        .map(|s| {
            let t = chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&chrono::Utc))
                .or_else(|_| {
                    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
                });
            t.map(crate::time::rfc3339).map_err(|_| {
                crate::Error::invalid(format!(
                    "--since {} is not a date (2026-11-26) or an RFC 3339 time (2026-11-26T10:00:00Z)",
                    crate::naming::shown(s)
                ))
                .with("field", "since")
            })
        })
        .transpose()
}

/// Opens the audit log `cfg` selects (by default, the kind of the state store), with local files
/// under `workspace`.
pub async fn open(
    cfg: Option<&crate::config::AuditConfig>,
    state: &crate::config::StateConfig,
    workspace: &std::path::Path,
) -> Result<std::sync::Arc<dyn AuditLog>> {
    let cfg = cfg.cloned().unwrap_or(match state {
        crate::config::StateConfig::Sqlite {} => crate::config::AuditConfig::Sqlite {},
    });
    match cfg {
        crate::config::AuditConfig::Sqlite {} => {
            let (db, key) = (
                workspace.join("audit.db"),
                workspace.join("audit-signing.key"),
            );
            Ok(std::sync::Arc::new(
                crate::runtime::unblock(move || SqliteAuditLog::open(&db, &key)).await?,
            ))
        }
    }
}

/// Appends `cp` as one JSON line to `to`, a file outside `workspace` (whoever can rewrite the log
/// could rewrite a copy inside it too), durably. What `idp audit export` writes.
pub fn export_checkpoint(
    workspace: &std::path::Path,
    to: &std::path::Path,
    cp: &Checkpoint,
) -> Result<()> {
    let ws = std::fs::canonicalize(workspace)?;
    let dir = match to.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => std::fs::canonicalize(d)?,
        None => std::env::current_dir()?,
    };
    if dir.starts_with(&ws) {
        return Err(crate::Error::invalid(format!(
            "{} is inside the workspace: whoever can rewrite the log can rewrite it too; export \
             to a place the workspace's users cannot write",
            to.display()
        ))
        .with("field", "to"));
    }
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(to)?;
    writeln!(f, "{}", serde_json::to_string(cp)?)?;
    f.sync_all()?;
    Ok(())
}

/// The checkpoints [`export_checkpoint`] appended to `file` (one JSON object per line).
pub fn read_exported(file: &std::path::Path) -> Result<Vec<Checkpoint>> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        crate::Error::invalid(format!("cannot read checkpoints {}: {e}", file.display()))
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|_| {
                crate::Error::invalid(format!(
                    "{}:{}: not a checkpoint exported by idp audit export",
                    file.display(),
                    i + 1
                ))
            })
        })
        .collect()
}

/// Verifies the audit log of `workspace` (the kind `cfg` selects, as [`open`] does) without
/// writing anything, so an auditor can check a read-only copy. With no `opts.trusted_key`, the
/// workspace's own signing key is used if it can be read. Blocks the calling thread.
pub fn verify_workspace(
    cfg: Option<&crate::config::AuditConfig>,
    state: &crate::config::StateConfig,
    workspace: &std::path::Path,
    opts: &VerifyOptions,
) -> Result<VerifyReport> {
    let cfg = cfg.cloned().unwrap_or(match state {
        crate::config::StateConfig::Sqlite {} => crate::config::AuditConfig::Sqlite {},
    });
    match cfg {
        crate::config::AuditConfig::Sqlite {} => {
            let mut opts = opts.clone();
            if opts.trusted_key.is_none()
                && let Ok(text) = std::fs::read_to_string(workspace.join("audit-signing.key"))
                && let Some(seed) = hex::decode(text.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
            {
                let key = ed25519_dalek::SigningKey::from_bytes(&seed);
                opts.trusted_key = Some(hex::encode(key.verifying_key().as_bytes()));
            }
            SqliteAuditLog::open_read_only(&workspace.join("audit.db"))?.verify_here(&opts)
        }
    }
}

/// The exact bytes that are hashed for a record: the canonical JSON of
/// `{"event": EVENT, "prev_hash": PREV, "seq": SEQ}`, built by concatenation from the event's
/// canonical JSON so verification never re-parses.
pub fn hashed_bytes(seq: u64, prev_hash: &str, event_canonical: &str) -> String {
    format!("{{\"event\":{event_canonical},\"prev_hash\":\"{prev_hash}\",\"seq\":{seq}}}")
}

/// The hash of a record.
pub fn record_hash(seq: u64, prev_hash: &str, event_canonical: &str) -> String {
    let mut hex = [0u8; 64];
    record_hash_into(seq, prev_hash, event_canonical, &mut hex);
    String::from_utf8(hex.to_vec()).expect("hex is ASCII")
}

/// [`record_hash`] without allocating: hashes the pieces of [`hashed_bytes`] incrementally and
/// writes lowercase hex into `out` (verification runs this once per record).
pub fn record_hash_into(seq: u64, prev_hash: &str, event_canonical: &str, out: &mut [u8; 64]) {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"{\"event\":");
    h.update(event_canonical.as_bytes());
    h.update(b",\"prev_hash\":\"");
    h.update(prev_hash.as_bytes());
    h.update(b"\",\"seq\":");
    h.update(seq.to_string().as_bytes());
    h.update(b"}");
    hex::encode_to_slice(h.finalize(), out).expect("64 hex digits fit");
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
    /// A verifier that starts at record `seq`, trusting `prev_hash` as the hash before it (for
    /// verifying a chain in segments; the previous segment checks that hash).
    pub fn starting_at(seq: u64, prev_hash: &str) -> ChainVerifier {
        ChainVerifier {
            prev: prev_hash.to_string(),
            expected: seq,
        }
    }

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
        let mut computed = [0u8; 64];
        record_hash_into(seq, &self.prev, event_canonical, &mut computed);
        if computed.as_slice() != hash.as_bytes() {
            let computed = String::from_utf8_lossy(&computed);
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

/// Replaces the values of secret-like keys (by name, and any key in `extra`) with `***`, at any
/// depth. Applied to every event before it is hashed and stored; the same redaction as every
/// other output ([`redact_secrets`](crate::golden_path::params::redact_secrets)).
pub fn redact(value: &Value, extra: &dyn Fn(&str) -> bool) -> Value {
    crate::golden_path::params::redact_secrets(value, extra)
}

impl AuditEvent {
    /// A copy with secret-like values of its free-form parts redacted: what is stored.
    pub fn redacted(&self) -> AuditEvent {
        let mut e = self.clone();
        e.details = redact(&e.details, &|_| false);
        e
    }

    /// The canonical JSON of an already redacted event. Written field by field in sorted key
    /// order (appends run this for every record); byte-identical to
    /// `canonical_json(to_value(self))`, which a test checks.
    pub fn canonical_of_redacted(&self) -> String {
        fn string(out: &mut String, s: &str) {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '\u{8}' => out.push_str("\\b"),
                    '\u{c}' => out.push_str("\\f"),
                    c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        fn strings(out: &mut String, items: &[String]) {
            out.push('[');
            for (i, s) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(out, s);
            }
            out.push(']');
        }
        let mut out = String::with_capacity(384);
        out.push_str("{\"artifacts\":");
        out.push_str(&crate::digest::canonical_json(&Value::Array(
            self.artifacts.clone(),
        )));
        out.push_str(",\"correlation_id\":");
        string(&mut out, &self.correlation_id);
        out.push_str(",\"decision\":");
        string(&mut out, &self.decision);
        out.push_str(",\"details\":");
        out.push_str(&crate::digest::canonical_json(&self.details));
        out.push_str(",\"input_digest\":");
        string(&mut out, &self.input_digest);
        out.push_str(",\"operation\":");
        string(&mut out, &self.operation);
        out.push_str(",\"outcome\":");
        string(&mut out, &self.outcome);
        if !self.platform.is_empty() {
            out.push_str(",\"platform\":");
            string(&mut out, &self.platform);
        }
        out.push_str(",\"policies\":");
        strings(&mut out, &self.policies);
        out.push_str(",\"principal\":");
        string(&mut out, &self.principal);
        out.push_str(",\"resource\":");
        string(&mut out, &self.resource);
        out.push_str(",\"time\":");
        string(&mut out, &self.time);
        out.push_str(",\"waivers\":");
        strings(&mut out, &self.waivers);
        out.push('}');
        out
    }

    /// The event's canonical JSON, after redaction of its free-form parts.
    pub fn canonical(&self) -> String {
        self.redacted().canonical_of_redacted()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_date_or_a_time() {
        assert_eq!(
            since_filter(Some("2026-11-28")).unwrap().unwrap(),
            "2026-11-28T00:00:00.000Z"
        );
        assert_eq!(
            since_filter(Some("2026-11-28T10:00:00+01:00"))
                .unwrap()
                .unwrap(),
            "2026-11-28T09:00:00.000Z"
        );
        assert!(since_filter(Some("yesterday")).is_err());
    }

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

    proptest::proptest! {
        /// The hand-written canonical form is exactly the generic canonical JSON of the event.
        #[test]
        fn fast_canonical_equals_generic_canonical(
            texts in proptest::collection::vec("\\PC{0,12}|[\\x00-\\x1f\"\\\\]{0,4}", 8),
            n in 0usize..3,
        ) {
            let ev = AuditEvent {
                time: texts[0].clone(),
                principal: texts[1].clone(),
                operation: texts[2].clone(),
                resource: texts[3].clone(),
                input_digest: texts[4].clone(),
                decision: texts[5].clone(),
                policies: texts.iter().take(n).cloned().collect(),
                waivers: texts.iter().skip(n).take(n).cloned().collect(),
                outcome: texts[6].clone(),
                artifacts: vec![serde_json::json!({"path": texts[7], "sha256": "x"}); n],
                correlation_id: texts[7].clone(),
                details: serde_json::json!({"b": texts[0], "a": [1, texts[1]]}),
                // Empty (older records) and set.
                platform: if n == 1 { String::new() } else { texts[3].clone() },
            };
            let generic = crate::digest::canonical_json(&serde_json::to_value(&ev).unwrap());
            proptest::prop_assert_eq!(ev.canonical_of_redacted(), generic);
        }
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
