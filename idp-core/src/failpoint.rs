//! Fail points for crash tests: `IDP_FAILPOINT=<name>` makes the process die abruptly at that
//! point (`abort`, like a SIGKILL: no destructors, no cleanup), and `IDP_FAILPOINT=<name>:pause`
//! makes it write `<name>` to `$IDP_FAILPOINT_READY` and sleep, so a test can kill it from
//! outside. Unset (always, in production) it costs one environment lookup per point.

use std::sync::OnceLock;

static SPEC: OnceLock<Option<(String, bool)>> = OnceLock::new();

fn spec() -> &'static Option<(String, bool)> {
    SPEC.get_or_init(|| {
        let v = std::env::var("IDP_FAILPOINT").ok()?;
        match v.strip_suffix(":pause") {
            Some(name) => Some((name.to_string(), true)),
            None => Some((v, false)),
        }
    })
}

/// Marks a point where a crash must be survivable.
pub fn hit(name: &str) {
    let Some((want, pause)) = spec() else { return };
    if want != name {
        return;
    }
    if *pause {
        if let Ok(ready) = std::env::var("IDP_FAILPOINT_READY") {
            let _ = std::fs::write(ready, name);
        }
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    eprintln!("idp: fail point {name} reached; aborting");
    std::process::abort();
}
