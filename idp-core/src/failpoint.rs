//! Fail points for crash tests: `IDP_FAILPOINT=<name>` makes the process die abruptly at that
//! point (`abort`, like a SIGKILL: no destructors, no cleanup), and `IDP_FAILPOINT=<name>:pause`
//! makes it write `<name>` to `$IDP_FAILPOINT_READY` and sleep, so a test can kill it from
//! outside; `IDP_FAILPOINT=<name>:delay` writes the same file and goes on after two seconds, so
//! a test can do something (press Ctrl-C) while the process is at that point;
//! `IDP_FAILPOINT=<name>:error` makes [`check`] there return an I/O error (a disk or network
//! failure the process survives).
//!
//! Only with the cargo feature `failpoints`, which the test builds turn on and released builds
//! (the bindings' wheels and packages) leave off: there, [`hit`] is an empty function, and no
//! environment variable can make a library embedded in someone's server abort it.

#[cfg(feature = "failpoints")]
use std::sync::OnceLock;

/// What a fail point does when reached.
#[cfg(feature = "failpoints")]
#[derive(PartialEq)]
enum Action {
    Abort,
    Pause,
    Delay,
    Error,
}

#[cfg(feature = "failpoints")]
static SPEC: OnceLock<Option<(String, Action)>> = OnceLock::new();

#[cfg(feature = "failpoints")]
fn spec() -> &'static Option<(String, Action)> {
    SPEC.get_or_init(|| {
        let v = std::env::var("IDP_FAILPOINT").ok()?;
        for (suffix, action) in [
            (":pause", Action::Pause),
            (":delay", Action::Delay),
            (":error", Action::Error),
        ] {
            if let Some(name) = v.strip_suffix(suffix) {
                return Some((name.to_string(), action));
            }
        }
        Some((v, Action::Abort))
    })
}

/// Marks a point where a crash must be survivable (a no-op without the `failpoints` feature).
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hit(_name: &str) {}

/// Marks a point where a crash must be survivable.
#[cfg(feature = "failpoints")]
pub fn hit(name: &str) {
    let Some((want, action)) = spec() else { return };
    if want != name {
        return;
    }
    if *action == Action::Error {
        return;
    }
    if *action != Action::Abort
        && let Ok(ready) = std::env::var("IDP_FAILPOINT_READY")
    {
        let _ = std::fs::write(ready, name);
    }
    match action {
        Action::Pause => loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        },
        Action::Delay => std::thread::sleep(std::time::Duration::from_secs(2)),
        Action::Error => {}
        Action::Abort => {
            eprintln!("idp: fail point {name} reached; aborting");
            std::process::abort();
        }
    }
}

/// A point where an I/O error must be survivable: `Err` when `IDP_FAILPOINT=<name>:error`
/// (always `Ok` without the `failpoints` feature). Also a [`hit`] point.
#[cfg(feature = "failpoints")]
pub fn check(name: &str) -> crate::Result<()> {
    if let Some((want, Action::Error)) = spec()
        && want == name
    {
        return Err(crate::Error::provider(format!(
            "injected I/O failure at {name} (IDP_FAILPOINT)"
        )));
    }
    hit(name);
    Ok(())
}

/// A point where an I/O error must be survivable (a no-op without the `failpoints` feature).
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn check(_name: &str) -> crate::Result<()> {
    Ok(())
}
