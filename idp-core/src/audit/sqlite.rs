//! The embedded [`AuditLog`]: an SQLite file in the workspace, appended with group commit — the
//! first of several concurrent appenders becomes the leader and writes everybody's events in
//! one durable transaction — and checkpointed with an ed25519 key kept in the workspace.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};

use ed25519_dalek::SigningKey;
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    AuditEvent, AuditFilter, AuditLog, AuditRecord, ChainVerifier, Checkpoint, GENESIS,
    VerifyOptions, VerifyReport, check_checkpoints, record_hash, sign_checkpoint,
};
use crate::error::{Error, Result};
use crate::runtime::unblock;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  time TEXT NOT NULL,
  resource TEXT NOT NULL,
  event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_resource ON audit(resource, seq);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  seq INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  signed_at TEXT NOT NULL,
  public_key TEXT NOT NULL,
  signature TEXT NOT NULL
);
";

/// Sign a checkpoint every this many records.
pub const CHECKPOINT_EVERY: u64 = 1000;

#[derive(Default)]
struct Queue {
    pending: Vec<(u64, AuditEvent)>,
    done: HashMap<u64, std::result::Result<AuditRecord, String>>,
    leader: bool,
    next_ticket: u64,
}

/// The result of verifying one segment of the chain.
struct Segment {
    records: u64,
    head: String,
    hashes: HashMap<u64, String>,
    bad: Option<super::BadRecord>,
}

/// The blocking log behind [`SqliteAuditLog`].
struct Db {
    path: std::path::PathBuf,
    /// Chains longer than this are verified in parallel segments.
    parallel_from: std::sync::atomic::AtomicU64,
    conn: Mutex<Connection>,
    queue: Mutex<Queue>,
    wake: Condvar,
    /// `None` when opened read-only for verification.
    key: Option<SigningKey>,
}

/// A read-only connection, also on a copy of the log in a read-only folder (where SQLite cannot
/// create the WAL index and a plain read-only open fails).
fn open_read_only(path: &Path) -> Result<Connection> {
    use rusqlite::OpenFlags;
    let plain = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).and_then(|c| {
        c.query_row("SELECT count(*) FROM audit", [], |_| Ok(()))
            .map(|_| c)
    });
    let conn = match plain {
        Ok(c) => c,
        Err(_) => {
            if !path.exists() {
                return Err(Error::not_found(format!(
                    "no audit log at {}",
                    path.display()
                )));
            }
            Connection::open_with_flags(
                format!("file:{}?immutable=1", path.display()),
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
            )?
        }
    };
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    Ok(conn)
}

impl Db {
    fn open(db: &Path, key_path: &Path) -> Result<Db> {
        // Durable: every commit reaches the disk before append returns.
        let conn = crate::state::open_wal(db, "FULL", SCHEMA, "audit")?;
        Ok(Db {
            path: db.to_path_buf(),
            parallel_from: std::sync::atomic::AtomicU64::new(100_000),
            conn: Mutex::new(conn),
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
            key: Some(SigningKey::from_bytes(&crate::digest::load_or_create_key(
                key_path,
            )?)),
        })
    }

    fn open_read_only(db: &Path) -> Result<Db> {
        Ok(Db {
            path: db.to_path_buf(),
            parallel_from: std::sync::atomic::AtomicU64::new(100_000),
            conn: Mutex::new(open_read_only(db)?),
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
            key: None,
        })
    }

    fn signing_key(&self) -> Result<&SigningKey> {
        self.key
            .as_ref()
            .ok_or_else(|| Error::invalid("this audit log was opened read-only"))
    }

    fn public_key(&self) -> String {
        self.key
            .as_ref()
            .map(|k| hex::encode(k.verifying_key().as_bytes()))
            .unwrap_or_default()
    }

    fn write_batch(&self, events: &[AuditEvent]) -> Result<Vec<AuditRecord>> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| Error::internal("audit lock poisoned"))?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = self.insert_batch(&tx, events)?;
        tx.commit()?;
        Ok(out)
    }

    /// Appends `event` unless the newest platform event of its operation has the same
    /// `details[key]`, in one write transaction (so concurrent processes append it once).
    fn append_if_changed(&self, event: &AuditEvent, key: &str) -> Result<Option<AuditRecord>> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| Error::internal("audit lock poisoned"))?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let last: Option<String> = tx
            .query_row(
                "SELECT event FROM audit WHERE resource LIKE 'platform:%' AND json_extract(event, '$.operation') = ?1 \
                 ORDER BY seq DESC LIMIT 1",
                [&event.operation],
                |r| r.get(0),
            )
            .optional()?;
        let last: Option<AuditEvent> = last.map(|e| serde_json::from_str(&e)).transpose()?;
        if last.is_some_and(|l| l.details.get(key) == event.details.get(key)) {
            return Ok(None);
        }
        let mut out = self.insert_batch(&tx, std::slice::from_ref(event))?;
        tx.commit()?;
        Ok(out.pop())
    }

    fn insert_batch(
        &self,
        tx: &rusqlite::Transaction<'_>,
        events: &[AuditEvent],
    ) -> Result<Vec<AuditRecord>> {
        let (mut seq, mut prev): (u64, String) = tx
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((0, GENESIS.to_string()));
        let mut out = Vec::with_capacity(events.len());
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO audit (seq, prev_hash, hash, time, resource, event) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for ev in events {
                seq += 1;
                let event = ev.redacted();
                let canon = event.canonical_of_redacted();
                let hash = record_hash(seq, &prev, &canon);
                ins.execute(params![seq, prev, hash, ev.time, ev.resource, canon])?;
                if seq % CHECKPOINT_EVERY == 0 {
                    self.insert_checkpoint(tx, seq, &hash)?;
                }

                out.push(AuditRecord {
                    seq,
                    prev_hash: std::mem::replace(&mut prev, hash.clone()),
                    hash,
                    event,
                });
            }
        }
        // Every batch signs the new head, in the same transaction: records after the last
        // signature can only come from someone without the key. Only the newest head signature
        // is kept beside the every-1000th ones.
        if seq % CHECKPOINT_EVERY != 0 && !events.is_empty() {
            tx.execute(
                "DELETE FROM audit_checkpoints WHERE seq % ?1 != 0",
                [CHECKPOINT_EVERY],
            )?;
            self.insert_checkpoint(tx, seq, &prev)?;
        }
        Ok(out)
    }

    fn insert_checkpoint(&self, conn: &Connection, seq: u64, hash: &str) -> Result<Checkpoint> {
        let cp = sign_checkpoint(self.signing_key()?, seq, hash);
        conn.execute(
            "INSERT OR REPLACE INTO audit_checkpoints (seq, hash, signed_at, public_key, signature) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![cp.seq, cp.hash, cp.signed_at, cp.public_key, cp.signature],
        )?;
        Ok(cp)
    }

    /// Verifies records `a..=b` (`first`: and anything before; `last`: and anything after).
    fn verify_segment(
        &self,
        a: u64,
        b: u64,
        first: bool,
        last: bool,
        wanted: &std::collections::HashSet<u64>,
    ) -> Result<Segment> {
        let conn = open_read_only(&self.path)?;
        let mut chain = if first {
            ChainVerifier::default()
        } else {
            let anchor: Option<String> = conn
                .query_row("SELECT hash FROM audit WHERE seq = ?1", [a - 1], |r| {
                    r.get(0)
                })
                .optional()?;
            // A missing anchor is reported by the previous segment (it ends early).
            ChainVerifier::starting_at(a, anchor.as_deref().unwrap_or(GENESIS))
        };
        let lo: i64 = if first { i64::MIN } else { a as i64 };
        let hi: i64 = if last { i64::MAX } else { b as i64 };
        let mut stmt =
            conn.prepare("SELECT seq, prev_hash, hash, event, time, resource FROM audit WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq")?;
        let mut rows = stmt.query(params![lo, hi])?;
        let mut hashes = HashMap::new();
        let mut bad = None;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let text = |i: usize| {
                r.get_ref(i)
                    .and_then(|v| v.as_str().map_err(rusqlite::Error::from))
            };
            let hash = text(2)?;
            if let Err(e) = chain.push(u64::try_from(seq).unwrap_or(0), text(1)?, hash, text(3)?) {
                bad = Some(e);
                break;
            }
            if !super::stored_columns_match(text(3)?, text(4)?, text(5)?) {
                bad = Some(super::BadRecord {
                    seq: seq as u64,
                    reason: "its stored time or resource differs from the hashed event (moved)"
                        .into(),
                });
                break;
            }
            if wanted.contains(&(seq as u64)) {
                hashes.insert(seq as u64, hash.to_string());
            }
        }
        if bad.is_none() && !last && chain.records() < b {
            bad = Some(super::BadRecord {
                seq: chain.records() + 1,
                reason: format!("record {} is missing (deleted)", chain.records() + 1),
            });
        }
        let records = chain.records() + 1 - a;
        Ok(Segment {
            records: if first { chain.records() } else { records },
            head: chain.head().to_string(),
            hashes,
            bad,
        })
    }

    /// Verify chains longer than `n` records in parallel segments (default 100,000). Tests set it
    /// low to exercise the segment boundaries.
    fn set_parallel_verify_from(&self, n: u64) {
        self.parallel_from
            .store(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// The newest event of `operation`, if any.
    fn last_of(&self, operation: &str) -> Result<Option<AuditEvent>> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| Error::internal("audit lock poisoned"))?;
        let ev: Option<String> = conn
            .query_row(
                "SELECT event FROM audit WHERE resource LIKE 'platform:%' AND json_extract(event, '$.operation') = ?1 \
                 ORDER BY seq DESC LIMIT 1",
                [operation],
                |r| r.get(0),
            )
            .optional()?;
        ev.map(|e| serde_json::from_str(&e).map_err(Error::from))
            .transpose()
    }

    /// Verifies the chain, every checkpoint against `opts.trusted_key` (hex; this workspace's key
    /// when `None`), and the exported checkpoints in `opts.anchors`.
    fn verify_with(&self, opts: &VerifyOptions) -> Result<VerifyReport> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| Error::internal("audit lock poisoned"))?;
        let cps = read_checkpoints(&conn)?;
        let wanted: std::collections::HashSet<u64> =
            cps.iter().chain(&opts.anchors).map(|c| c.seq).collect();
        let last: u64 =
            conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM audit", [], |r| r.get(0))?;
        drop(conn);
        // Long chains are verified in segments on every core; segment k starts from the stored
        // hash before it, which segment k-1 proves.
        let workers = if last
            > self
                .parallel_from
                .load(std::sync::atomic::Ordering::Relaxed)
        {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .clamp(1, 4) as u64
        } else {
            1
        };
        let bounds: Vec<(u64, u64)> = (0..workers)
            .map(|k| (1 + last * k / workers, last * (k + 1) / workers))
            .collect();
        let segments: Vec<Result<Segment>> = std::thread::scope(|s| {
            let handles: Vec<_> = bounds
                .iter()
                .enumerate()
                .map(|(k, (a, b))| {
                    let (first, final_) = (k == 0, k as u64 == workers - 1);
                    let wanted = &wanted;
                    s.spawn(move || self.verify_segment(*a, *b, first, final_, wanted))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(Error::internal("verify worker panicked")))
                })
                .collect()
        });
        let mut hashes: HashMap<u64, String> = HashMap::new();
        let mut records = 0u64;
        let mut head = GENESIS.to_string();
        let mut first_bad = None;
        for seg in segments {
            let seg = seg?;
            hashes.extend(seg.hashes);
            records += seg.records;
            if seg.records > 0 {
                head = seg.head;
            }
            if seg.bad.is_some() {
                first_bad = seg.bad;
                break;
            }
        }
        let mut report = VerifyReport {
            ok: first_bad.is_none(),
            records,
            head,
            checkpoints_verified: 0,
            first_bad,
        };
        let trusted = match &opts.trusted_key {
            Some(k) => k.clone(),
            None if self.key.is_some() => self.public_key(),
            None => {
                return Err(Error::invalid(
                    "give the public key to verify the checkpoints with (--key HEX): the \
                     workspace's signing key is not readable here",
                )
                .with("field", "key"));
            }
        };
        check_checkpoints(&mut report, &cps, &opts.anchors, &hashes, &trusted)?;
        Ok(report)
    }
}

fn read_checkpoints(conn: &Connection) -> Result<Vec<Checkpoint>> {
    let mut stmt = conn.prepare(
        "SELECT seq, hash, signed_at, public_key, signature FROM audit_checkpoints ORDER BY seq",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Checkpoint {
            seq: r.get(0)?,
            hash: r.get(1)?,
            signed_at: r.get(2)?,
            public_key: r.get(3)?,
            signature: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Db {
    fn append(&self, event: AuditEvent) -> Result<AuditRecord> {
        let ticket = {
            let mut q = self
                .queue
                .lock()
                .map_err(|_| Error::internal("audit queue poisoned"))?;
            let t = q.next_ticket;
            q.next_ticket += 1;
            q.pending.push((t, event));
            t
        };
        let mut q = self
            .queue
            .lock()
            .map_err(|_| Error::internal("audit queue poisoned"))?;
        loop {
            if let Some(r) = q.done.remove(&ticket) {
                return r.map_err(Error::provider);
            }
            if !q.leader {
                // Become the leader: write everything queued (ours included) in one transaction.
                q.leader = true;
                let batch = std::mem::take(&mut q.pending);
                drop(q);
                let (tickets, events): (Vec<u64>, Vec<AuditEvent>) = batch.into_iter().unzip();
                let result = self.write_batch(&events);
                q = self
                    .queue
                    .lock()
                    .map_err(|_| Error::internal("audit queue poisoned"))?;
                match result {
                    Ok(records) => {
                        for (t, r) in tickets.into_iter().zip(records) {
                            q.done.insert(t, Ok(r));
                        }
                    }
                    Err(e) => {
                        let msg = format!("audit append failed: {e}");
                        for t in tickets {
                            q.done.insert(t, Err(msg.clone()));
                        }
                    }
                }
                q.leader = false;
                self.wake.notify_all();
            } else {
                q = self
                    .wake
                    .wait(q)
                    .map_err(|_| Error::internal("audit queue poisoned"))?;
            }
        }
    }

    fn list(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
        // Times are stored as RFC 3339 UTC with milliseconds; compare like with like.
        let since = super::since_filter(filter.since.as_deref())?;
        let conn = self
            .conn
            .lock()
            .map_err(|_| Error::internal("audit lock poisoned"))?;
        let resource = filter.service.as_ref().map(|s| format!("service:{s}"));
        let mut stmt = conn.prepare(
            "SELECT seq, prev_hash, hash, event FROM audit WHERE (?1 IS NULL OR resource = ?1) \
             AND (?2 IS NULL OR time >= ?2) ORDER BY seq LIMIT ?3",
        )?;
        let limit = filter.limit.map(|l| l as i64).unwrap_or(-1);
        let rows = stmt.query_map(params![resource, since, limit], |r| {
            let event: String = r.get(3)?;
            Ok((
                r.get::<_, u64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                event,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, prev_hash, hash, event) = row?;
            out.push(AuditRecord {
                seq,
                prev_hash,
                hash,
                event: serde_json::from_str(&event)?,
            });
        }
        Ok(out)
    }

    fn checkpoint(&self) -> Result<Option<Checkpoint>> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| Error::internal("audit lock poisoned"))?;
        let head: Option<(u64, String)> = conn
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match head {
            Some((seq, hash)) => Ok(Some(self.insert_checkpoint(&conn, seq, &hash)?)),
            None => Ok(None),
        }
    }

    fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| Error::internal("audit lock poisoned"))?;
        read_checkpoints(&conn)
    }
}

/// The embedded [`AuditLog`]: an SQLite file in the workspace, worked on off the async threads.
/// Appends from many threads and processes form one chain (group commit: one appender writes
/// everybody's queued events in one durable transaction).
#[derive(Clone)]
pub struct SqliteAuditLog {
    db: Arc<Db>,
}

impl SqliteAuditLog {
    /// Opens (and creates) the log at `db`, signing checkpoints with the key at `key_path`
    /// (created on first use, mode 0600).
    pub fn open(db: &Path, key_path: &Path) -> Result<SqliteAuditLog> {
        Ok(SqliteAuditLog {
            db: Arc::new(Db::open(db, key_path)?),
        })
    }

    /// Opens the log at `db` read-only, for verification only (appends and checkpoints fail):
    /// nothing is created or written, so it works on a read-only copy of a workspace.
    pub fn open_read_only(db: &Path) -> Result<SqliteAuditLog> {
        Ok(SqliteAuditLog {
            db: Arc::new(Db::open_read_only(db)?),
        })
    }

    /// [`AuditLog::verify`] on the calling thread (which it blocks).
    pub fn verify_here(&self, opts: &VerifyOptions) -> Result<VerifyReport> {
        self.db.verify_with(opts)
    }

    /// Verify chains longer than `n` records in parallel segments (default 100,000). Tests set it
    /// low to exercise the segment boundaries.
    #[doc(hidden)]
    pub fn set_parallel_verify_from(&self, n: u64) {
        self.db.set_parallel_verify_from(n)
    }
}

#[async_trait::async_trait]
impl AuditLog for SqliteAuditLog {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn append(&self, event: AuditEvent) -> Result<AuditRecord> {
        let db = self.db.clone();
        unblock(move || db.append(event)).await
    }

    async fn append_batch(&self, events: Vec<AuditEvent>) -> Result<Vec<AuditRecord>> {
        let db = self.db.clone();
        unblock(move || db.write_batch(&events)).await
    }

    async fn list(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
        let (db, filter) = (self.db.clone(), filter.clone());
        unblock(move || db.list(&filter)).await
    }

    async fn last_of(&self, operation: &str) -> Result<Option<AuditEvent>> {
        let (db, operation) = (self.db.clone(), operation.to_string());
        unblock(move || db.last_of(&operation)).await
    }

    async fn append_if_changed(&self, event: AuditEvent, key: &str) -> Result<Option<AuditRecord>> {
        let (db, key) = (self.db.clone(), key.to_string());
        unblock(move || db.append_if_changed(&event, &key)).await
    }

    async fn verify(&self, opts: &VerifyOptions) -> Result<VerifyReport> {
        let (db, opts) = (self.db.clone(), opts.clone());
        unblock(move || db.verify_with(&opts)).await
    }

    async fn checkpoint(&self) -> Result<Option<Checkpoint>> {
        let db = self.db.clone();
        unblock(move || db.checkpoint()).await
    }

    async fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        let db = self.db.clone();
        unblock(move || db.checkpoints()).await
    }

    fn public_key(&self) -> String {
        self.db.public_key()
    }
}
