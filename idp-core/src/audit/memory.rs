//! [`MemoryAuditLog`]: the hash chain in memory, for embedders' tests. Same records, same hashes
//! and the same verification as the SQLite log; checkpoints are signed with a key made at start.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ed25519_dalek::SigningKey;

use super::{
    AuditEvent, AuditFilter, AuditLog, AuditRecord, ChainVerifier, Checkpoint, GENESIS,
    VerifyOptions, VerifyReport, check_checkpoints, record_hash, sign_checkpoint,
};
use crate::error::{Error, Result};

#[derive(Default)]
struct Chain {
    records: Vec<AuditRecord>,
    /// The stored canonical form of each record's event (what its hash covers).
    canonical: Vec<String>,
    checkpoints: Vec<Checkpoint>,
}

/// An audit log in memory; clones share it.
#[derive(Clone)]
pub struct MemoryAuditLog {
    chain: Arc<Mutex<Chain>>,
    key: Arc<SigningKey>,
}

impl MemoryAuditLog {
    pub fn new() -> Result<MemoryAuditLog> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| Error::internal(format!("no OS randomness: {e}")))?;
        Ok(MemoryAuditLog {
            chain: Default::default(),
            key: Arc::new(SigningKey::from_bytes(&seed)),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Chain) -> T) -> T {
        f(&mut self.chain.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[async_trait::async_trait]
impl AuditLog for MemoryAuditLog {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn append(&self, event: AuditEvent) -> Result<AuditRecord> {
        let mut out = self.append_batch(vec![event]).await?;
        out.pop()
            .ok_or_else(|| Error::internal("an append returned no record"))
    }

    async fn append_batch(&self, events: Vec<AuditEvent>) -> Result<Vec<AuditRecord>> {
        Ok(self.with(|c| {
            let mut out = Vec::with_capacity(events.len());
            for ev in events {
                let seq = c.records.len() as u64 + 1;
                let prev = c
                    .records
                    .last()
                    .map(|r| r.hash.clone())
                    .unwrap_or_else(|| GENESIS.to_string());
                let event = ev.redacted();
                let canon = event.canonical_of_redacted();
                let hash = record_hash(seq, &prev, &canon);
                if seq.is_multiple_of(super::CHECKPOINT_EVERY) {
                    c.checkpoints.push(sign_checkpoint(&self.key, seq, &hash));
                }
                let rec = AuditRecord {
                    seq,
                    prev_hash: prev,
                    hash,
                    event,
                };
                c.records.push(rec.clone());
                c.canonical.push(canon);
                out.push(rec);
            }
            // Every batch signs the new head (as the SQLite log does).
            if let Some(last) = c.records.last()
                && !last.seq.is_multiple_of(super::CHECKPOINT_EVERY)
            {
                let cp = sign_checkpoint(&self.key, last.seq, &last.hash);
                c.checkpoints
                    .retain(|x| x.seq.is_multiple_of(super::CHECKPOINT_EVERY));
                c.checkpoints.push(cp);
            }
            out
        }))
    }

    async fn list(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
        let since = super::since_filter(filter.since.as_deref())?;
        let resource = filter.service.as_ref().map(|s| format!("service:{s}"));
        Ok(self.with(|c| {
            c.records
                .iter()
                .filter(|r| resource.as_ref().is_none_or(|x| &r.event.resource == x))
                .filter(|r| since.as_ref().is_none_or(|s| &r.event.time >= s))
                .take(filter.limit.unwrap_or(usize::MAX))
                .cloned()
                .collect()
        }))
    }

    async fn last_of(&self, operation: &str) -> Result<Option<AuditEvent>> {
        Ok(self.with(|c| {
            c.records
                .iter()
                .rev()
                .find(|r| {
                    r.event.resource.starts_with("platform:") && r.event.operation == operation
                })
                .map(|r| r.event.clone())
        }))
    }

    async fn verify(&self, opts: &VerifyOptions) -> Result<VerifyReport> {
        let (mut report, hashes, checkpoints) = self.with(|c| {
            let mut v = ChainVerifier::default();
            let mut bad = None;
            for (r, canon) in c.records.iter().zip(&c.canonical) {
                if let Err(b) = v.push(r.seq, &r.prev_hash, &r.hash, canon) {
                    bad = Some(b);
                    break;
                }
            }
            let hashes: HashMap<u64, String> =
                c.records.iter().map(|r| (r.seq, r.hash.clone())).collect();
            (v.report(bad), hashes, c.checkpoints.clone())
        });
        let trusted = opts
            .trusted_key
            .clone()
            .unwrap_or_else(|| self.public_key());
        check_checkpoints(&mut report, &checkpoints, &opts.anchors, &hashes, &trusted)?;
        Ok(report)
    }

    async fn checkpoint(&self) -> Result<Option<Checkpoint>> {
        Ok(self.with(|c| {
            let last = c.records.last()?;
            let cp = sign_checkpoint(&self.key, last.seq, &last.hash);
            c.checkpoints.retain(|x| x.seq != cp.seq);
            c.checkpoints.push(cp.clone());
            Some(cp)
        }))
    }

    async fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        Ok(self.with(|c| c.checkpoints.clone()))
    }

    fn public_key(&self) -> String {
        hex::encode(self.key.verifying_key().as_bytes())
    }
}
