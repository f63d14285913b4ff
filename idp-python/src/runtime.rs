//! The runtime the Python face runs the core on: one per process, made on first use, and made
//! again in a child after `fork()` (a forked child has none of its parent's threads, so the
//! parent's runtime would wait forever on workers that do not exist there).

use std::sync::{Arc, Mutex};

use idp_core::{Error, Result};

static RUNTIME: Mutex<Option<(u32, Arc<tokio::runtime::Runtime>)>> = Mutex::new(None);

/// This process's runtime.
pub fn runtime() -> Result<Arc<tokio::runtime::Runtime>> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((owner, rt)) = slot.as_ref()
        && *owner == pid
    {
        return Ok(rt.clone());
    }
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("idp")
            .build()
            .map_err(|e| Error::internal(format!("cannot start a runtime: {e}")))?,
    );
    if let Some((_, parent)) = slot.replace((pid, rt.clone())) {
        // The parent's runtime, copied by fork without its threads: dropping it would join
        // threads that are not here.
        std::mem::forget(parent);
    }
    Ok(rt)
}
