//! The core's errors as Python exceptions. The classes are defined in `idp/exceptions.py` (so
//! they can also inherit Python's builtins: `NotFoundError` is a `LookupError`, ...); the
//! mapping from the core's kinds to them lives here, in [`ToPyErr`], and nowhere else.

use idp_core::{Error, ErrorKind};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

/// The exception class of `kind`, by name in `idp.exceptions`; a kind this build does not know
/// yet (`ErrorKind` is non-exhaustive) raises the base class.
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidInput => "InvalidInputError",
        ErrorKind::Denied => "DeniedError",
        ErrorKind::Conflict => "ConflictError",
        ErrorKind::NotFound => "NotFoundError",
        ErrorKind::PolicyViolation => "PolicyViolationError",
        ErrorKind::Provider => "ProviderError",
        ErrorKind::Internal => "InternalError",
        ErrorKind::Cancelled => "CancelledError",
        _ => "IdpError",
    }
}

/// Maps the core's [`Error`] to the Python exception of its kind.
pub trait ToPyErr {
    fn to_py_err(&self, py: Python<'_>) -> PyErr;
}

impl ToPyErr for Error {
    fn to_py_err(&self, py: Python<'_>) -> PyErr {
        match build(py, self) {
            Ok(e) => e,
            Err(e) => e,
        }
    }
}

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let module = MODULE
        .get_or_try_init(py, || py.import("idp.exceptions").map(Bound::unbind))?
        .bind(py);
    let class = module
        .getattr(class_name(e.kind()))?
        .cast_into::<PyType>()?;
    let value = class.call1((e.to_string(),))?;
    value.setattr("kind", e.kind().as_str())?;
    value.setattr("reason", e.message())?;
    value.setattr("retryable", e.retryable())?;
    let context = PyDict::new(py);
    for (k, v) in e.context() {
        context.set_item(*k, v)?;
    }
    value.setattr("context", context)?;
    let details = match e.details() {
        Some(d) => py.import("json")?.call_method1("loads", (d.to_string(),))?,
        None => py.None().into_bound(py),
    };
    value.setattr("details", details)?;
    Ok(PyErr::from_value(value))
}

/// The kinds every face knows, for `idp.exceptions` to check its classes against.
pub fn kinds() -> Vec<&'static str> {
    ErrorKind::ALL.iter().map(|k| k.as_str()).collect()
}
