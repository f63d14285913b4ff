//! Time: the [`Clock`] a platform reads (injectable, so tests and `idp policy test` can set it),
//! and the one text form times take in records, receipts and the audit log.
//!
//! The clock is the one periphery trait that is not async: reading it never waits, and an
//! `async fn now()` would force `.await` into pure code (waiver validity, change windows).

use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// Where a platform gets the current time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that says what it is told: for tests, and for policy tests that set the time.
///
/// ```
/// use idp_core::time::{Clock, FixedClock};
/// let c = FixedClock::at("2026-11-27T16:00:00Z").unwrap();
/// c.advance(chrono::Duration::hours(1));
/// assert_eq!(idp_core::time::rfc3339(c.now()), "2026-11-27T17:00:00.000Z");
/// ```
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(t: DateTime<Utc>) -> FixedClock {
        FixedClock(Mutex::new(t))
    }

    /// A clock at RFC 3339 time `t`.
    pub fn at(t: &str) -> Option<FixedClock> {
        let t = DateTime::parse_from_rfc3339(t).ok()?.with_timezone(&Utc);
        Some(FixedClock::new(t))
    }

    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A time as idp writes it: RFC 3339, UTC, milliseconds (sortable as text).
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The operating system's time as [`rfc3339`] text (for providers, which have no platform clock).
pub fn system_now() -> String {
    rfc3339(Utc::now())
}
