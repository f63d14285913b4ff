//! `idp._native`: the Python face of idp-core, built by maturin. Every call goes through
//! [`idp_core::api::Call`]; the pure-Python package `idp` (python/idp/) wraps it with one typed
//! method per operation (generated from the core's call surface), request dataclasses, result
//! classes, and `idp.aio`.

mod error;
mod platform;
mod runtime;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("METHODS", idp_core::api::METHODS.to_vec())?;
    m.add("ERROR_KINDS", error::kinds())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<platform::Platform>()?;
    m.add_class::<platform::PyCancelToken>()?;
    m.add_function(wrap_pyfunction!(platform::init, m)?)?;
    Ok(())
}
