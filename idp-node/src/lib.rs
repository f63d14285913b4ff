//! The Node face of idp-core (napi-rs): `Platform` with one Promise-returning method per call of
//! the core's call surface ([`idp_core::api::METHODS`], camelCase), run on tokio; errors whose
//! `code` is the core's error kind; a generated `index.d.ts` whose argument and result types
//! come from the core's Rust types (`api.d.ts`). Everything goes through [`idp_core::api::Call`].

mod error;
mod platform;

use napi_derive::napi;

pub use platform::{CallOptions, Platform, PlatformOptions};

/// Every method of the core's call surface, snake_case, in the core's order; each is a
/// camelCase method of `Platform`.
#[napi]
pub fn methods() -> Vec<&'static str> {
    idp_core::api::METHODS.to_vec()
}

/// idp's version (`0.1.0`): the workspace's, as `idp --version`, this package's package.json and
/// the Python package give it.
#[napi]
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Every error kind: the values of `error.code`.
#[napi]
pub fn error_kinds() -> Vec<&'static str> {
    idp_core::ErrorKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect()
}

/// Writes the built-in platform folder to `dir` for a team to edit; returns the file count.
#[napi]
pub fn init(env: napi::Env, dir: String) -> napi::Result<u32> {
    use crate::error::ToJsError;
    idp_core::Platform::init_dir(dir)
        .map(|n| n as u32)
        .map_err(|e| e.to_js_error(&env))
}
