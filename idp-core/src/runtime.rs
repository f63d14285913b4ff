//! How async code here runs blocking work, and how a run is cancelled.
//!
//! The periphery is async and the core is synchronous. Providers whose work blocks a thread
//! (libgit2, SQLite, the file system) run it through [`unblock`]: on tokio's blocking pool when
//! called inside a tokio runtime (the host's own: the library never starts a runtime of its own
//! inside an async host), inline otherwise (any other executor, or none).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

/// Runs `f` where blocking is allowed; see the module docs.
pub async fn unblock<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        // On a multi-thread runtime the current thread may block once tokio knows: on a worker,
        // tokio hands the worker's other tasks to another thread; on the thread of a `block_on`
        // (the blocking facade) it runs right here, with no handoff at all.
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        Ok(h) => match h.spawn_blocking(f).await {
            Ok(r) => r,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(Error::internal(
                "the runtime shut down while blocking work was running; retry",
            )),
        },
        Err(_) => f(),
    }
}

/// Asks a run to stop at its next safe point (between steps, before a commit). Cheap to clone;
/// every clone cancels the same run. A cancelled run is recorded as `cancelled` and `resume`
/// finishes it.
///
/// ```
/// let token = idp_core::CancelToken::new();
/// let for_signal_handler = token.clone();
/// for_signal_handler.cancel();
/// assert!(token.is_cancelled());
/// ```
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
