//! The guardrails' YAML reading: the fast reader for generated YAML must read every file as
//! serde_norway does. Where serde_norway reads documents, `parse_documents` must give the same
//! values; where serde_norway fails, it must fail too (the fast reader never accepts what
//! serde_norway refuses).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let reference: Result<Vec<serde_json::Value>, _> = serde_norway::Deserializer::from_str(text)
        .map(serde_json::Value::deserialize)
        .filter(|v| !matches!(v, Ok(serde_json::Value::Null)))
        .collect();
    let ours = idp_core::policy::guardrails::parse_documents("fuzz.yaml", data);
    match (reference, ours) {
        (Ok(r), Ok(o)) => assert_eq!(r, o, "{text:?}"),
        (Err(_), Err(_)) => {}
        (Ok(r), Err(e)) => panic!("serde_norway reads {r:?}, idp fails: {e}; {text:?}"),
        (Err(e), Ok(o)) => panic!("serde_norway fails ({e}), idp reads {o:?}; {text:?}"),
    }
});
