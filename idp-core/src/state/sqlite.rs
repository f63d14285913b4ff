//! The embedded [`StateStore`]: one SQLite file in the workspace, WAL mode, safe across
//! processes.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};

use super::{ChangeRequestRecord, RunRecord, ServiceLock, ServiceRecord, StateStore, StepRecord};
use crate::error::{Error, Result};
use crate::golden_path::StepId;
use crate::insights::{DeliveryEvent, EventKind};
use crate::receipt::{ChangeRequestState, RunStatus};
use crate::runtime::unblock;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  key TEXT NOT NULL,
  operation TEXT NOT NULL,
  service TEXT NOT NULL,
  principal TEXT NOT NULL,
  request TEXT NOT NULL,
  has_secrets INTEGER NOT NULL,
  status TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  receipt TEXT,
  error TEXT,
  face TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_key ON runs(key, status);
CREATE INDEX IF NOT EXISTS runs_service ON runs(service, created_at);
CREATE TABLE IF NOT EXISTS steps (
  run_id TEXT NOT NULL,
  step TEXT NOT NULL,
  status TEXT NOT NULL,
  result TEXT,
  PRIMARY KEY (run_id, step)
);
CREATE TABLE IF NOT EXISTS services (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  golden_path TEXT NOT NULL,
  version TEXT NOT NULL,
  parameters TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  environments TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS change_requests (
  key TEXT PRIMARY KEY,
  id TEXT,
  repo TEXT NOT NULL,
  service TEXT NOT NULL,
  step TEXT NOT NULL,
  run_id TEXT NOT NULL,
  digest TEXT NOT NULL,
  branch TEXT NOT NULL,
  commit_id TEXT,
  url TEXT,
  state TEXT NOT NULL,
  created_at TEXT NOT NULL,
  seq INTEGER
);
CREATE INDEX IF NOT EXISTS cr_lookup ON change_requests(service, step, repo, digest);
CREATE TABLE IF NOT EXISTS infra (
  service TEXT PRIMARY KEY,
  intents TEXT NOT NULL,
  resolutions TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS waivers (
  id TEXT PRIMARY KEY,
  service TEXT NOT NULL,
  body TEXT NOT NULL,
  requested_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS waivers_service ON waivers(service);
CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  source TEXT NOT NULL,
  service TEXT NOT NULL,
  environment TEXT,
  time TEXT NOT NULL,
  revision TEXT,
  gitops_revision TEXT,
  outcome TEXT,
  alert TEXT,
  started_at TEXT
);
CREATE INDEX IF NOT EXISTS events_time ON events(time);
CREATE TABLE IF NOT EXISTS blobs (
  sha256 TEXT PRIMARY KEY,
  content BLOB NOT NULL
);
";

/// The blocking store behind [`SqliteStateStore`].
struct Db {
    conn: Mutex<Connection>,
}

/// SQLite-backed state, worked on off the async threads; service locks are lock files next to
/// the database (`locks/<service>.lock`), so they hold across processes.
#[derive(Clone)]
pub struct SqliteStateStore {
    db: Arc<Db>,
    locks: PathBuf,
}

impl SqliteStateStore {
    /// Opens (and creates) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStateStore> {
        // WAL + NORMAL survives a killed process (the case runs must resume from); an OS crash can
        // lose the last transactions, which a resume then redoes idempotently.
        let conn = open_wal(path, "NORMAL", SCHEMA, "state")?;
        add_column(
            &conn,
            "services",
            "environments",
            "TEXT NOT NULL DEFAULT '{}'",
        )?;
        add_column(&conn, "runs", "face", "TEXT NOT NULL DEFAULT ''")?;
        Ok(SqliteStateStore {
            db: Arc::new(Db {
                conn: Mutex::new(conn),
            }),
            locks: path.parent().unwrap_or(Path::new(".")).join("locks"),
        })
    }

    fn lock_file(&self, service: &str) -> Result<File> {
        // The name is checked by every caller before a lock is taken; check again, since it
        // becomes a file name.
        if !crate::naming::is_dns1123_label(service) {
            return Err(Error::invalid(format!(
                "cannot lock {}: not a service name",
                crate::naming::shown(service)
            )));
        }
        std::fs::create_dir_all(&self.locks)?;
        Ok(File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.locks.join(format!("{service}.lock")))?)
    }
}

impl Db {
    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| Error::internal("state store lock poisoned"))?;
        f(&conn).map_err(Error::from)
    }
}

/// Opens an SQLite database in WAL mode with `synchronous` and creates `schema`. Several
/// processes may open the same new file at once: switching a fresh database to WAL takes an
/// exclusive lock that SQLite's busy handler does not wait for, so that step is retried.
pub(crate) fn open_wal(
    path: &Path,
    synchronous: &str,
    schema: &str,
    what: &str,
) -> Result<Connection> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut delay = std::time::Duration::from_millis(2);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let attempt = (|| -> rusqlite::Result<Connection> {
            let conn = Connection::open(path)?;
            conn.busy_timeout(std::time::Duration::from_secs(30))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", synchronous)?;
            conn.execute_batch(schema)?;
            Ok(conn)
        })();
        match attempt {
            Ok(c) => {
                // Owner-only, like the keys beside it: the state holds every service's
                // parameters and keys. (SQLite gives its -wal and -shm files the same mode.)
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
                }
                return Ok(c);
            }
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(delay);
                delay = (delay * 2).min(std::time::Duration::from_millis(100));
            }
            Err(e) => {
                return Err(Error::provider(format!(
                    "cannot open {what} database {}",
                    path.display()
                ))
                .with_source(e));
            }
        }
    }
}

/// Adds a column that a database made by an earlier version lacks. Two processes may race to
/// add it: the loser's "duplicate column" is success.
fn add_column(conn: &Connection, table: &str, column: &str, decl: &str) -> Result<()> {
    let has = conn
        .prepare(&format!(
            "SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"
        ))?
        .exists([column])?;
    if has {
        return Ok(());
    }
    match conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}")) {
        Err(rusqlite::Error::SqliteFailure(_, Some(m))) if m.contains("duplicate column") => Ok(()),
        other => Ok(other?),
    }
}

fn json_col(v: Option<String>) -> Option<serde_json::Value> {
    v.and_then(|s| serde_json::from_str(&s).ok())
}

fn step_of(s: &str) -> rusqlite::Result<StepId> {
    StepId::parse(s).ok_or_else(|| rusqlite::Error::InvalidColumnName(format!("unknown step {s}")))
}

fn run_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: r.get(0)?,
        key: r.get(1)?,
        operation: r.get(2)?,
        service: r.get(3)?,
        principal: r.get(4)?,
        request: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or_default(),
        has_secrets: r.get(6)?,
        status: RunStatus::parse(&r.get::<_, String>(7)?),
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
        receipt: json_col(r.get(10)?),
        error: json_col(r.get(11)?),
        face: r.get(12)?,
    })
}

const RUN_COLS: &str = "id, key, operation, service, principal, request, has_secrets, status, created_at, updated_at, receipt, error, face";

fn cr_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChangeRequestRecord> {
    Ok(ChangeRequestRecord {
        key: r.get(0)?,
        id: r.get(1)?,
        repo: r.get(2)?,
        service: r.get(3)?,
        step: step_of(&r.get::<_, String>(4)?)?,
        run_id: r.get(5)?,
        digest: r.get(6)?,
        branch: r.get(7)?,
        commit: r.get(8)?,
        url: r.get(9)?,
        state: ChangeRequestState::parse(&r.get::<_, String>(10)?),
        created_at: r.get(11)?,
    })
}

const EVENT_COLS: &str = "id, kind, source, service, environment, time, revision, gitops_revision, outcome, alert, started_at";

const CR_COLS: &str =
    "key, id, repo, service, step, run_id, digest, branch, commit_id, url, state, created_at";

fn now() -> String {
    crate::time::system_now()
}

impl Db {
    fn create_run(&self, run: &RunRecord) -> Result<()> {
        self.with(|c| {
            c.execute(
                &format!(
                    "INSERT INTO runs ({RUN_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"
                ),
                params![
                    run.id,
                    run.key,
                    run.operation,
                    run.service,
                    run.principal,
                    run.request.to_string(),
                    run.has_secrets,
                    run.status.as_str(),
                    run.created_at,
                    run.updated_at,
                    run.receipt.as_ref().map(|v| v.to_string()),
                    run.error.as_ref().map(|v| v.to_string()),
                    run.face,
                ],
            )
            .map(|_| ())
        })
    }

    fn get_run(&self, id: &str) -> Result<Option<RunRecord>> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT {RUN_COLS} FROM runs WHERE id = ?1"),
                [id],
                run_from_row,
            )
            .optional()
        })
    }

    fn find_unfinished_run(&self, key: &str) -> Result<Option<RunRecord>> {
        self.with(|c| {
            c.query_row(
                &format!(
                    "SELECT {RUN_COLS} FROM runs WHERE key = ?1 AND status IN ('running', 'failed', 'cancelled', 'waiting') \
                     ORDER BY created_at DESC, id DESC LIMIT 1"
                ),
                [key],
                run_from_row,
            )
            .optional()
        })
    }

    fn list_runs(&self, service: Option<&str>, limit: usize) -> Result<Vec<RunRecord>> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {RUN_COLS} FROM runs WHERE (?1 IS NULL OR service = ?1) \
                 ORDER BY created_at DESC, id DESC LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![service, limit as i64], run_from_row)?;
            rows.collect()
        })
    }

    fn finish_run(
        &self,
        id: &str,
        status: RunStatus,
        receipt: Option<&serde_json::Value>,
        error: Option<&serde_json::Value>,
    ) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE runs SET status = ?2, receipt = ?3, error = ?4, updated_at = ?5 WHERE id = ?1",
                params![id, status.as_str(), receipt.map(|v| v.to_string()), error.map(|v| v.to_string()), now()],
            )
            .map(|_| ())
        })
    }

    fn save_step(&self, run_id: &str, step: &StepRecord) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO steps (run_id, step, status, result) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT(run_id, step) DO UPDATE SET status = excluded.status, result = excluded.result",
                params![run_id, step.step.as_str(), step.status.as_str(), step.result.as_ref().map(|v| v.to_string())],
            )
            .map(|_| ())
        })
    }

    fn steps(&self, run_id: &str) -> Result<Vec<StepRecord>> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT step, status, result FROM steps WHERE run_id = ?1")?;
            let rows = stmt.query_map([run_id], |r| {
                Ok(StepRecord {
                    step: step_of(&r.get::<_, String>(0)?)?,
                    status: RunStatus::parse(&r.get::<_, String>(1)?),
                    result: json_col(r.get(2)?),
                })
            })?;
            rows.collect()
        })
    }

    fn get_service(&self, name: &str) -> Result<Option<ServiceRecord>> {
        self.with(|c| {
            c.query_row(
                "SELECT name, owner, golden_path, version, parameters, created_at, updated_at, \
                 environments FROM services WHERE name = ?1",
                [name],
                service_from_row,
            )
            .optional()
        })
    }

    fn put_service(&self, rec: &ServiceRecord) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO services (name, owner, golden_path, version, parameters, created_at, updated_at, \
                 environments) VALUES (?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(name) DO UPDATE SET \
                 owner = excluded.owner, golden_path = excluded.golden_path, version = excluded.version, \
                 parameters = excluded.parameters, updated_at = excluded.updated_at, \
                 environments = excluded.environments",
                params![
                    rec.name,
                    rec.owner,
                    rec.golden_path,
                    rec.version,
                    rec.parameters.to_string(),
                    rec.created_at,
                    rec.updated_at,
                    rec.environments.to_string()
                ],
            )
            .map(|_| ())
        })
    }

    fn list_services(&self) -> Result<Vec<ServiceRecord>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT name, owner, golden_path, version, parameters, created_at, updated_at, \
                 environments FROM services ORDER BY name",
            )?;
            let rows = stmt.query_map([], service_from_row)?;
            rows.collect()
        })
    }

    fn put_change_request(&self, cr: &ChangeRequestRecord) -> Result<()> {
        self.with(|c| {
            c.execute(
                &format!(
                    "INSERT INTO change_requests ({CR_COLS}, seq) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12, \
                     (SELECT COALESCE(MAX(seq), 0) + 1 FROM change_requests)) \
                     ON CONFLICT(key) DO UPDATE SET id = excluded.id, digest = excluded.digest, \
                     commit_id = excluded.commit_id, url = excluded.url, state = excluded.state"
                ),
                params![
                    cr.key,
                    cr.id,
                    cr.repo,
                    cr.service,
                    cr.step.as_str(),
                    cr.run_id,
                    cr.digest,
                    cr.branch,
                    cr.commit,
                    cr.url,
                    cr.state.as_str(),
                    cr.created_at
                ],
            )
            .map(|_| ())
        })
    }

    fn change_request_by_key(&self, key: &str) -> Result<Option<ChangeRequestRecord>> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT {CR_COLS} FROM change_requests WHERE key = ?1"),
                [key],
                cr_from_row,
            )
            .optional()
        })
    }

    fn change_request_for(
        &self,
        service: &str,
        step: StepId,
        repo: &str,
        digest: &str,
    ) -> Result<Option<ChangeRequestRecord>> {
        self.with(|c| {
            c.query_row(
                &format!(
                    "SELECT {CR_COLS} FROM change_requests WHERE service = ?1 AND step = ?2 AND repo = ?3 \
                     AND digest = ?4 AND state != 'pending' ORDER BY seq DESC LIMIT 1"
                ),
                params![service, step.as_str(), repo, digest],
                cr_from_row,
            )
            .optional()
        })
    }

    fn list_change_requests(&self, service: Option<&str>) -> Result<Vec<ChangeRequestRecord>> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {CR_COLS} FROM change_requests WHERE (?1 IS NULL OR service = ?1) ORDER BY seq"
            ))?;
            let rows = stmt.query_map(params![service], cr_from_row)?;
            rows.collect()
        })
    }

    fn put_infra(
        &self,
        service: &str,
        intents: &serde_json::Value,
        resolutions: &serde_json::Value,
    ) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO infra (service, intents, resolutions, updated_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT(service) DO UPDATE SET intents = excluded.intents, \
                 resolutions = excluded.resolutions, updated_at = excluded.updated_at",
                params![service, intents.to_string(), resolutions.to_string(), now()],
            )
            .map(|_| ())
        })
    }

    fn get_infra(&self, service: &str) -> Result<Option<(serde_json::Value, serde_json::Value)>> {
        let row: Option<(String, String)> = self.with(|c| {
            c.query_row(
                "SELECT intents, resolutions FROM infra WHERE service = ?1",
                [service],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })?;
        row.map(|(i, r)| Ok((serde_json::from_str(&i)?, serde_json::from_str(&r)?)))
            .transpose()
    }

    fn infra_services(&self) -> Result<Vec<String>> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT service FROM infra ORDER BY service")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })
    }

    fn put_waiver(&self, w: &crate::policy::Waiver) -> Result<()> {
        let body = serde_json::to_string(w)?;
        self.with(|c| {
            c.execute(
                "INSERT INTO waivers (id, service, body, requested_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT(id) DO UPDATE SET body = excluded.body",
                params![w.id, w.service, body, w.requested_at],
            )
            .map(|_| ())
        })
    }

    fn get_waiver(&self, id: &str) -> Result<Option<crate::policy::Waiver>> {
        let body: Option<String> = self.with(|c| {
            c.query_row("SELECT body FROM waivers WHERE id = ?1", [id], |r| r.get(0))
                .optional()
        })?;
        body.map(|b| serde_json::from_str(&b).map_err(Error::from))
            .transpose()
    }

    fn list_waivers(&self, service: Option<&str>) -> Result<Vec<crate::policy::Waiver>> {
        let bodies: Vec<String> = self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT body FROM waivers WHERE (?1 IS NULL OR service = ?1) ORDER BY requested_at, id",
            )?;
            let rows = stmt.query_map(params![service], |r| r.get(0))?;
            rows.collect()
        })?;
        bodies
            .iter()
            .map(|b| serde_json::from_str(b).map_err(Error::from))
            .collect()
    }

    fn put_blobs(&self, blobs: &[(String, Arc<Vec<u8>>)]) -> Result<()> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| Error::internal("state store lock poisoned"))?;
        let tx = conn.transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("INSERT OR IGNORE INTO blobs (sha256, content) VALUES (?1, ?2)")?;
            for (h, content) in blobs {
                stmt.execute(params![h, content.as_slice()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn put_events(&self, events: &[DeliveryEvent]) -> Result<usize> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| Error::internal("state store lock poisoned"))?;
        let tx = conn.transaction()?;
        let mut added = 0;
        {
            let mut stmt = tx.prepare_cached(&format!(
                "INSERT OR IGNORE INTO events ({EVENT_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
            ))?;
            for e in events {
                added += stmt.execute(params![
                    e.id,
                    e.kind.as_str(),
                    e.source,
                    e.service,
                    e.environment,
                    e.time,
                    e.revision,
                    e.gitops_revision,
                    e.outcome,
                    e.alert,
                    e.started_at,
                ])?;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    fn list_events(&self, until: Option<&str>) -> Result<Vec<DeliveryEvent>> {
        self.with(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {EVENT_COLS} FROM events WHERE ?1 IS NULL OR time < ?1 ORDER BY time, id"
            ))?;
            stmt.query_map([until], |r| {
                let kind: String = r.get(1)?;
                Ok(DeliveryEvent {
                    id: r.get(0)?,
                    kind: EventKind::parse(&kind).ok_or_else(|| {
                        rusqlite::Error::InvalidColumnName(format!("unknown event kind {kind}"))
                    })?,
                    source: r.get(2)?,
                    service: r.get(3)?,
                    environment: r.get(4)?,
                    time: r.get(5)?,
                    revision: r.get(6)?,
                    gitops_revision: r.get(7)?,
                    outcome: r.get(8)?,
                    alert: r.get(9)?,
                    started_at: r.get(10)?,
                })
            })?
            .collect()
        })
    }

    fn get_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        self.with(|c| {
            c.query_row(
                "SELECT content FROM blobs WHERE sha256 = ?1",
                [sha256],
                |r| r.get(0),
            )
            .optional()
        })
    }
}

macro_rules! off_thread {
    ($self:ident, |$db:ident| $body:expr) => {{
        let $db = $self.db.clone();
        unblock(move || $body).await
    }};
}

#[async_trait::async_trait]
impl StateStore for SqliteStateStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn create_run(&self, run: &RunRecord) -> Result<()> {
        let run = run.clone();
        off_thread!(self, |db| db.create_run(&run))
    }

    async fn get_run(&self, id: &str) -> Result<Option<RunRecord>> {
        let id = id.to_string();
        off_thread!(self, |db| db.get_run(&id))
    }

    async fn find_unfinished_run(&self, key: &str) -> Result<Option<RunRecord>> {
        let key = key.to_string();
        off_thread!(self, |db| db.find_unfinished_run(&key))
    }

    async fn list_runs(&self, service: Option<&str>, limit: usize) -> Result<Vec<RunRecord>> {
        let service = service.map(str::to_string);
        off_thread!(self, |db| db.list_runs(service.as_deref(), limit))
    }

    async fn finish_run(
        &self,
        id: &str,
        status: RunStatus,
        receipt: Option<&serde_json::Value>,
        error: Option<&serde_json::Value>,
    ) -> Result<()> {
        let (id, receipt, error) = (id.to_string(), receipt.cloned(), error.cloned());
        off_thread!(self, |db| db.finish_run(
            &id,
            status,
            receipt.as_ref(),
            error.as_ref()
        ))
    }

    async fn save_step(&self, run_id: &str, step: &StepRecord) -> Result<()> {
        let (run_id, step) = (run_id.to_string(), step.clone());
        off_thread!(self, |db| db.save_step(&run_id, &step))
    }

    async fn steps(&self, run_id: &str) -> Result<Vec<StepRecord>> {
        let run_id = run_id.to_string();
        off_thread!(self, |db| db.steps(&run_id))
    }

    async fn get_service(&self, name: &str) -> Result<Option<ServiceRecord>> {
        let name = name.to_string();
        off_thread!(self, |db| db.get_service(&name))
    }

    async fn put_service(&self, rec: &ServiceRecord) -> Result<()> {
        let rec = rec.clone();
        off_thread!(self, |db| db.put_service(&rec))
    }

    async fn list_services(&self) -> Result<Vec<ServiceRecord>> {
        off_thread!(self, |db| db.list_services())
    }

    async fn put_change_request(&self, cr: &ChangeRequestRecord) -> Result<()> {
        let cr = cr.clone();
        off_thread!(self, |db| db.put_change_request(&cr))
    }

    async fn change_request_by_key(&self, key: &str) -> Result<Option<ChangeRequestRecord>> {
        let key = key.to_string();
        off_thread!(self, |db| db.change_request_by_key(&key))
    }

    async fn change_request_for(
        &self,
        service: &str,
        step: StepId,
        repo: &str,
        digest: &str,
    ) -> Result<Option<ChangeRequestRecord>> {
        let (service, repo, digest) = (service.to_string(), repo.to_string(), digest.to_string());
        off_thread!(self, |db| db
            .change_request_for(&service, step, &repo, &digest))
    }

    async fn list_change_requests(
        &self,
        service: Option<&str>,
    ) -> Result<Vec<ChangeRequestRecord>> {
        let service = service.map(str::to_string);
        off_thread!(self, |db| db.list_change_requests(service.as_deref()))
    }

    async fn put_infra(
        &self,
        service: &str,
        intents: &serde_json::Value,
        resolutions: &serde_json::Value,
    ) -> Result<()> {
        let (service, intents, resolutions) =
            (service.to_string(), intents.clone(), resolutions.clone());
        off_thread!(self, |db| db.put_infra(&service, &intents, &resolutions))
    }

    async fn get_infra(
        &self,
        service: &str,
    ) -> Result<Option<(serde_json::Value, serde_json::Value)>> {
        let service = service.to_string();
        off_thread!(self, |db| db.get_infra(&service))
    }

    async fn infra_services(&self) -> Result<Vec<String>> {
        off_thread!(self, |db| db.infra_services())
    }

    async fn put_waiver(&self, w: &crate::policy::Waiver) -> Result<()> {
        let w = w.clone();
        off_thread!(self, |db| db.put_waiver(&w))
    }

    async fn get_waiver(&self, id: &str) -> Result<Option<crate::policy::Waiver>> {
        let id = id.to_string();
        off_thread!(self, |db| db.get_waiver(&id))
    }

    async fn list_waivers(&self, service: Option<&str>) -> Result<Vec<crate::policy::Waiver>> {
        let service = service.map(str::to_string);
        off_thread!(self, |db| db.list_waivers(service.as_deref()))
    }

    async fn put_blobs(&self, blobs: &[(String, Arc<Vec<u8>>)]) -> Result<()> {
        let blobs = blobs.to_vec();
        off_thread!(self, |db| db.put_blobs(&blobs))
    }

    async fn put_events(&self, events: &[DeliveryEvent]) -> Result<usize> {
        let events = events.to_vec();
        off_thread!(self, |db| db.put_events(&events))
    }

    async fn list_events(&self, until: Option<&str>) -> Result<Vec<DeliveryEvent>> {
        let until = until.map(str::to_string);
        off_thread!(self, |db| db.list_events(until.as_deref()))
    }

    async fn get_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let sha256 = sha256.to_string();
        off_thread!(self, |db| db.get_blob(&sha256))
    }

    async fn lock_service(&self, service: &str) -> Result<ServiceLock> {
        let f = self.lock_file(service)?;
        unblock(move || {
            f.lock()?;
            Ok(ServiceLock::new(f))
        })
        .await
    }

    async fn try_lock_service(&self, service: &str) -> Result<Option<ServiceLock>> {
        let f = self.lock_file(service)?;
        Ok(f.try_lock().is_ok().then(|| ServiceLock::new(f)))
    }
}

fn service_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ServiceRecord> {
    Ok(ServiceRecord {
        name: r.get(0)?,
        owner: r.get(1)?,
        golden_path: r.get(2)?,
        version: r.get(3)?,
        parameters: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        environments: serde_json::from_str(&r.get::<_, String>(7)?).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_of_an_earlier_version_gains_the_new_columns_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE services (name TEXT PRIMARY KEY, owner TEXT NOT NULL, \
                 golden_path TEXT NOT NULL, version TEXT NOT NULL, parameters TEXT NOT NULL, \
                 created_at TEXT NOT NULL, updated_at TEXT NOT NULL); \
                 INSERT INTO services VALUES ('old-svc', 'team-a', 'gp', '1.0.0', '{\"port\": 80}', 't0', 't0');",
            )
            .unwrap();
        }
        // Twice: the second open finds the column there.
        for _ in 0..2 {
            let s = SqliteStateStore::open(&path).unwrap();
            let old = s.db.get_service("old-svc").unwrap().unwrap();
            assert_eq!(old.parameters["port"], 80);
            assert_eq!(old.environments, serde_json::json!({}));
            s.db.put_service(&ServiceRecord {
                environments: serde_json::json!({"prod": {"port": 81}}),
                ..old
            })
            .unwrap();
            let again = s.db.get_service("old-svc").unwrap().unwrap();
            assert_eq!(again.environments["prod"]["port"], 81);
            s.db.put_service(&ServiceRecord {
                environments: serde_json::json!({}),
                ..again
            })
            .unwrap();
        }
    }
}
