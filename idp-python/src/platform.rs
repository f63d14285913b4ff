//! `idp._native.Platform`: the core's [`idp_core::Platform`] behind one method, `call`, that
//! takes and returns JSON text. The typed, per-operation methods live in the pure-Python
//! `idp.Platform` over it, so this file only moves bytes across the boundary: the GIL is
//! released while the core parses, works and serializes.

use std::sync::Arc;

use idp_core::api;
use pyo3::prelude::*;
use serde_json::Value;

use crate::error::ToPyErr;

/// A platform definition bound to a workspace. Use `idp.Platform` (the typed wrapper).
#[pyclass(module = "idp._native", frozen)]
pub struct Platform {
    inner: Arc<idp_core::Platform>,
}

#[pymethods]
impl Platform {
    /// The built-in default platform, with repos, state and audit under `workspace`.
    #[staticmethod]
    fn builtin(py: Python<'_>, workspace: std::path::PathBuf) -> PyResult<Platform> {
        py.detach(|| idp_core::Platform::builtin(&workspace))
            .map(Platform::new)
            .map_err(|e| e.to_py_err(py))
    }

    /// The platform defined in folder `dir`, with repos, state and audit under `workspace`.
    #[staticmethod]
    fn from_dir(
        py: Python<'_>,
        dir: std::path::PathBuf,
        workspace: std::path::PathBuf,
    ) -> PyResult<Platform> {
        py.detach(|| idp_core::Platform::from_dir(&dir, &workspace))
            .map(Platform::new)
            .map_err(|e| e.to_py_err(py))
    }

    /// Calls api method `method` as `principal` (JSON: a user ref string or `{user, groups}`)
    /// with JSON `arguments`; returns the result as JSON text. Releases the GIL meanwhile.
    fn call(
        &self,
        py: Python<'_>,
        method: &str,
        principal: &str,
        arguments: &str,
    ) -> PyResult<String> {
        let p = Arc::clone(&self.inner);
        py.detach(move || -> idp_core::Result<String> {
            let who: Value = parse("principal", principal)?;
            let args: Value = parse("arguments", arguments)?;
            let who = api::principal(&p, &who)?;
            Ok(serde_json::to_string(&api::call(&p, &who, method, &args)?)?)
        })
        .map_err(|e| e.to_py_err(py))
    }

    /// Where repos, state and audit live.
    #[getter]
    fn workspace(&self) -> String {
        self.inner.workspace().to_string_lossy().into_owned()
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }
}

impl Platform {
    fn new(p: idp_core::Platform) -> Platform {
        Platform { inner: Arc::new(p) }
    }
}

fn parse(what: &'static str, text: &str) -> idp_core::Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        idp_core::Error::invalid(format!("{what} is not valid JSON: {e}")).with("field", what)
    })
}

/// `json.loads(text)`: the core's JSON as Python objects, keys in the core's order.
pub fn json_loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

/// Writes the built-in platform folder to `dir` for a team to edit; returns the number of files.
#[pyfunction]
pub fn init(py: Python<'_>, dir: std::path::PathBuf) -> PyResult<usize> {
    py.detach(|| idp_core::Platform::init_dir(&dir))
        .map_err(|e| e.to_py_err(py))
}
