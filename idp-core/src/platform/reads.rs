//! Reads through the policy point. Listing runs, the fleet, waivers, the audit log and the
//! infrastructure impact shows what other teams own, so each read asks Cedar, per service, for
//! `explain` (the read the built-in policies give the owning team and platform admins), returns
//! only what the principal may read, and is recorded in the audit log like any other operation.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::Platform;
use crate::audit::AuditEvent;
use crate::error::{Error, ErrorKind, Result};
use crate::org::Principal;
use crate::policy::{AuthzContext, AuthzRequest, AuthzResource};

/// What a principal may read.
pub(crate) struct ReadScope {
    /// Services it may read.
    pub services: BTreeSet<String>,
    /// Owners of services idp knows (service -> team), for records of services it may not read.
    pub known: BTreeMap<String, String>,
    /// Members of a platform-admin team also read platform-level records (policy loads, pins).
    pub platform: bool,
}

impl ReadScope {
    pub fn service(&self, name: &str) -> bool {
        self.services.contains(name)
    }
}

/// May `who` read `service` (owned by `owner`)?
pub(crate) fn may_read(p: &Platform, who: &Principal, service: &str, owner: &str) -> Result<bool> {
    Ok(p.authorize(&AuthzRequest {
        principal: who.clone(),
        action: "explain".into(),
        resource: AuthzResource::Service {
            name: service.to_string(),
            owner: owner.to_string(),
            golden_path: String::new(),
        },
        context: AuthzContext::default(),
    })?
    .allowed)
}

/// Every service `who` may read, decided once per service.
pub(crate) async fn scope(p: &Platform, who: &Principal) -> Result<ReadScope> {
    let mut out = ReadScope {
        services: BTreeSet::new(),
        known: BTreeMap::new(),
        platform: super::pin::is_admin(p, who),
    };
    for rec in p.state.list_services().await? {
        if may_read(p, who, &rec.name, &rec.owner)? {
            out.services.insert(rec.name.clone());
        }
        out.known.insert(rec.name, rec.owner);
    }
    Ok(out)
}

/// With a `service` filter, the principal must be allowed to read that service (a denial is
/// recorded and returned); a service idp does not know reads as empty.
pub(crate) async fn check_filter(
    p: &Platform,
    who: &Principal,
    operation: &str,
    scope: &ReadScope,
    service: Option<&str>,
) -> Result<()> {
    let Some(s) = service else { return Ok(()) };
    if scope.known.contains_key(s) && !scope.service(s) {
        record(p, who, operation, Some(s), false, 0).await?;
        return Err(Error::new(
            ErrorKind::Denied,
            format!(
                "{} may not {operation} of service {}: only its owning team and platform admins may",
                who.user,
                crate::naming::shown(s)
            ),
        )
        .with("action", "explain"));
    }
    Ok(())
}

/// Records a read: what was asked for and how many items were returned.
pub(crate) async fn record(
    p: &Platform,
    who: &Principal,
    operation: &str,
    service: Option<&str>,
    allowed: bool,
    returned: usize,
) -> Result<()> {
    super::policy_point::audit(
        p,
        &who.user,
        AuditEvent {
            operation: operation.to_string(),
            resource: service
                .map(super::policy_point::service_resource_name)
                .unwrap_or_else(|| "platform:reads".into()),
            decision: if allowed { "allow" } else { "deny" }.into(),
            outcome: if allowed { "read" } else { "denied" }.into(),
            details: json!({ "returned": returned }),
            ..Default::default()
        },
    )
    .await
}
