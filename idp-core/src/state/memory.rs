//! [`MemoryStateStore`]: state in memory, for embedders' tests and for a platform that lives only
//! as long as its process. It keeps the same contract as the SQLite store.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::{ChangeRequestRecord, RunRecord, ServiceLock, ServiceRecord, StateStore, StepRecord};
use crate::error::Result;
use crate::golden_path::StepId;
use crate::insights::DeliveryEvent;
use crate::policy::Waiver;
use crate::receipt::{ChangeRequestState, RunStatus};

#[derive(Default)]
struct Data {
    /// Runs in creation order.
    runs: Vec<RunRecord>,
    steps: HashMap<String, BTreeMap<StepId, StepRecord>>,
    services: BTreeMap<String, ServiceRecord>,
    /// Change requests in the order they were first put.
    change_requests: Vec<ChangeRequestRecord>,
    infra: BTreeMap<String, (serde_json::Value, serde_json::Value)>,
    waivers: Vec<Waiver>,
    blobs: HashMap<String, Arc<Vec<u8>>>,
    /// Delivery events in the order they were put, and their ids.
    events: Vec<DeliveryEvent>,
    event_ids: HashSet<String>,
    locks: HashMap<String, Arc<tokio::sync::Mutex<()>>>,
}

/// State held in memory; clones share it (as two handles on one database do).
#[derive(Clone, Default)]
pub struct MemoryStateStore {
    data: Arc<Mutex<Data>>,
}

impl MemoryStateStore {
    pub fn new() -> MemoryStateStore {
        MemoryStateStore::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Data) -> T) -> Result<T> {
        Ok(f(&mut self.data.lock().unwrap_or_else(|e| e.into_inner())))
    }

    fn lock_of(&self, service: &str) -> Result<Arc<tokio::sync::Mutex<()>>> {
        self.with(|d| d.locks.entry(service.to_string()).or_default().clone())
    }
}

#[async_trait::async_trait]
impl StateStore for MemoryStateStore {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn create_run(&self, run: &RunRecord) -> Result<()> {
        self.with(|d| d.runs.push(run.clone()))
    }

    async fn get_run(&self, id: &str) -> Result<Option<RunRecord>> {
        self.with(|d| d.runs.iter().find(|r| r.id == id).cloned())
    }

    async fn find_unfinished_run(&self, key: &str) -> Result<Option<RunRecord>> {
        self.with(|d| {
            d.runs
                .iter()
                .rev()
                .find(|r| {
                    r.key == key
                        && matches!(
                            r.status,
                            RunStatus::Running
                                | RunStatus::Failed
                                | RunStatus::Cancelled
                                | RunStatus::Waiting
                        )
                })
                .cloned()
        })
    }

    async fn list_runs(&self, service: Option<&str>, limit: usize) -> Result<Vec<RunRecord>> {
        self.with(|d| {
            d.runs
                .iter()
                .rev()
                .filter(|r| service.is_none_or(|s| r.service == s))
                .take(limit)
                .cloned()
                .collect()
        })
    }

    async fn finish_run(
        &self,
        id: &str,
        status: RunStatus,
        receipt: Option<&serde_json::Value>,
        error: Option<&serde_json::Value>,
    ) -> Result<()> {
        self.with(|d| {
            if let Some(r) = d.runs.iter_mut().find(|r| r.id == id) {
                r.status = status;
                r.receipt = receipt.cloned();
                r.error = error.cloned();
                r.updated_at = crate::time::system_now();
            }
        })
    }

    async fn save_step(&self, run_id: &str, step: &StepRecord) -> Result<()> {
        self.with(|d| {
            d.steps
                .entry(run_id.to_string())
                .or_default()
                .insert(step.step, step.clone());
        })
    }

    async fn steps(&self, run_id: &str) -> Result<Vec<StepRecord>> {
        self.with(|d| {
            d.steps
                .get(run_id)
                .map(|s| s.values().cloned().collect())
                .unwrap_or_default()
        })
    }

    async fn get_service(&self, name: &str) -> Result<Option<ServiceRecord>> {
        self.with(|d| d.services.get(name).cloned())
    }

    async fn put_service(&self, rec: &ServiceRecord) -> Result<()> {
        self.with(|d| {
            d.services.insert(rec.name.clone(), rec.clone());
        })
    }

    async fn list_services(&self) -> Result<Vec<ServiceRecord>> {
        self.with(|d| d.services.values().cloned().collect())
    }

    async fn put_change_request(&self, cr: &ChangeRequestRecord) -> Result<()> {
        self.with(
            |d| match d.change_requests.iter_mut().find(|c| c.key == cr.key) {
                Some(slot) => *slot = cr.clone(),
                None => d.change_requests.push(cr.clone()),
            },
        )
    }

    async fn change_request_by_key(&self, key: &str) -> Result<Option<ChangeRequestRecord>> {
        self.with(|d| d.change_requests.iter().find(|c| c.key == key).cloned())
    }

    async fn change_request_for(
        &self,
        service: &str,
        step: StepId,
        repo: &str,
        digest: &str,
    ) -> Result<Option<ChangeRequestRecord>> {
        self.with(|d| {
            d.change_requests
                .iter()
                .rev()
                .find(|c| {
                    c.service == service
                        && c.step == step
                        && c.repo == repo
                        && c.digest == digest
                        && c.state != ChangeRequestState::Pending
                })
                .cloned()
        })
    }

    async fn list_change_requests(
        &self,
        service: Option<&str>,
    ) -> Result<Vec<ChangeRequestRecord>> {
        self.with(|d| {
            d.change_requests
                .iter()
                .filter(|c| service.is_none_or(|s| c.service == s))
                .cloned()
                .collect()
        })
    }

    async fn put_infra(
        &self,
        service: &str,
        intents: &serde_json::Value,
        resolutions: &serde_json::Value,
    ) -> Result<()> {
        self.with(|d| {
            d.infra
                .insert(service.to_string(), (intents.clone(), resolutions.clone()));
        })
    }

    async fn get_infra(
        &self,
        service: &str,
    ) -> Result<Option<(serde_json::Value, serde_json::Value)>> {
        self.with(|d| d.infra.get(service).cloned())
    }

    async fn infra_services(&self) -> Result<Vec<String>> {
        self.with(|d| d.infra.keys().cloned().collect())
    }

    async fn put_waiver(&self, w: &Waiver) -> Result<()> {
        self.with(|d| match d.waivers.iter_mut().find(|x| x.id == w.id) {
            Some(slot) => *slot = w.clone(),
            None => d.waivers.push(w.clone()),
        })
    }

    async fn get_waiver(&self, id: &str) -> Result<Option<Waiver>> {
        self.with(|d| d.waivers.iter().find(|w| w.id == id).cloned())
    }

    async fn list_waivers(&self, service: Option<&str>) -> Result<Vec<Waiver>> {
        self.with(|d| {
            d.waivers
                .iter()
                .filter(|w| service.is_none_or(|s| w.service == s))
                .cloned()
                .collect()
        })
    }

    async fn put_blobs(&self, blobs: &[(String, Arc<Vec<u8>>)]) -> Result<()> {
        self.with(|d| {
            for (h, c) in blobs {
                d.blobs.entry(h.clone()).or_insert_with(|| c.clone());
            }
        })
    }

    async fn put_events(&self, events: &[DeliveryEvent]) -> Result<usize> {
        self.with(|d| {
            let mut added = 0;
            for e in events {
                if d.event_ids.insert(e.id.clone()) {
                    d.events.push(e.clone());
                    added += 1;
                }
            }
            added
        })
    }

    async fn list_events(&self, until: Option<&str>) -> Result<Vec<DeliveryEvent>> {
        self.with(|d| {
            let mut out: Vec<DeliveryEvent> = d
                .events
                .iter()
                .filter(|e| until.is_none_or(|u| e.time.as_str() < u))
                .cloned()
                .collect();
            out.sort_by(|a, b| (&a.time, &a.id).cmp(&(&b.time, &b.id)));
            out
        })
    }

    async fn get_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        self.with(|d| d.blobs.get(sha256).map(|c| c.as_ref().clone()))
    }

    async fn lock_service(&self, service: &str) -> Result<ServiceLock> {
        let m = self.lock_of(service)?;
        Ok(ServiceLock::new(m.lock_owned().await))
    }

    async fn try_lock_service(&self, service: &str) -> Result<Option<ServiceLock>> {
        let m = self.lock_of(service)?;
        Ok(m.try_lock_owned().ok().map(ServiceLock::new))
    }
}
