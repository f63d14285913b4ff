//! `idp._native.Platform`: the core's [`idp_core::Platform`] behind two methods that take and
//! return JSON text, `call` (blocking, with the GIL released) and `call_async` (returns at once;
//! a callback gets the result). The typed, per-operation methods live in the pure-Python
//! `idp.Platform` and `idp.aio.Platform` over them (generated from the core's call surface), so
//! this file only moves bytes, progress events and cancellations across the boundary.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use idp_core::api::{self, Call};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

use crate::error::ToPyErr;
use crate::runtime::runtime;

/// Where a platform's definition comes from, so that a forked child can open it again.
#[derive(Clone)]
enum Source {
    Builtin,
    Dir(PathBuf),
}

/// A platform definition bound to a workspace. Use `idp.Platform` (the typed wrapper).
#[pyclass(module = "idp._native", frozen)]
pub struct Platform {
    source: Source,
    workspace: PathBuf,
    /// Forge tokens by host, for a forge whose token idp.yaml does not set.
    host_tokens: HostTokens,
    /// The core platform and the process that opened it: after `fork()` the child opens its
    /// own (SQLite connections and git handles must not cross a fork).
    core: Mutex<(u32, idp_core::Platform)>,
}

/// Cancels the calls it is given to (`cancel=`): they stop at their next safe point and raise
/// `idp.CancelledError`; the run is recorded as cancelled and `resume` finishes it.
#[pyclass(module = "idp._native", frozen, name = "CancelToken")]
#[derive(Clone, Default)]
pub struct PyCancelToken(idp_core::CancelToken);

#[pymethods]
impl PyCancelToken {
    #[new]
    fn new() -> Self {
        PyCancelToken::default()
    }

    /// Asks every call given this token to stop at its next safe point.
    fn cancel(&self) {
        self.0.cancel()
    }

    /// True once `cancel()` was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

type HostTokens = std::collections::BTreeMap<String, String>;

async fn open(
    source: Source,
    workspace: PathBuf,
    host_tokens: HostTokens,
) -> idp_core::Result<idp_core::Platform> {
    let mut builder = idp_core::Platform::builder().workspace(&workspace);
    if let Source::Dir(dir) = source {
        builder = builder.platform_dir(dir);
    }
    for (host, token) in host_tokens {
        builder = builder.host_token(host, idp_core::config::Secret::new(token));
    }
    // Runs started from Python are counted as such in adoption insights.
    builder.build().await?.with_face("python")
}

impl Platform {
    fn open(
        py: Python<'_>,
        source: Source,
        workspace: PathBuf,
        host_tokens: Option<HostTokens>,
    ) -> PyResult<Platform> {
        let host_tokens = host_tokens.unwrap_or_default();
        let (s, w, t) = (source.clone(), workspace.clone(), host_tokens.clone());
        let core = py
            .detach(|| runtime()?.block_on(open(s, w, t)))
            .map_err(|e| e.to_py_err(py))?;
        Ok(Platform {
            source,
            workspace,
            host_tokens,
            core: Mutex::new((std::process::id(), core)),
        })
    }

    /// The core platform of this process, with this call's progress callback and cancel token.
    fn core(
        &self,
        py: Python<'_>,
        progress: Option<Py<PyAny>>,
        cancel: Option<PyCancelToken>,
    ) -> PyResult<idp_core::Platform> {
        let pid = std::process::id();
        let mut slot = self.core.lock().unwrap_or_else(|e| e.into_inner());
        if slot.0 != pid {
            let (s, w, t) = (
                self.source.clone(),
                self.workspace.clone(),
                self.host_tokens.clone(),
            );
            let reopened = py
                .detach(|| runtime()?.block_on(open(s, w, t)))
                .map_err(|e| e.to_py_err(py))?;
            *slot = (pid, reopened);
        }
        let mut p = slot.1.clone();
        if let Some(cb) = progress {
            p = p.with_progress(Arc::new(move |ev: &idp_core::Progress| {
                Python::attach(|py| {
                    let call = || -> PyResult<()> {
                        let d = PyDict::new(py);
                        d.set_item("run_id", &ev.run_id)?;
                        d.set_item("step", ev.step.map(|s| s.as_str()))?;
                        d.set_item("message", &ev.message)?;
                        cb.call1(py, (d,))?;
                        Ok(())
                    };
                    // A failing callback must not fail the run: report it as Python would.
                    if let Err(e) = call() {
                        e.write_unraisable(py, None);
                    }
                })
            }));
        }
        if let Some(t) = cancel {
            p = p.with_cancel(t.0);
        }
        Ok(p)
    }
}

/// Parses the call: principal and arguments are JSON text.
fn parse(
    p: &idp_core::Platform,
    method: &str,
    principal: &str,
    arguments: &str,
) -> idp_core::Result<(idp_core::Principal, Call)> {
    let who: Value = json("principal", principal)?;
    let args: Value = json("arguments", arguments)?;
    Ok((api::principal(p, &who)?, Call::parse(method, args)?))
}

async fn run(
    p: idp_core::Platform,
    who: idp_core::Principal,
    call: Call,
) -> idp_core::Result<String> {
    let out = call.run(&p, &who).await?;
    Ok(serde_json::to_string(&out)?)
}

#[pymethods]
impl Platform {
    /// The built-in default platform, with repos, state and audit under `workspace`;
    /// `host_tokens` (forge host → token) serve a forge whose token idp.yaml does not set.
    #[staticmethod]
    #[pyo3(signature = (workspace, host_tokens=None))]
    fn builtin(
        py: Python<'_>,
        workspace: PathBuf,
        host_tokens: Option<HostTokens>,
    ) -> PyResult<Platform> {
        Platform::open(py, Source::Builtin, workspace, host_tokens)
    }

    /// The platform defined in folder `dir`, with repos, state and audit under `workspace`.
    #[staticmethod]
    #[pyo3(signature = (dir, workspace, host_tokens=None))]
    fn from_dir(
        py: Python<'_>,
        dir: PathBuf,
        workspace: PathBuf,
        host_tokens: Option<HostTokens>,
    ) -> PyResult<Platform> {
        Platform::open(py, Source::Dir(dir), workspace, host_tokens)
    }

    /// Calls api method `method` as `principal` (JSON: a user ref string or `{user, groups}`)
    /// with JSON `arguments`; returns the result as JSON text. The GIL is released meanwhile;
    /// `progress` is called (with the GIL) for every progress event as it happens.
    #[pyo3(signature = (method, principal, arguments, progress=None, cancel=None))]
    fn call(
        &self,
        py: Python<'_>,
        method: &str,
        principal: &str,
        arguments: &str,
        progress: Option<Py<PyAny>>,
        cancel: Option<PyRef<'_, PyCancelToken>>,
    ) -> PyResult<String> {
        let p = self.core(py, progress, cancel.map(|c| c.clone()))?;
        py.detach(|| -> idp_core::Result<String> {
            let (who, call) = parse(&p, method, principal, arguments)?;
            runtime()?.block_on(run(p, who, call))
        })
        .map_err(|e| e.to_py_err(py))
    }

    /// Starts the call and returns at once; `done(result_text, None)` or `done(None, error)` is
    /// called (with the GIL, from a worker thread) when it ends. `idp.aio` passes a `done` that
    /// settles an asyncio future on its event loop.
    #[pyo3(signature = (method, principal, arguments, done, progress=None, cancel=None))]
    #[allow(clippy::too_many_arguments)]
    fn call_async(
        &self,
        py: Python<'_>,
        method: &str,
        principal: &str,
        arguments: &str,
        done: Py<PyAny>,
        progress: Option<Py<PyAny>>,
        cancel: Option<PyRef<'_, PyCancelToken>>,
    ) -> PyResult<()> {
        let p = self.core(py, progress, cancel.map(|c| c.clone()))?;
        let (who, call) = parse(&p, method, principal, arguments).map_err(|e| e.to_py_err(py))?;
        let rt = runtime().map_err(|e| e.to_py_err(py))?;
        rt.spawn(async move {
            let out = run(p, who, call).await;
            Python::attach(|py| {
                let settled = match out {
                    Ok(text) => done.call1(py, (text, py.None())),
                    Err(e) => done.call1(py, (py.None(), e.to_py_err(py).into_value(py))),
                };
                if let Err(e) = settled {
                    e.write_unraisable(py, None);
                }
            });
        });
        Ok(())
    }

    /// Where repos, state and audit live.
    #[getter]
    fn workspace(&self) -> String {
        self.workspace.to_string_lossy().into_owned()
    }

    fn __repr__(&self) -> String {
        let core = self.core.lock().unwrap_or_else(|e| e.into_inner());
        format!("{:?}", core.1)
    }
}

fn json(what: &'static str, text: &str) -> idp_core::Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        idp_core::Error::invalid(format!("{what} is not valid JSON: {e}")).with("field", what)
    })
}

/// Writes the built-in platform folder to `dir` for a team to edit; returns the number of files.
#[pyfunction]
pub fn init(py: Python<'_>, dir: PathBuf) -> PyResult<usize> {
    py.detach(|| idp_core::Platform::init_dir(&dir))
        .map_err(|e| e.to_py_err(py))
}
