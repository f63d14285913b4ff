//! `idp._native`: the Python face of idp-core, built by maturin. Everything goes through
//! [`idp_core::api::call`]; the pure-Python package `idp` (python/idp/) wraps it with one typed
//! method per operation, request dataclasses, result objects and `idp.aio`.

mod error;
mod platform;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("METHODS", idp_core::api::METHODS.to_vec())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<platform::Platform>()?;
    m.add_function(wrap_pyfunction!(platform::init, m)?)?;
    error::register(m)?;
    Ok(())
}
