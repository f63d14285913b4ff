//! The core's errors as JavaScript `Error`s: `code` is the core's error kind (`'Denied'`,
//! `'InvalidInput'`, ...), `message` the human text with its context, `reason` the message
//! alone (the CLI's JSON `message`), `retryable` whether the same call may succeed when made
//! again later, `context` an object of what the error is about, `details` structured details or
//! `null`. The mapping lives in [`ToJsError`] (one extension trait, as in
//! every face).

use idp_core::Error;
use napi::bindgen_prelude::*;

/// Maps the core's [`Error`] to a JS `Error` with `code`, `reason`, `context` and `details`.
pub trait ToJsError {
    /// The JS error, ready to reject a promise with.
    fn to_js_error(&self, env: &Env) -> napi::Error;
}

impl ToJsError for Error {
    fn to_js_error(&self, env: &Env) -> napi::Error {
        match build(env, self) {
            Ok(e) => e,
            Err(e) => e,
        }
    }
}

fn build(env: &Env, e: &Error) -> Result<napi::Error> {
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, e.to_string()))?;
    let json = e.to_json();
    obj.set("code", e.kind().as_str())?;
    obj.set("reason", e.message())?;
    obj.set("retryable", e.retryable())?;
    obj.set("context", &json["context"])?;
    obj.set("details", &json["details"])?;
    Ok(napi::Error::from(obj.to_unknown()))
}
