//! A request file (JSON or YAML, any bytes): reading and preflight checks never panic, and an
//! error never repeats the input (it may be a password file).
#![no_main]
use idp_core::ServiceRequest;
use idp_core::golden_path::params::{check_string, check_value, is_secret_key};
use libfuzzer_sys::fuzz_target;

/// The built-in idp.yaml, parsed once (loading the built-in platform compiles its templates).
fn builtin() -> &'static idp_core::config::PlatformConfig {
    static CFG: std::sync::OnceLock<idp_core::config::PlatformConfig> = std::sync::OnceLock::new();
    CFG.get_or_init(|| idp_core::Platform::builtin_config().expect("the built-in platform loads"))
}

fuzz_target!(|data: &[u8]| {
    let req = match ServiceRequest::read("fuzz.yaml", data) {
        Ok(r) => r,
        Err(e) => {
            let shown = e.to_string();
            assert!(!shown.contains('\n'), "a multi-line error: {shown}");
            // A line like a password hash (`root:$6$...`) never reaches the message. (Any line
            // could: the fuzzer writes idp's own phrasing into its input, so the check keeps to
            // text idp's messages never contain: a `$`.)
            if let Ok(text) = std::str::from_utf8(data) {
                for line in text
                    .lines()
                    .map(str::trim)
                    .filter(|l| l.len() >= 8 && l.contains('$'))
                {
                    assert!(!shown.contains(line), "the input was echoed: {shown}");
                }
            }
            return;
        }
    };
    let _ = check_string("service", &req.service, false);
    let _ = check_string("owner", &req.owner, false);
    let _ = check_value(
        "parameters",
        &serde_json::Value::Object(req.parameters.clone()),
        &is_secret_key,
    );
    let _ = check_value(
        "intents",
        &serde_json::Value::Array(req.intents.clone()),
        &is_secret_key,
    );
    let _ = builtin().check_service_name(&req.service);
});
