//! The core's error kinds as Python exceptions: one class per [`ErrorKind`] under `idp.IdpError`,
//! each instance carrying `.kind`, `.reason`, `.context` and `.details`. The mapping lives in [`ToPyErr`]
//! (one extension trait, as in every face) and nowhere else.

use idp_core::{Error, ErrorKind};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;

create_exception!(
    idp,
    IdpError,
    PyException,
    "Base of every idp error. `.kind` is the core's error kind (`Denied`, ...), `.reason` the message \
     alone (`str(e)` adds the context), `.context` a dict \
     of what the error is about (file, field, ...), `.details` structured details or None."
);
create_exception!(
    idp,
    InvalidInputError,
    IdpError,
    "The request or the platform configuration is malformed. Nothing was written."
);
create_exception!(
    idp,
    DeniedError,
    IdpError,
    "The principal is not allowed to do this. Nothing was written."
);
create_exception!(
    idp,
    ConflictError,
    IdpError,
    "The request collides with existing state (a name taken by another owner, a run in progress)."
);
create_exception!(
    idp,
    NotFoundError,
    IdpError,
    "Something the request refers to does not exist (service, run, team, golden path)."
);
create_exception!(
    idp,
    PolicyViolationError,
    IdpError,
    "A guardrail denied the change set; `.details` lists every violation. Nothing was written."
);
create_exception!(
    idp,
    ProviderError,
    IdpError,
    "A provider (git, database, remote API) failed."
);
create_exception!(
    idp,
    InternalError,
    IdpError,
    "A bug or an unexpected state inside idp."
);

/// The Python exception class for `kind`, by name, for [`register`].
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidInput => "InvalidInputError",
        ErrorKind::Denied => "DeniedError",
        ErrorKind::Conflict => "ConflictError",
        ErrorKind::NotFound => "NotFoundError",
        ErrorKind::PolicyViolation => "PolicyViolationError",
        ErrorKind::Provider => "ProviderError",
        ErrorKind::Internal => "InternalError",
    }
}

/// Maps the core's [`Error`] to the Python exception of its kind.
pub trait ToPyErr {
    fn to_py_err(&self, py: Python<'_>) -> PyErr;
}

impl ToPyErr for Error {
    fn to_py_err(&self, py: Python<'_>) -> PyErr {
        let message = self.to_string();
        let err = match self.kind() {
            ErrorKind::InvalidInput => InvalidInputError::new_err(message),
            ErrorKind::Denied => DeniedError::new_err(message),
            ErrorKind::Conflict => ConflictError::new_err(message),
            ErrorKind::NotFound => NotFoundError::new_err(message),
            ErrorKind::PolicyViolation => PolicyViolationError::new_err(message),
            ErrorKind::Provider => ProviderError::new_err(message),
            ErrorKind::Internal => InternalError::new_err(message),
        };
        if let Err(e) = attach(py, &err, self) {
            return e;
        }
        err
    }
}

/// Sets `.kind`, `.reason`, `.context` and `.details` on the exception instance.
fn attach(py: Python<'_>, err: &PyErr, e: &Error) -> PyResult<()> {
    let value = err.value(py);
    value.setattr("kind", e.kind().as_str())?;
    value.setattr("reason", e.message())?;
    let context = PyDict::new(py);
    for (k, v) in e.context() {
        context.set_item(*k, v)?;
    }
    value.setattr("context", context)?;
    let details = match e.details() {
        Some(d) => crate::platform::json_loads(py, &d.to_string())?,
        None => py.None().into_bound(py),
    };
    value.setattr("details", details)
}

/// Adds the exception classes to the module, each with its `kind` as a class attribute (so
/// `except idp.DeniedError` and `e.kind == idp.DeniedError.kind` both work).
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let base = py.get_type::<IdpError>();
    base.setattr("kind", py.None())?;
    base.setattr("reason", "")?;
    base.setattr("context", PyDict::new(py))?;
    base.setattr("details", py.None())?;
    m.add("IdpError", base)?;
    for (kind, class) in [
        (ErrorKind::InvalidInput, py.get_type::<InvalidInputError>()),
        (ErrorKind::Denied, py.get_type::<DeniedError>()),
        (ErrorKind::Conflict, py.get_type::<ConflictError>()),
        (ErrorKind::NotFound, py.get_type::<NotFoundError>()),
        (
            ErrorKind::PolicyViolation,
            py.get_type::<PolicyViolationError>(),
        ),
        (ErrorKind::Provider, py.get_type::<ProviderError>()),
        (ErrorKind::Internal, py.get_type::<InternalError>()),
    ] {
        class.setattr("kind", kind.as_str())?;
        m.add(class_name(kind), class)?;
    }
    let kinds: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
    m.add("ERROR_KINDS", kinds)?;
    Ok(())
}
