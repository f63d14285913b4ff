//! Waivers: explicit, approved, expiring exceptions to one rule for one service (and optionally
//! one environment). A waiver applies only while it is approved and unexpired — every code path
//! asks [`Waiver::is_valid`].

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The rule a waiver of a protected-environment change names.
pub const PROTECTED_ENVIRONMENT: &str = "protected-environment";

/// The rule a waiver of a module parameter that needs approval names, before the parameter.
pub const MODULE_OVERRIDE: &str = "module-override:";

/// `module-override:<param>`.
pub fn module_override(param: &str) -> String {
    format!("{MODULE_OVERRIDE}{param}")
}

/// Longest a waiver may last.
pub const MAX_DAYS: i64 = 90;

/// A waiver and its approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Waiver {
    /// `wv-…`
    pub id: String,
    /// The rule it excepts: a guardrail rule (`image-tag-pinned`, `deny_privileged`),
    /// `protected-environment`, or `module-override:<param>`.
    pub rule: String,
    pub service: String,
    /// `None`: every environment.
    pub environment: Option<String>,
    pub justification: String,
    pub requested_by: String,
    pub requested_at: String,
    pub expires_at: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    /// The owning team named at request time, for a service idp has not created yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The operations it applies to (`provision_gitops`, `request_infra_resource`, `upgrade`,
    /// ...): an operation requested, or a step of one. Empty: every operation (not allowed for
    /// `protected-environment`, whose waivers approve named changes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<String>,
}

/// The operations a waiver may name: every operation of a service request, and `upgrade`.
pub fn waivable_operations() -> Vec<&'static str> {
    crate::request::Operation::ALL
        .iter()
        .map(|o| o.as_str())
        .chain(["upgrade"])
        .collect()
}

/// Where a waiver stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaiverState {
    Pending,
    Approved,
    Expired,
}

impl Waiver {
    /// Approved and not expired at `now` (RFC 3339 UTC).
    pub fn is_valid(&self, now: &str) -> bool {
        self.approved_by.is_some() && now < self.expires_at.as_str()
    }

    pub fn state(&self, now: &str) -> WaiverState {
        if now >= self.expires_at.as_str() {
            WaiverState::Expired
        } else if self.approved_by.is_some() {
            WaiverState::Approved
        } else {
            WaiverState::Pending
        }
    }

    /// True when this waiver covers `rule` for `service` in `environment`, for a change made
    /// by any of `operations` (the operation requested and the step making the change).
    pub fn covers(
        &self,
        rule: &str,
        service: &str,
        environment: Option<&str>,
        operations: &[&str],
    ) -> bool {
        self.rule == rule
            && self.service == service
            && match (&self.environment, environment) {
                (None, _) => true,
                (Some(w), Some(e)) => w == e,
                (Some(_), None) => false,
            }
            && (self.operations.is_empty()
                || self
                    .operations
                    .iter()
                    .any(|o| operations.contains(&o.as_str())))
    }
}

/// What a requester asks for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaiverRequest {
    pub rule: String,
    pub service: String,
    #[serde(default)]
    pub environment: Option<String>,
    pub justification: String,
    /// RFC 3339 time, or a duration from now: `12h`, `7d`.
    pub expires: String,
    /// The owning team, needed only for a service idp has not created yet (e.g. one whose
    /// first run a guardrail stops).
    #[serde(default)]
    pub owner: Option<String>,
    /// The operations it applies to ([`waivable_operations`]); required for
    /// `protected-environment`. Empty: every operation.
    #[serde(default)]
    pub operations: Vec<String>,
}

/// Parses `expires` into an RFC 3339 UTC time after `now`, at most [`MAX_DAYS`] ahead.
pub fn parse_expiry(expires: &str, now: chrono::DateTime<chrono::Utc>) -> Result<String> {
    let e = expires.trim();
    let at = if let Some(n) = e.strip_suffix('d').and_then(|n| n.parse::<i64>().ok()) {
        now + chrono::Duration::days(n)
    } else if let Some(n) = e.strip_suffix('h').and_then(|n| n.parse::<i64>().ok()) {
        now + chrono::Duration::hours(n)
    } else {
        chrono::DateTime::parse_from_rfc3339(e)
            .map_err(|_| {
                Error::invalid(format!(
                    "expires {} is neither an RFC 3339 time nor a duration like 12h or 7d",
                    crate::naming::shown(e)
                ))
                .with("field", "expires")
            })?
            .with_timezone(&chrono::Utc)
    };
    if at <= now {
        return Err(Error::invalid("a waiver must expire in the future").with("field", "expires"));
    }
    if at > now + chrono::Duration::days(MAX_DAYS) {
        return Err(
            Error::invalid(format!("a waiver may last at most {MAX_DAYS} days"))
                .with("field", "expires"),
        );
    }
    Ok(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// Checks the free-form parts of a request.
pub fn check_request(req: &WaiverRequest) -> Result<()> {
    let rule_ok = !req.rule.is_empty()
        && req.rule.len() <= 128
        && req
            .rule
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'));
    if !rule_ok {
        return Err(Error::invalid(format!(
            "rule {} is not a rule name (letters, digits, - _ : .)",
            crate::naming::shown(&req.rule)
        ))
        .with("field", "rule"));
    }
    let j = req.justification.trim();
    if j.chars().count() < 10 || j.chars().count() > 2000 {
        return Err(
            Error::invalid("a justification of 10 to 2000 characters is required")
                .with("field", "justification"),
        );
    }
    crate::golden_path::params::check_string("justification", j, false)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(approved: bool, expires: &str) -> Waiver {
        Waiver {
            id: "wv-1".into(),
            rule: PROTECTED_ENVIRONMENT.into(),
            service: "s".into(),
            environment: Some("prod".into()),
            justification: "because".into(),
            requested_by: "user:default/a".into(),
            requested_at: "2026-01-01T00:00:00.000Z".into(),
            expires_at: expires.into(),
            approved_by: approved.then(|| "user:default/p".into()),
            approved_at: None,
            owner: None,
            operations: vec!["provision_gitops".into()],
        }
    }

    #[test]
    fn only_approved_unexpired_waivers_are_valid() {
        let now = "2026-06-01T00:00:00.000Z";
        assert!(w(true, "2026-07-01T00:00:00.000Z").is_valid(now));
        assert!(!w(false, "2026-07-01T00:00:00.000Z").is_valid(now));
        assert!(!w(true, "2026-05-01T00:00:00.000Z").is_valid(now));
        assert_eq!(
            w(true, "2026-05-01T00:00:00.000Z").state(now),
            WaiverState::Expired
        );
    }

    #[test]
    fn scope_matches_rule_service_and_environment() {
        let x = w(true, "2099-01-01T00:00:00.000Z");
        let gitops = ["provision_gitops"];
        assert!(x.covers(PROTECTED_ENVIRONMENT, "s", Some("prod"), &gitops));
        assert!(!x.covers(PROTECTED_ENVIRONMENT, "s", Some("dev"), &gitops));
        assert!(!x.covers(PROTECTED_ENVIRONMENT, "t", Some("prod"), &gitops));
        assert!(!x.covers("naming", "s", Some("prod"), &gitops));
        // A run of the whole golden path makes the step it names; an upgrade is another change.
        assert!(x.covers(
            PROTECTED_ENVIRONMENT,
            "s",
            Some("prod"),
            &["run_golden_path", "provision_gitops"]
        ));
        assert!(!x.covers(PROTECTED_ENVIRONMENT, "s", Some("prod"), &["upgrade"]));
        assert!(!x.covers(
            PROTECTED_ENVIRONMENT,
            "s",
            Some("prod"),
            &["request_infra_resource", "request_infra_resource"]
        ));
        // No operations named: any.
        let any = Waiver {
            operations: vec![],
            ..x
        };
        assert!(any.covers(PROTECTED_ENVIRONMENT, "s", Some("prod"), &["upgrade"]));
    }

    #[test]
    fn expiry_must_be_future_and_bounded() {
        let now = chrono::Utc::now();
        assert!(parse_expiry("7d", now).is_ok());
        assert!(parse_expiry("0h", now).is_err());
        assert!(parse_expiry("365d", now).is_err());
        assert!(parse_expiry("2001-01-01T00:00:00Z", now).is_err());
        assert!(parse_expiry("soon", now).is_err());
    }
}
