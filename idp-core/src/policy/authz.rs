//! Authorization with Cedar: policies from `policies/*.cedar`, validated strictly against idp's
//! schema at load, indexed by (action, resource type) so that a decision only evaluates the
//! policies that can apply to it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    ActionConstraint, Authorizer, Context, Decision, Entities, Entity, EntityTypeName, EntityUid,
    PolicyId, PolicySet, Request, ResourceConstraint, RestrictedExpression, Schema, ValidationMode,
    Validator,
};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::org::{Directory, Principal};

/// The Cedar schema idp ships (`docs/policy.md` explains it).
pub const SCHEMA: &str = include_str!("idp.cedarschema");

/// Who wants to do what to which resource, in which context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuthzRequest {
    pub principal: Principal,
    /// `bootstrap_service`, `approve_waiver`, ...
    pub action: String,
    pub resource: AuthzResource,
    #[serde(default)]
    pub context: AuthzContext,
}

/// The resource of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AuthzResource {
    Service {
        name: String,
        /// Owning team (`team-payments`).
        owner: String,
        #[serde(default)]
        golden_path: String,
    },
    Waiver {
        id: String,
        rule: String,
        service: String,
        service_owner: String,
        requested_by: String,
    },
}

/// The context of a service operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuthzContext {
    /// The environment the change touches (name from idp.yaml).
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub approved: bool,
    #[serde(default)]
    pub change_window: bool,
    #[serde(default)]
    pub first_deploy: bool,
    #[serde(default)]
    pub dry_run: bool,
}

/// A decision and the policies that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Decided {
    pub allowed: bool,
    /// `@id`s of the policies that decided (the permits that allowed, or the forbids that denied;
    /// empty for a deny by default).
    pub policies: Vec<String>,
    /// Evaluation errors (a policy that failed to evaluate does not apply).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Environment facts the entity builder needs.
#[derive(Debug, Clone)]
pub struct EnvFacts {
    pub protected: bool,
    pub kind: String,
}

/// Loaded, validated, indexed Cedar policies.
pub struct Authz {
    all: PolicySet,
    index: HashMap<(String, String), PolicySet>,
    ids: Vec<String>,
    authorizer: Authorizer,
    use_index: bool,
    /// Entities every request shares: the schema's actions (with their groups) and the teams of
    /// the bound directory. Each decision adds only its own few entities to a clone.
    base: Entities,
    base_uids: HashSet<String>,
    /// (action, resource type) pairs the schema allows.
    applies: HashSet<(String, String)>,
}

fn uid(ty: &str, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(
        EntityTypeName::from_str(ty).expect("idp's entity type names are valid"),
        cedar_policy::EntityId::new(id),
    )
}

fn action_uid(action: &str) -> EntityUid {
    uid("Idp::Action", action)
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

fn first_line(diag: &dyn miette::Diagnostic, text: &str) -> Option<usize> {
    diag.labels()
        .and_then(|mut l| l.next())
        .map(|l| line_of(text, l.offset()))
}

impl Authz {
    /// Parses every `(file, text)`, gives each policy its `@id` (or `file#n`), validates the set
    /// strictly against the schema, and builds the index.
    pub fn load<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Authz> {
        let (schema, _) = Schema::from_cedarschema_str(SCHEMA)
            .map_err(|e| Error::internal(format!("idp's Cedar schema does not parse: {e}")))?;
        let mut all = PolicySet::new();
        let mut origin: BTreeMap<String, (String, usize)> = BTreeMap::new();
        let mut texts: BTreeMap<String, String> = BTreeMap::new();
        for (file, text) in files {
            texts.insert(file.to_string(), text.to_string());
            let set = PolicySet::from_str(text).map_err(|e| {
                let line = first_line(&e, text).unwrap_or(1);
                Error::invalid(format!("{file}:{line}: {e}"))
                    .with("file", file)
                    .with("line", line.to_string())
            })?;
            // In source order (`from_str` names them policy0, policy1, ...), so that ids and
            // messages do not depend on the set's iteration order.
            let index = |q: &cedar_policy::Policy| {
                q.id()
                    .to_string()
                    .strip_prefix("policy")
                    .and_then(|i| i.parse::<usize>().ok())
            };
            let mut ordered: Vec<&cedar_policy::Policy> = set.policies().collect();
            ordered.sort_by_key(|q| index(q));
            for (n, p) in ordered.iter().copied().enumerate() {
                let id = p
                    .annotation("id")
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{file}#{n}"));
                // The k-th policy of this file with this id sits at the k-th `@id(...)`.
                let k = ordered[..n]
                    .iter()
                    .filter(|q| q.annotation("id") == Some(id.as_str()))
                    .count();
                let line = text
                    .match_indices(&format!("@id(\"{id}\")"))
                    .nth(k)
                    .map(|(o, _)| line_of(text, o))
                    .unwrap_or(1);
                if let Some((f, l)) = origin.get(&id) {
                    return Err(Error::invalid(format!(
                        "{file}:{line}: policy id `{id}` is already used at {f}:{l}; ids must be unique"
                    ))
                    .with("file", file)
                    .with("line", line.to_string()));
                }
                origin.insert(id.clone(), (file.to_string(), line));
                all.add(p.new_id(PolicyId::new(&id))).map_err(|e| {
                    Error::invalid(format!("{file}:{line}: {e}")).with("file", file)
                })?;
            }
        }
        let validation = Validator::new(schema.clone()).validate(&all, ValidationMode::Strict);
        if let Some(e) = validation.validation_errors().next() {
            let id = e.policy_id().to_string();
            let (file, pline) = origin.get(&id).cloned().unwrap_or_default();
            let line = texts
                .get(&file)
                .and_then(|t| first_line(e, t))
                .unwrap_or(pline);
            return Err(Error::invalid(format!(
                "{file}:{line}: policy `{id}` does not validate against idp's Cedar schema: {e}"
            ))
            .with("file", file)
            .with("line", line.to_string()));
        }
        let index = build_index(&schema, &all)?;
        let ids = origin.keys().cloned().collect();
        let base = schema
            .action_entities()
            .map_err(|e| Error::internal(format!("schema actions: {e}")))?;
        let base_uids = base.iter().map(|e| e.uid().to_string()).collect();
        let mut applies = HashSet::new();
        for res in ["Idp::Service", "Idp::Waiver"] {
            let user = EntityTypeName::from_str("Idp::User").expect("valid type");
            let rt = EntityTypeName::from_str(res).expect("valid type");
            for a in schema.actions_for_principal_and_resource(&user, &rt) {
                applies.insert((a.id().unescaped().to_string(), res.to_string()));
            }
        }
        Ok(Authz {
            all,
            index,
            ids,
            authorizer: Authorizer::new(),
            use_index: true,
            base,
            base_uids,
            applies,
        })
    }

    /// Turns the (action, resource type) index off, so every decision evaluates every policy.
    /// For benchmarks that show what the index saves.
    #[doc(hidden)]
    pub fn without_index(mut self) -> Authz {
        self.use_index = false;
        self
    }

    /// Adds the teams of `dir` to the entities every decision shares (a decision then builds
    /// only the principal, the resource and the environment). Decisions must then use `dir`.
    pub fn bind_directory(&mut self, dir: &Directory) -> Result<()> {
        let teams: Vec<Entity> = dir
            .teams()
            .map(|t| team_entity(dir, &t.entity_ref))
            .collect::<Result<_>>()?;
        let uids: Vec<String> = teams.iter().map(|e| e.uid().to_string()).collect();
        self.base = self
            .base
            .clone()
            .add_entities(teams, None)
            .map_err(|e| Error::internal(format!("directory entities: {e}")))?;
        self.base_uids.extend(uids);
        Ok(())
    }

    /// Every policy id.
    pub fn policy_ids(&self) -> &[String] {
        &self.ids
    }

    /// Number of policies.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when there are no policies (everything is denied).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Decides `req`. Deny by default.
    pub fn decide(
        &self,
        req: &AuthzRequest,
        dir: &Directory,
        env: Option<&EnvFacts>,
    ) -> Result<Decided> {
        let (resource, res_type, mut entities) = entities_for(req, dir, env, &self.base_uids)?;
        if !self
            .applies
            .contains(&(req.action.clone(), res_type.clone()))
        {
            return Err(Error::invalid(format!(
                "`{}` is not an action on {res_type} in idp's Cedar schema",
                crate::naming::shown(&req.action)
            )));
        }
        let action = action_uid(&req.action);
        let principal = principal_entity(&req.principal, dir, &self.base_uids, &mut entities)?;
        // Requests are built here, from typed data, so they are checked once (by the tests of this
        // builder and the strict validation of every policy at load), not on every decision.
        let entities = self
            .base
            .clone()
            .add_entities(entities, None)
            .map_err(|e| Error::invalid(format!("authorization input is not valid: {e}")))?;
        let mut pairs = Vec::with_capacity(5);
        if let AuthzResource::Service { .. } = &req.resource {
            let c = &req.context;
            pairs.push((
                "approved".to_string(),
                RestrictedExpression::new_bool(c.approved),
            ));
            pairs.push((
                "change_window".to_string(),
                RestrictedExpression::new_bool(c.change_window),
            ));
            pairs.push((
                "first_deploy".to_string(),
                RestrictedExpression::new_bool(c.first_deploy),
            ));
            pairs.push((
                "dry_run".to_string(),
                RestrictedExpression::new_bool(c.dry_run),
            ));
            if let Some(e) = &c.environment {
                pairs.push((
                    "environment".to_string(),
                    RestrictedExpression::new_entity_uid(uid("Idp::Environment", e)),
                ));
            }
        }
        let context = Context::from_pairs(pairs).map_err(|e| {
            Error::internal(format!("authorization context for `{}`: {e}", req.action))
        })?;
        let request = Request::new(principal, action, resource, context, None).map_err(|e| {
            Error::invalid(format!(
                "`{}` is not an action on this resource: {e}",
                req.action
            ))
        })?;
        let set = if self.use_index {
            self.index
                .get(&(req.action.clone(), res_type))
                .unwrap_or(&self.all)
        } else {
            &self.all
        };
        let resp = self.authorizer.is_authorized(&request, set, &entities);
        let mut policies: Vec<String> =
            resp.diagnostics().reason().map(|p| p.to_string()).collect();
        policies.sort();
        Ok(Decided {
            allowed: resp.decision() == Decision::Allow,
            policies,
            errors: resp.diagnostics().errors().map(|e| e.to_string()).collect(),
        })
    }
}

/// One policy set per (action, resource type), holding only the policies whose scope can match.
fn build_index(schema: &Schema, all: &PolicySet) -> Result<HashMap<(String, String), PolicySet>> {
    let action_entities = schema
        .action_entities()
        .map_err(|e| Error::internal(format!("schema actions: {e}")))?;
    let actions: Vec<EntityUid> = schema.actions().cloned().collect();
    let types: Vec<String> = schema.entity_types().map(|t| t.to_string()).collect();
    let mut index: HashMap<(String, String), PolicySet> = HashMap::new();
    for a in &actions {
        let ancestors: HashSet<EntityUid> = action_entities
            .ancestors(a)
            .map(|it| it.cloned().collect())
            .unwrap_or_default();
        for t in &types {
            let mut set = PolicySet::new();
            for p in all.policies() {
                let action_ok = match p.action_constraint() {
                    ActionConstraint::Any => true,
                    ActionConstraint::Eq(x) => &x == a,
                    ActionConstraint::In(xs) => xs.iter().any(|x| x == a || ancestors.contains(x)),
                };
                let resource_ok = match p.resource_constraint() {
                    ResourceConstraint::Any | ResourceConstraint::In(_) => true,
                    ResourceConstraint::Eq(u) => u.type_name().to_string() == *t,
                    ResourceConstraint::Is(ty) | ResourceConstraint::IsIn(ty, _) => {
                        ty.to_string() == *t
                    }
                };
                if action_ok && resource_ok {
                    set.add(p.clone())
                        .map_err(|e| Error::internal(format!("policy index: {e}")))?;
                }
            }
            index.insert((a.id().unescaped().to_string(), t.clone()), set);
        }
    }
    Ok(index)
}

fn team_entity(dir: &Directory, group_ref: &str) -> Result<Entity> {
    let team = dir.team(group_ref);
    let attrs = HashMap::from([
        (
            "name".to_string(),
            RestrictedExpression::new_string(
                team.map(|t| t.name.clone())
                    .unwrap_or_else(|| group_ref.to_string()),
            ),
        ),
        (
            "platform_admin".to_string(),
            RestrictedExpression::new_bool(team.is_some_and(|t| t.platform_admin)),
        ),
    ]);
    Entity::new(
        uid("Idp::Team", &crate::org::entity_ref("group", group_ref)),
        attrs,
        HashSet::new(),
    )
    .map_err(|e| Error::internal(format!("team entity: {e}")))
}

fn principal_entity(
    p: &Principal,
    dir: &Directory,
    known: &HashSet<String>,
    out: &mut Vec<Entity>,
) -> Result<EntityUid> {
    let user = crate::org::entity_ref("user", &p.user);
    let mut parents = HashSet::new();
    let mut admin = false;
    let mut seen: HashSet<String> = out.iter().map(|e| e.uid().to_string()).collect();
    seen.extend(known.iter().cloned());
    for g in &p.groups {
        let g = crate::org::entity_ref("group", g);
        admin |= dir.team(&g).is_some_and(|t| t.platform_admin);
        let t = uid("Idp::Team", &g);
        if seen.insert(t.to_string()) {
            out.push(team_entity(dir, &g)?);
        }
        parents.insert(t);
    }
    let u = uid("Idp::User", &user);
    // The principal may also appear as a waiver's requester: keep one entity, with its teams.
    out.retain(|e| e.uid() != u);
    let attrs = HashMap::from([(
        "platform_admin".to_string(),
        RestrictedExpression::new_bool(admin),
    )]);
    out.push(
        Entity::new(u.clone(), attrs, parents)
            .map_err(|e| Error::internal(format!("user entity: {e}")))?,
    );
    Ok(u)
}

fn entities_for(
    req: &AuthzRequest,
    dir: &Directory,
    env: Option<&EnvFacts>,
    known: &HashSet<String>,
) -> Result<(EntityUid, String, Vec<Entity>)> {
    let mut out = Vec::new();
    if let (Some(name), Some(facts)) = (&req.context.environment, env) {
        let attrs = HashMap::from([
            (
                "protected".to_string(),
                RestrictedExpression::new_bool(facts.protected),
            ),
            (
                "kind".to_string(),
                RestrictedExpression::new_string(facts.kind.clone()),
            ),
        ]);
        out.push(
            Entity::new(uid("Idp::Environment", name), attrs, HashSet::new())
                .map_err(|e| Error::internal(format!("environment entity: {e}")))?,
        );
    }
    let service = |name: &str, owner: &str, gp: &str, out: &mut Vec<Entity>| -> Result<EntityUid> {
        let owner_ref = crate::org::entity_ref("group", owner);
        if !known.contains(&uid("Idp::Team", &owner_ref).to_string()) {
            out.push(team_entity(dir, &owner_ref)?);
        }
        let attrs = HashMap::from([
            (
                "owner".to_string(),
                RestrictedExpression::new_entity_uid(uid("Idp::Team", &owner_ref)),
            ),
            (
                "golden_path".to_string(),
                RestrictedExpression::new_string(gp.to_string()),
            ),
        ]);
        let s = uid("Idp::Service", name);
        out.push(
            Entity::new(s.clone(), attrs, HashSet::new())
                .map_err(|e| Error::internal(format!("service entity: {e}")))?,
        );
        Ok(s)
    };
    match &req.resource {
        AuthzResource::Service {
            name,
            owner,
            golden_path,
        } => {
            let s = service(name, owner, golden_path, &mut out)?;
            Ok((s, "Idp::Service".into(), out))
        }
        AuthzResource::Waiver {
            id,
            rule,
            service: svc,
            service_owner,
            requested_by,
        } => {
            let s = service(svc, service_owner, "", &mut out)?;
            let requester = uid("Idp::User", &crate::org::entity_ref("user", requested_by));
            out.push(
                Entity::new(
                    requester.clone(),
                    HashMap::from([(
                        "platform_admin".to_string(),
                        RestrictedExpression::new_bool(false),
                    )]),
                    HashSet::new(),
                )
                .map_err(|e| Error::internal(format!("user entity: {e}")))?,
            );
            let attrs = HashMap::from([
                (
                    "rule".to_string(),
                    RestrictedExpression::new_string(rule.clone()),
                ),
                (
                    "service".to_string(),
                    RestrictedExpression::new_entity_uid(s),
                ),
                (
                    "requested_by".to_string(),
                    RestrictedExpression::new_entity_uid(requester),
                ),
            ]);
            let w = uid("Idp::Waiver", id);
            out.push(
                Entity::new(w.clone(), attrs, HashSet::new())
                    .map_err(|e| Error::internal(format!("waiver entity: {e}")))?,
            );
            Ok((w, "Idp::Waiver".into(), out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_policy_id_names_both_lines() {
        let text = "@id(\"a\")\npermit (principal, action, resource);\n\n@id(\"a\")\nforbid (principal, action, resource);\n";
        let e = Authz::load([("policies/p.cedar", text)])
            .map(|_| ())
            .unwrap_err();
        assert!(
            e.to_string().contains(
                "policies/p.cedar:4: policy id `a` is already used at policies/p.cedar:1"
            ),
            "{e}"
        );
    }

    const BUILTIN: &str = include_str!("../../platform/policies/authz.cedar");
    const ORG: &str = include_str!("../../platform/org/org.yaml");

    fn setup() -> (Authz, Directory) {
        (
            Authz::load([("authz.cedar", BUILTIN)]).unwrap(),
            Directory::load([("org.yaml", ORG)]).unwrap(),
        )
    }

    fn svc(action: &str, who: &Principal, env: Option<&str>) -> AuthzRequest {
        AuthzRequest {
            principal: who.clone(),
            action: action.into(),
            resource: AuthzResource::Service {
                name: "payments-api".into(),
                owner: "team-payments".into(),
                golden_path: "x".into(),
            },
            context: AuthzContext {
                environment: env.map(str::to_string),
                ..Default::default()
            },
        }
    }

    const PROD: EnvFacts = EnvFacts {
        protected: true,
        kind: String::new(),
    };

    #[test]
    fn owners_write_outsiders_are_denied_by_default() {
        let (a, d) = setup();
        let alice = d.principal("alice");
        let ok = a
            .decide(&svc("bootstrap_service", &alice, None), &d, None)
            .unwrap();
        assert!(ok.allowed);
        assert_eq!(ok.policies, vec!["owner-writes-outside-protected"]);
        let no = a
            .decide(
                &svc("bootstrap_service", &d.principal("mallory"), None),
                &d,
                None,
            )
            .unwrap();
        assert!(!no.allowed && no.policies.is_empty());
        assert!(
            !a.decide(&svc("plan", &d.principal("mallory"), None), &d, None)
                .unwrap()
                .allowed
        );
    }

    #[test]
    fn protected_changes_need_approval_a_window_or_a_first_deploy() {
        let (a, d) = setup();
        let alice = d.principal("alice");
        let mut r = svc("provision_gitops", &alice, Some("prod"));
        assert!(!a.decide(&r, &d, Some(&PROD)).unwrap().allowed);
        r.context.approved = true;
        assert!(a.decide(&r, &d, Some(&PROD)).unwrap().allowed);
        r.context.approved = false;
        r.context.change_window = true;
        assert!(a.decide(&r, &d, Some(&PROD)).unwrap().allowed);
        r.context.change_window = false;
        r.context.first_deploy = true;
        assert!(a.decide(&r, &d, Some(&PROD)).unwrap().allowed);
        // A first deploy of cloud resources to prod still needs approval.
        r.action = "request_infra_resource".into();
        assert!(!a.decide(&r, &d, Some(&PROD)).unwrap().allowed);
    }

    #[test]
    fn admins_approve_waivers_but_never_their_own() {
        let (a, d) = setup();
        let waiver = |requested_by: &str| AuthzRequest {
            principal: d.principal("pat"),
            action: "approve_waiver".into(),
            resource: AuthzResource::Waiver {
                id: "wv-1".into(),
                rule: "protected-environment".into(),
                service: "payments-api".into(),
                service_owner: "team-payments".into(),
                requested_by: requested_by.into(),
            },
            context: AuthzContext::default(),
        };
        assert!(
            a.decide(&waiver("user:default/alice"), &d, None)
                .unwrap()
                .allowed
        );
        let own = a.decide(&waiver("user:default/pat"), &d, None).unwrap();
        assert!(!own.allowed);
        assert_eq!(own.policies, vec!["no-self-approval"]);
    }

    #[test]
    fn a_policy_that_breaks_the_schema_fails_the_load_with_file_and_line() {
        let bad = "@id(\"a\")\npermit (principal, action, resource);\n\n@id(\"b\")\npermit (principal, action, resource)\nwhen { principal.shoe_size > 3 };\n";
        let e = Authz::load([("team.cedar", bad)]).err().unwrap();
        assert!(e.to_string().starts_with("team.cedar:"), "{e}");
        assert!(e.to_string().contains("shoe_size"), "{e}");
        let syntax = Authz::load([(
            "x.cedar",
            "permit (principal, action, resource)\nwhen { ) };",
        )])
        .err()
        .unwrap();
        assert!(syntax.to_string().starts_with("x.cedar:2"), "{syntax}");
        let dup = Authz::load([
            ("a.cedar", "@id(\"x\") permit(principal,action,resource);"),
            ("b.cedar", "@id(\"x\") permit(principal,action,resource);"),
        ])
        .err()
        .unwrap();
        assert!(dup.to_string().contains("already used"), "{dup}");
    }

    #[test]
    fn the_index_only_holds_policies_whose_scope_can_apply() {
        let (a, _) = setup();
        let waiver_set = a
            .index
            .get(&("approve_waiver".to_string(), "Idp::Waiver".to_string()))
            .unwrap();
        let ids: Vec<String> = waiver_set.policies().map(|p| p.id().to_string()).collect();
        assert!(
            ids.contains(&"no-self-approval".to_string())
                && ids.contains(&"platform-admin".to_string())
        );
        assert!(!ids.contains(&"owner-reads".to_string()));
    }
}
