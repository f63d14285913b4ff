//! Waiver operations on the platform: request, approve, list. Every one passes the policy point
//! and is recorded in the audit log, allowed or denied.

use serde_json::json;

use super::{Platform, policy_point};
use crate::audit::AuditEvent;
use crate::error::{Error, ErrorKind, Result};
use crate::org::Principal;
use crate::policy::waivers::{
    PROTECTED_ENVIRONMENT, check_request, module_override, parse_expiry, waivable_operations,
};
use crate::policy::{AuthzContext, AuthzRequest, AuthzResource, Waiver, WaiverRequest};

async fn waiver_resource(p: &Platform, w: &Waiver) -> Result<AuthzResource> {
    let owner = p.state.get_service(&w.service).await?.map(|s| s.owner).or_else(|| w.owner.clone()).ok_or_else(|| {
        Error::not_found(format!(
            "idp has no service called {}; to ask for a waiver before it exists, name its owning team (--owner)",
            w.service
        ))
        .with("field", "service")
    })?;
    Ok(AuthzResource::Waiver {
        id: w.id.clone(),
        rule: w.rule.clone(),
        service: w.service.clone(),
        service_owner: owner,
        requested_by: w.requested_by.clone(),
    })
}

/// The audit record of a waiver request refused before any decision.
fn rejected(operation: &str, resource: String, e: &Error) -> AuditEvent {
    AuditEvent {
        operation: operation.into(),
        resource,
        decision: "none".into(),
        outcome: "rejected".into(),
        details: json!({"error": {"kind": e.kind().as_str(), "message": e.message()}}),
        ..Default::default()
    }
}

fn event(
    w: &Waiver,
    operation: &str,
    decision: &str,
    outcome: &str,
    policies: Vec<String>,
) -> AuditEvent {
    AuditEvent {
        operation: operation.into(),
        resource: format!("service:{}", w.service),
        input_digest: crate::digest::sha256_hex(
            serde_json::to_string(w).unwrap_or_default().as_bytes(),
        ),
        decision: decision.into(),
        policies,
        waivers: vec![w.id.clone()],
        outcome: outcome.into(),
        details: json!({
            "waiver": w.id, "rule": w.rule, "environment": w.environment, "operations": w.operations,
            "expires_at": w.expires_at, "requested_by": w.requested_by,
        }),
        ..Default::default()
    }
}

impl Platform {
    /// Asks for an exception to `req.rule` for a service (and environment), until `req.expires`.
    /// The waiver applies only once another principal approves it.
    pub async fn request_waiver(&self, who: &Principal, req: &WaiverRequest) -> Result<Waiver> {
        super::pin::guard(
            self,
            who,
            "request_waiver",
            &policy_point::service_resource_name(&req.service),
        )
        .await?;
        let result = self.request_waiver_checked(who, req).await;
        if let Err(e) = &result
            // Denials are recorded where they are decided; refusals of bad requests here.
            && e.kind() != ErrorKind::Denied
        {
            let resource = policy_point::service_resource_name(&req.service);
            let _ =
                policy_point::audit(self, &who.user, rejected("request_waiver", resource, e)).await;
        }
        result
    }

    async fn request_waiver_checked(&self, who: &Principal, req: &WaiverRequest) -> Result<Waiver> {
        check_request(req)?;
        check_rule(&self.def, &req.rule)?;
        let owner = match (self.state.get_service(&req.service).await?, &req.owner) {
            (Some(s), Some(o))
                if crate::org::entity_ref("group", o)
                    != crate::org::entity_ref("group", &s.owner) =>
            {
                return Err(Error::conflict(format!(
                    "{} is owned by {}, not {o}",
                    req.service, s.owner
                ))
                .with("field", "owner"));
            }
            (Some(_), _) => None,
            (None, Some(o)) => Some(
                self.def
                    .directory
                    .team(o)
                    .map(|t| t.name.clone())
                    .ok_or_else(|| {
                        Error::not_found(format!(
                            "owner team {} does not exist",
                            crate::naming::shown(o)
                        ))
                        .with("field", "owner")
                    })?,
            ),
            (None, None) => None,
        };
        self.def.config.check_service_name(&req.service)?;
        if let Some(env) = &req.environment
            && self.def.config.environment(env).is_none()
        {
            return Err(Error::invalid(format!(
                "environment {} is not in idp.yaml",
                crate::naming::shown(env)
            ))
            .with("field", "environment"));
        }
        if req.rule == PROTECTED_ENVIRONMENT && req.environment.is_none() {
            return Err(Error::invalid(
                "a protected-environment waiver must name its environment (--env)",
            )
            .with("field", "environment"));
        }
        let valid = waivable_operations();
        if let Some(bad) = req.operations.iter().find(|o| !valid.contains(&o.as_str())) {
            return Err(Error::invalid(format!(
                "operation {} cannot be waived; operations: {}",
                crate::naming::shown(bad),
                valid.join(", ")
            ))
            .with("field", "operations"));
        }
        if req.rule == PROTECTED_ENVIRONMENT && req.operations.is_empty() {
            return Err(Error::invalid(format!(
                "a protected-environment waiver approves named changes: give the operations it \
                 approves (--operation, repeatable: {})",
                valid.join(", ")
            ))
            .with("field", "operations"));
        }
        let mut operations = req.operations.clone();
        operations.sort();
        operations.dedup();
        let now = self.now();
        let w = Waiver {
            id: format!("wv-{}", crate::digest::random_hex(6)),
            rule: req.rule.clone(),
            service: req.service.clone(),
            environment: req.environment.clone(),
            justification: req.justification.trim().to_string(),
            requested_by: crate::org::entity_ref("user", &who.user),
            requested_at: self.now_text(),
            expires_at: parse_expiry(&req.expires, now)?,
            approved_by: None,
            approved_at: None,
            owner,
            operations,
        };
        let resource = waiver_resource(self, &w).await?;
        let d = self.authorize(&AuthzRequest {
            principal: who.clone(),
            action: "request_waiver".into(),
            resource,
            context: AuthzContext::default(),
        })?;
        if !d.allowed {
            policy_point::audit(
                self,
                &who.user,
                event(&w, "request_waiver", "deny", "denied", d.policies),
            )
            .await?;
            return Err(Error::new(
                ErrorKind::Denied,
                format!(
                    "{} may not request waivers for {}: only its owning team can",
                    who.user, w.service
                ),
            ));
        }
        self.state.put_waiver(&w).await?;
        policy_point::audit(
            self,
            &who.user,
            event(&w, "request_waiver", "allow", "requested", d.policies),
        )
        .await?;
        Ok(w)
    }

    /// Approves waiver `id`. The approver must be allowed by policy and must not be the requester.
    pub async fn approve_waiver(&self, who: &Principal, id: &str) -> Result<Waiver> {
        super::pin::guard(self, who, "approve_waiver", "waiver").await?;
        let result = self.approve_waiver_checked(who, id).await;
        if let Err(e) = &result
            && matches!(
                e.kind(),
                ErrorKind::NotFound | ErrorKind::Conflict | ErrorKind::InvalidInput
            )
        {
            let _ = policy_point::audit(
                self,
                &who.user,
                rejected(
                    "approve_waiver",
                    format!("waiver:{}", crate::naming::shown(id)),
                    e,
                ),
            )
            .await;
        }
        result
    }

    async fn approve_waiver_checked(&self, who: &Principal, id: &str) -> Result<Waiver> {
        let mut w = self.state.get_waiver(id).await?.ok_or_else(|| {
            Error::not_found(format!(
                "waiver {} does not exist",
                crate::naming::shown(id)
            ))
            .with("field", "id")
        })?;
        let now = self.now_text();
        let me = crate::org::entity_ref("user", &who.user);
        let refuse = async |msg: String,
                            kind: ErrorKind,
                            w: &Waiver,
                            policies: Vec<String>|
               -> Result<Waiver> {
            policy_point::audit(
                self,
                &who.user,
                event(w, "approve_waiver", "deny", "denied", policies),
            )
            .await?;
            Err(Error::new(kind, msg))
        };
        if w.approved_by.is_some() {
            return Err(Error::conflict(format!("waiver {id} is already approved")));
        }
        if w.state(&now) == crate::policy::WaiverState::Expired {
            return refuse(
                format!("waiver {id} expired at {}; request a new one", w.expires_at),
                ErrorKind::Conflict,
                &w,
                vec![],
            )
            .await;
        }
        if me == w.requested_by {
            return refuse(
                format!("{me} requested waiver {id} and may not approve it"),
                ErrorKind::Denied,
                &w,
                vec![],
            )
            .await;
        }
        let d = self.authorize(&AuthzRequest {
            principal: who.clone(),
            action: "approve_waiver".into(),
            resource: waiver_resource(self, &w).await?,
            context: AuthzContext::default(),
        })?;
        if !d.allowed {
            return refuse(
                format!("{me} may not approve waiver {id}"),
                ErrorKind::Denied,
                &w,
                d.policies,
            )
            .await;
        }
        w.approved_by = Some(me);
        w.approved_at = Some(now);
        self.state.put_waiver(&w).await?;
        policy_point::audit(
            self,
            &who.user,
            event(&w, "approve_waiver", "allow", "approved", d.policies),
        )
        .await?;
        Ok(w)
    }

    /// Waivers with their state, of one service when given.
    /// Only waivers of services `who` may read (for a service idp has not created yet: of the
    /// owning team named in the request) are listed; the read is recorded.
    pub async fn list_waivers(
        &self,
        who: &Principal,
        service: Option<&str>,
    ) -> Result<Vec<(Waiver, crate::policy::WaiverState)>> {
        let scope = super::reads::scope(self, who).await?;
        super::reads::check_filter(self, who, "list_waivers", &scope, service).await?;
        let now = self.now_text();
        let mut out = Vec::new();
        for w in self.state.list_waivers(service).await? {
            let visible = match (scope.known.contains_key(&w.service), &w.owner) {
                (true, _) => scope.service(&w.service),
                (false, Some(owner)) => super::reads::may_read(self, who, &w.service, owner)?,
                (false, None) => scope.platform,
            };
            if visible {
                let s = w.state(&now);
                out.push((w, s));
            }
        }
        super::reads::record(self, who, "list_waivers", service, true, out.len()).await?;
        Ok(out)
    }
}

/// Every rule a waiver can except on this platform: a protected-environment change, a blocking
/// guardrail, or a module parameter that needs approval (`module-override:<param>`).
fn waivable_rules(def: &super::definition::PlatformDef) -> Vec<String> {
    let mut rules = vec![PROTECTED_ENVIRONMENT.to_string()];
    rules.extend(def.guardrails.blocking_rules());
    let overrides: std::collections::BTreeSet<String> = def
        .catalog
        .modules
        .iter()
        .flat_map(|m| &m.def.params)
        .filter(|(_, p)| p.can_need_approval())
        .map(|(name, _)| module_override(name))
        .collect();
    rules.extend(overrides);
    rules
}

/// A waiver of a rule that nothing checks would be approved and do nothing.
fn check_rule(def: &super::definition::PlatformDef, rule: &str) -> Result<()> {
    let valid = waivable_rules(def);
    if valid.iter().any(|r| r == rule) {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "rule {} is not a rule a waiver can except here; the rules are: {}",
        crate::naming::shown(rule),
        valid.join(", ")
    ))
    .with("field", "rule"))
}
