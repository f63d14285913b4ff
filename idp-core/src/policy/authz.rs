//! Authorization with Cedar: policies from `policies/*.cedar`, validated strictly against idp's
//! schema at load, indexed by (action, resource type) so that a decision only evaluates the
//! policies that can apply to it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{
    ActionConstraint, Authorizer, Context, Decision, Entities, Entity, EntityTypeName, EntityUid,
    PolicyId, PolicySet, PrincipalConstraint, Request, ResourceConstraint, RestrictedExpression,
    Schema, ValidationMode, Validator,
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
    /// The operation requested (`run_golden_path`, `provision_gitops`, `upgrade`, `plan`, ...);
    /// default: the action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// When the request is made, in the organization's time zone; default: now, in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<RequestTime>,
    /// For infrastructure: the intent and the module chosen for it in `environment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<IntentFacts>,
}

/// `context.time.weekday` values, Monday first.
pub const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The time of a request as policies see it (`context.time`): in the organization's zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestTime {
    /// `monday` ... `sunday`.
    pub weekday: String,
    /// 0-23.
    pub hour: u32,
    /// `2026-11-27`.
    pub date: String,
}

impl RequestTime {
    /// `at` in time zone `tz`.
    pub fn at(at: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> RequestTime {
        use chrono::{Datelike, Timelike};
        let local = at.with_timezone(&tz);
        RequestTime {
            weekday: WEEKDAYS[local.weekday().num_days_from_monday() as usize].to_string(),
            hour: local.hour(),
            date: local.format("%Y-%m-%d").to_string(),
        }
    }
}

/// An infrastructure intent as policies see it (`context.intent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IntentFacts {
    /// `bucket`, `postgres`, ...
    #[serde(rename = "type")]
    pub ty: String,
    /// The class (`logs`), or `""`.
    #[serde(default)]
    pub class: String,
    /// `bucket:logs`.
    pub key: String,
    /// The module chosen (`aws-rds-postgres`).
    pub module: String,
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

/// The resource types idp's actions apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResKind {
    Service = 0,
    Waiver = 1,
}

impl ResKind {
    const ALL: [ResKind; 2] = [ResKind::Service, ResKind::Waiver];

    fn type_name(self) -> &'static str {
        match self {
            ResKind::Service => "Idp::Service",
            ResKind::Waiver => "Idp::Waiver",
        }
    }
}

/// The policies that can apply to one (action, resource type), split by the entity their
/// principal or resource scope names, so that a decision evaluates only the policies whose scope
/// can match it: with a thousand `permit (principal in Idp::Team::"team-N", ...)` a member of
/// two teams evaluates two of them, not a thousand.
#[derive(Default)]
struct Bucket {
    /// Policies whose scope names no particular entity (`principal`, `principal is Idp::User`,
    /// `resource is Idp::Service`, ...).
    any: PolicySet,
    /// Policies whose scope is `principal == E`, `principal in E`, `resource == E` or
    /// `resource in E`, by `E`. Such a policy can only be satisfied when `E` is the request's
    /// principal or resource or one of their ancestors (see [`Authz::decide`]).
    by_scope: HashMap<EntityUid, Scoped>,
}

/// The policies under one scope entity.
#[derive(Default)]
struct Scoped {
    only: PolicySet,
    /// `only` and `any` together: most decisions match one scope entity, and evaluate this.
    with_any: PolicySet,
}

/// Loaded, validated, indexed Cedar policies.
pub struct Authz {
    all: PolicySet,
    /// (action, resource type) -> the policies that can apply. An action the schema does not
    /// allow on that resource type has no entry.
    index: HashMap<String, [Option<Bucket>; 2]>,
    ids: Vec<String>,
    authorizer: Authorizer,
    use_index: bool,
    /// Every action entity of the schema (with its groups): a decision takes the one it needs.
    actions: HashMap<String, Entity>,
    /// The teams of the bound directory, built once (keyed by entity ref): a decision clones the
    /// few it needs instead of building them.
    teams: HashMap<String, (Entity, bool)>,
    /// True once a directory is bound.
    bound: bool,
    memos: Memos,
}

/// Values built from request data, by what they were built from: the same principal, service,
/// environment and context flags are decided on again and again, and building a Cedar entity or
/// context costs more than evaluating a policy. Bounded: emptied when full.
struct Memo<V> {
    map: std::sync::RwLock<HashMap<String, V>>,
}

/// Entries a memo keeps before it starts again.
const MEMO_CAP: usize = 4096;

impl<V: Clone> Default for Memo<V> {
    fn default() -> Self {
        Memo {
            map: std::sync::RwLock::new(HashMap::new()),
        }
    }
}

impl<V: Clone> Memo<V> {
    fn get_or(&self, key: String, build: impl FnOnce() -> Result<V>) -> Result<V> {
        if let Some(v) = self.map.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(v.clone());
        }
        let v = build()?;
        let mut m = self.map.write().unwrap_or_else(|e| e.into_inner());
        if m.len() >= MEMO_CAP {
            m.clear();
        }
        m.insert(key, v.clone());
        Ok(v)
    }
}

/// A memo key of several strings, unambiguous whatever they hold (each is length-prefixed).
fn memo_key<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    use std::fmt::Write as _;
    let mut k = String::with_capacity(64);
    for p in parts {
        let _ = write!(k, "{}:{p}", p.len());
    }
    k
}

/// Everything idp memoizes for decisions.
#[derive(Default)]
struct Memos {
    /// user + groups -> the user entity and its teams' refs (only with a bound directory: the
    /// user's `platform_admin` comes from it).
    principals: Memo<(Entity, Vec<String>)>,
    /// name + owner + golden path -> the service entity.
    services: Memo<Entity>,
    /// name + facts -> the environment entity.
    environments: Memo<Entity>,
    /// environment + flags -> the context.
    contexts: Memo<Context>,
    /// action + principal + resource + environment -> the request's entities.
    subjects: Memo<Arc<Subjects>>,
}

/// Cedar type names, parsed once (parsing one is a run of Cedar's parser).
struct Types {
    team: EntityTypeName,
    user: EntityTypeName,
    service: EntityTypeName,
    waiver: EntityTypeName,
    environment: EntityTypeName,
    action: EntityTypeName,
}

fn types() -> &'static Types {
    static TYPES: std::sync::OnceLock<Types> = std::sync::OnceLock::new();
    TYPES.get_or_init(|| {
        let t = |n: &str| EntityTypeName::from_str(n).expect("idp's entity type names are valid");
        Types {
            team: t("Idp::Team"),
            user: t("Idp::User"),
            service: t("Idp::Service"),
            waiver: t("Idp::Waiver"),
            environment: t("Idp::Environment"),
            action: t("Idp::Action"),
        }
    })
}

fn uid(ty: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(ty.clone(), cedar_policy::EntityId::new(id))
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
            // Where each `@id("...")` sits, in order, to name the line of a policy.
            let mut at: HashMap<String, Vec<usize>> = HashMap::new();
            for (o, _) in text.match_indices("@id(\"") {
                let rest = &text[o + 5..];
                if let Some(end) = rest.find("\")") {
                    at.entry(rest[..end].to_string())
                        .or_default()
                        .push(line_of(text, o));
                }
            }
            let mut seen: HashMap<String, usize> = HashMap::new();
            for (n, p) in ordered.iter().copied().enumerate() {
                let id = p
                    .annotation("id")
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{file}#{n}"));
                // The k-th policy of this file with this id sits at the k-th `@id(...)`.
                let k = seen.entry(id.clone()).or_default();
                let line = at.get(&id).and_then(|l| l.get(*k)).copied().unwrap_or(1);
                *k += 1;
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
        let actions = schema
            .action_entities()
            .map_err(|e| Error::internal(format!("schema actions: {e}")))?
            .iter()
            .map(|e| (e.uid().id().unescaped().to_string(), e.clone()))
            .collect();
        Ok(Authz {
            all,
            index,
            ids,
            authorizer: Authorizer::new(),
            use_index: true,
            actions,
            teams: HashMap::new(),
            bound: false,
            memos: Memos::default(),
        })
    }

    /// Turns the scope index off, so every decision evaluates every policy.
    /// For benchmarks that show what the index saves.
    #[doc(hidden)]
    pub fn without_index(mut self) -> Authz {
        self.use_index = false;
        self
    }

    /// Builds the team entities of `dir` once, for every decision to share (a decision then
    /// builds only the principal, the resource and the environment). Decisions must then use
    /// `dir`.
    pub fn bind_directory(&mut self, dir: &Directory) -> Result<()> {
        for t in dir.teams() {
            self.teams.insert(
                t.entity_ref.clone(),
                (team_entity(dir, &t.entity_ref)?, t.platform_admin),
            );
        }
        self.bound = true;
        self.memos = Memos::default();
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
    ///
    /// The decision is Cedar's over the whole policy set; it evaluates only the policies whose
    /// scope can match. That is exact because of the shape of idp's entities: a user's
    /// ancestors are its teams, teams have no parents, and services and waivers have no parents
    /// (the schema declares none), so `principal in E` can only hold when `E` is the principal
    /// or one of its teams, and `resource in E` only when `E` is the resource. Cedar's answer
    /// over a union of policy sets is: denied when any forbid holds (the forbids that hold
    /// decide), else allowed when any permit holds (the permits that hold decide), else denied
    /// by default; so the parts are evaluated apart and combined that way.
    pub fn decide(
        &self,
        req: &AuthzRequest,
        dir: &Directory,
        env: Option<&EnvFacts>,
    ) -> Result<Decided> {
        let kind = match req.resource {
            AuthzResource::Service { .. } => ResKind::Service,
            AuthzResource::Waiver { .. } => ResKind::Waiver,
        };
        let Some(bucket) = self
            .index
            .get(req.action.as_str())
            .and_then(|b| b[kind as usize].as_ref())
        else {
            return Err(Error::invalid(format!(
                "`{}` is not an action on {} in idp's Cedar schema",
                crate::naming::shown(&req.action),
                kind.type_name()
            )));
        };
        let built = self.build_request(req, dir, env, &self.memos)?;
        if !self.use_index {
            return Ok(decided(&[self.authorizer.is_authorized(
                &built.request,
                &self.all,
                &built.subjects.entities,
            )]));
        }
        // The policies of `any`, and those of every scope entity that can match, each once.
        let mut sets: Vec<&PolicySet> = Vec::with_capacity(built.subjects.scope.len());
        for e in &built.subjects.scope {
            if let Some(scoped) = bucket.by_scope.get(e) {
                sets.push(if sets.is_empty() {
                    &scoped.with_any
                } else {
                    &scoped.only
                });
            }
        }
        if sets.is_empty() {
            sets.push(&bucket.any);
        }
        let parts: Vec<_> = sets
            .into_iter()
            .map(|set| {
                self.authorizer
                    .is_authorized(&built.request, set, &built.subjects.entities)
            })
            .collect();
        Ok(decided(&parts))
    }

    /// The Cedar request and the entities it needs, from typed data. Requests are built here, so
    /// they are checked once (by the tests of this builder and the strict validation of every
    /// policy at load), not on every decision.
    fn build_request(
        &self,
        req: &AuthzRequest,
        dir: &Directory,
        env: Option<&EnvFacts>,
        memos: &Memos,
    ) -> Result<Built> {
        let ty = types();
        // The same principal acts on the same resource in the same environment again and again
        // (every environment of a run, every run of a service): the entities of a request, and
        // the hierarchy Cedar computes over them, are built once per such triple.
        let build = || -> Result<Arc<Subjects>> {
            let mut b = EntityBag::default();
            let (resource, kind) = self.resource_entities(req, dir, env, memos, &mut b)?;
            let principal = self.principal_entity(&req.principal, dir, memos, &mut b)?;
            if let Some(a) = self.actions.get(req.action.as_str()) {
                b.push(a.clone());
            }
            // The entities a scope may name and still match: the principal, its teams, the
            // resource.
            let mut scope = Vec::with_capacity(req.principal.groups.len() + 2);
            scope.push(principal.clone());
            scope.extend(b.principal_teams.iter().cloned());
            scope.push(resource.clone());
            let entities = Entities::empty()
                .add_entities(b.entities, None)
                .map_err(|e| Error::invalid(format!("authorization input is not valid: {e}")))?;
            Ok(Arc::new(Subjects {
                entities,
                scope,
                principal,
                resource,
                kind,
            }))
        };
        // Only with a bound directory: unbound, the teams come from whatever `dir` is passed.
        let subjects = if self.bound {
            memos.subjects.get_or(subjects_key(req, env), build)?
        } else {
            build()?
        };
        let (principal, resource, kind) = (
            subjects.principal.clone(),
            subjects.resource.clone(),
            subjects.kind,
        );
        let c = &req.context;
        let context = if kind == ResKind::Service {
            let time = c
                .time
                .clone()
                .unwrap_or_else(|| RequestTime::at(chrono::Utc::now(), chrono_tz::UTC));
            let operation = c.operation.as_deref().unwrap_or(&req.action);
            let key = format!(
                "{}{}{}{}+{}+{}+{}+{}+{}{}",
                u8::from(c.approved),
                u8::from(c.change_window),
                u8::from(c.first_deploy),
                u8::from(c.dry_run),
                operation,
                time.weekday,
                time.hour,
                time.date,
                c.environment.as_deref().unwrap_or_default(),
                c.intent
                    .as_ref()
                    .map(|i| format!("+{}+{}+{}+{}", i.ty, i.class, i.key, i.module))
                    .unwrap_or_default()
            );
            memos.contexts.get_or(key, || {
                let mut pairs = vec![
                    (
                        "approved".to_string(),
                        RestrictedExpression::new_bool(c.approved),
                    ),
                    (
                        "change_window".to_string(),
                        RestrictedExpression::new_bool(c.change_window),
                    ),
                    (
                        "first_deploy".to_string(),
                        RestrictedExpression::new_bool(c.first_deploy),
                    ),
                    (
                        "dry_run".to_string(),
                        RestrictedExpression::new_bool(c.dry_run),
                    ),
                ];
                if let Some(e) = &c.environment {
                    pairs.push((
                        "environment".to_string(),
                        RestrictedExpression::new_entity_uid(uid(&ty.environment, e)),
                    ));
                }
                pairs.push((
                    "operation".to_string(),
                    RestrictedExpression::new_string(operation.to_string()),
                ));
                pairs.push((
                    "time".to_string(),
                    RestrictedExpression::new_record([
                        (
                            "weekday".to_string(),
                            RestrictedExpression::new_string(time.weekday.clone()),
                        ),
                        (
                            "hour".to_string(),
                            RestrictedExpression::new_long(i64::from(time.hour)),
                        ),
                        (
                            "date".to_string(),
                            RestrictedExpression::new_string(time.date.clone()),
                        ),
                    ])
                    .map_err(|e| Error::internal(format!("authorization context time: {e}")))?,
                ));
                if let Some(i) = &c.intent {
                    pairs.push((
                        "intent".to_string(),
                        RestrictedExpression::new_record([
                            (
                                "type".to_string(),
                                RestrictedExpression::new_string(i.ty.clone()),
                            ),
                            (
                                "class".to_string(),
                                RestrictedExpression::new_string(i.class.clone()),
                            ),
                            (
                                "key".to_string(),
                                RestrictedExpression::new_string(i.key.clone()),
                            ),
                            (
                                "module".to_string(),
                                RestrictedExpression::new_string(i.module.clone()),
                            ),
                        ])
                        .map_err(|e| {
                            Error::internal(format!("authorization context intent: {e}"))
                        })?,
                    ));
                }
                Context::from_pairs(pairs).map_err(|e| {
                    Error::internal(format!("authorization context for `{}`: {e}", req.action))
                })
            })?
        } else {
            Context::empty()
        };
        let request = Request::new(
            principal,
            uid(&ty.action, &req.action),
            resource,
            context,
            None,
        )
        .map_err(|e| {
            Error::invalid(format!(
                "`{}` is not an action on this resource: {e}",
                req.action
            ))
        })?;
        Ok(Built { request, subjects })
    }
}

/// The memo key of a request's [`Subjects`]: everything they are built from.
fn subjects_key(req: &AuthzRequest, env: Option<&EnvFacts>) -> String {
    let p = &req.principal;
    let groups = p.groups.len().to_string();
    let mut parts: Vec<&str> = vec![&req.action, &p.user, &groups];
    parts.extend(p.groups.iter().map(String::as_str));
    match &req.resource {
        AuthzResource::Service {
            name,
            owner,
            golden_path,
        } => parts.extend(["service", name, owner, golden_path]),
        AuthzResource::Waiver {
            id,
            rule,
            service,
            service_owner,
            requested_by,
        } => parts.extend(["waiver", id, rule, service, service_owner, requested_by]),
    }
    // The environment entity is built only when the request names one and its facts are known.
    match (&req.context.environment, env) {
        (Some(name), Some(f)) => parts.extend([
            name.as_str(),
            if f.protected { "protected" } else { "open" },
            &f.kind,
        ]),
        _ => parts.push("-"),
    }
    memo_key(parts)
}

/// Plain Cedar on one request: the whole policy set, over every entity there is (every action
/// of the schema, every team of the bound directory, the request's own). The reference the fast
/// path is tested against, and what benchmarks compare it with.
#[doc(hidden)]
pub struct PlainCedar {
    request: Request,
    policies: PolicySet,
    entities: Entities,
    authorizer: Authorizer,
}

impl PlainCedar {
    /// Cedar's decision, nothing else.
    pub fn decide(&self) -> Decided {
        decided(&[self
            .authorizer
            .is_authorized(&self.request, &self.policies, &self.entities)])
    }
}

impl Authz {
    /// The request `decide` would make, as plain Cedar would evaluate it.
    #[doc(hidden)]
    pub fn plain_cedar(
        &self,
        req: &AuthzRequest,
        dir: &Directory,
        env: Option<&EnvFacts>,
    ) -> Result<PlainCedar> {
        // Nothing memoized: the reference builds everything afresh.
        let built = self.build_request(req, dir, env, &Memos::default())?;
        let mut everything: HashMap<EntityUid, Entity> = self
            .actions
            .values()
            .chain(self.teams.values().map(|(e, _)| e))
            .map(|e| (e.uid(), e.clone()))
            .collect();
        for e in built.subjects.entities.iter() {
            everything.insert(e.uid(), e.clone());
        }
        Ok(PlainCedar {
            request: built.request,
            policies: self.all.clone(),
            entities: Entities::from_entities(everything.into_values(), None)
                .map_err(|e| Error::internal(format!("entities: {e}")))?,
            authorizer: Authorizer::new(),
        })
    }
}

/// A request ready for Cedar.
struct Built {
    request: Request,
    subjects: Arc<Subjects>,
}

/// The entities of a request.
struct Subjects {
    entities: Entities,
    /// The entities a policy's scope may name and still match.
    scope: Vec<EntityUid>,
    principal: EntityUid,
    resource: EntityUid,
    kind: ResKind,
}

/// Cedar's combination of the responses of disjoint parts of one policy set.
fn decided(parts: &[cedar_policy::Response]) -> Decided {
    let mut forbids = Vec::new();
    let mut permits = Vec::new();
    let mut errors = Vec::new();
    for r in parts {
        let reason = r.diagnostics().reason().map(|p| p.to_string());
        if r.decision() == Decision::Allow {
            permits.extend(reason);
        } else {
            // A deny with reasons is a forbid that holds; without, nothing held.
            forbids.extend(reason);
        }
        errors.extend(r.diagnostics().errors().map(|e| e.to_string()));
    }
    let allowed = forbids.is_empty() && !permits.is_empty();
    let mut policies = if forbids.is_empty() { permits } else { forbids };
    policies.sort();
    Decided {
        allowed,
        policies,
        errors,
    }
}

/// Per (action, resource type): the policies whose action and resource type can match, split by
/// the entity their scope names.
fn build_index(schema: &Schema, all: &PolicySet) -> Result<HashMap<String, [Option<Bucket>; 2]>> {
    let action_entities = schema
        .action_entities()
        .map_err(|e| Error::internal(format!("schema actions: {e}")))?;
    let ty = types();
    // `resource in E` is `resource == E` only for a resource type that can have no ancestors;
    // if the schema ever gives one parents, such policies are evaluated for every request.
    let parentless =
        |t: &EntityTypeName| schema.ancestors(t).is_some_and(|mut a| a.next().is_none());
    let mut index: HashMap<String, [Option<Bucket>; 2]> = HashMap::new();
    for a in schema.actions() {
        let ancestors: HashSet<EntityUid> = action_entities
            .ancestors(a)
            .map(|it| it.cloned().collect())
            .unwrap_or_default();
        let mut slots: [Option<Bucket>; 2] = [None, None];
        for kind in ResKind::ALL {
            let rt = EntityTypeName::from_str(kind.type_name()).expect("valid type");
            if !schema
                .actions_for_principal_and_resource(&ty.user, &rt)
                .any(|x| x == a)
            {
                continue;
            }
            let mut bucket = Bucket::default();
            for p in all.policies() {
                let action_ok = match p.action_constraint() {
                    ActionConstraint::Any => true,
                    ActionConstraint::Eq(x) => &x == a,
                    ActionConstraint::In(xs) => xs.iter().any(|x| x == a || ancestors.contains(x)),
                };
                let resource_type_ok = match p.resource_constraint() {
                    ResourceConstraint::Any | ResourceConstraint::In(_) => true,
                    ResourceConstraint::Eq(u) => u.type_name() == &rt,
                    ResourceConstraint::Is(t) | ResourceConstraint::IsIn(t, _) => t == rt,
                };
                if !(action_ok && resource_type_ok) {
                    continue;
                }
                let key = match (p.principal_constraint(), p.resource_constraint()) {
                    (
                        PrincipalConstraint::Eq(e)
                        | PrincipalConstraint::In(e)
                        | PrincipalConstraint::IsIn(_, e),
                        _,
                    ) => Some(e),
                    (_, ResourceConstraint::Eq(e)) => Some(e),
                    (_, ResourceConstraint::In(e) | ResourceConstraint::IsIn(_, e))
                        if parentless(&rt) =>
                    {
                        Some(e)
                    }
                    _ => None,
                };
                let set = match key {
                    Some(e) => &mut bucket.by_scope.entry(e).or_default().only,
                    None => &mut bucket.any,
                };
                set.add(p.clone())
                    .map_err(|e| Error::internal(format!("policy index: {e}")))?;
            }
            for scoped in bucket.by_scope.values_mut() {
                for p in scoped.only.policies().chain(bucket.any.policies()) {
                    scoped
                        .with_any
                        .add(p.clone())
                        .map_err(|e| Error::internal(format!("policy index: {e}")))?;
                }
            }
            slots[kind as usize] = Some(bucket);
        }
        index.insert(a.id().unescaped().to_string(), slots);
    }
    Ok(index)
}

/// The entities of one request, each once (a handful: a linear search beats hashing).
#[derive(Default)]
struct EntityBag {
    entities: Vec<Entity>,
    uids: Vec<EntityUid>,
    /// The principal's teams.
    principal_teams: Vec<EntityUid>,
}

impl EntityBag {
    fn has(&self, u: &EntityUid) -> bool {
        self.uids.contains(u)
    }

    fn push(&mut self, e: Entity) {
        let u = e.uid();
        if !self.has(&u) {
            self.uids.push(u);
            self.entities.push(e);
        }
    }

    /// Replaces the entity with the same uid, if any.
    fn replace(&mut self, e: Entity) {
        let u = e.uid();
        match self.uids.iter().position(|x| *x == u) {
            Some(i) => self.entities[i] = e,
            None => {
                self.uids.push(u);
                self.entities.push(e);
            }
        }
    }

    /// The team `group_ref` (normal form): the bound directory's entity, or one built now.
    /// Returns its uid and whether it administers the platform.
    fn team(
        &mut self,
        dir: &Directory,
        bound: &HashMap<String, (Entity, bool)>,
        group_ref: &str,
    ) -> Result<(EntityUid, bool)> {
        if let Some((e, admin)) = bound.get(group_ref) {
            let u = e.uid();
            if !self.has(&u) {
                self.uids.push(u.clone());
                self.entities.push(e.clone());
            }
            return Ok((u, *admin));
        }
        let e = team_entity(dir, group_ref)?;
        let u = e.uid();
        self.push(e);
        Ok((u, dir.team(group_ref).is_some_and(|t| t.platform_admin)))
    }
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
        uid(&types().team, &crate::org::entity_ref("group", group_ref)),
        attrs,
        HashSet::new(),
    )
    .map_err(|e| Error::internal(format!("team entity: {e}")))
}

impl Authz {
    /// The principal's user entity (and its teams); returns its uid.
    fn principal_entity(
        &self,
        p: &Principal,
        dir: &Directory,
        memos: &Memos,
        b: &mut EntityBag,
    ) -> Result<EntityUid> {
        let build = |b: &mut EntityBag| -> Result<(Entity, Vec<String>)> {
            let mut parents = HashSet::new();
            let mut refs = Vec::with_capacity(p.groups.len());
            let mut admin = false;
            for g in &p.groups {
                let g = crate::org::entity_ref_cow("group", g);
                let (t, team_admin) = b.team(dir, &self.teams, &g)?;
                admin |= team_admin;
                if parents.insert(t) {
                    refs.push(g.into_owned());
                }
            }
            let u = uid(&types().user, &crate::org::entity_ref_cow("user", &p.user));
            let attrs = HashMap::from([(
                "platform_admin".to_string(),
                RestrictedExpression::new_bool(admin),
            )]);
            let user = Entity::new(u, attrs, parents)
                .map_err(|e| Error::internal(format!("user entity: {e}")))?;
            Ok((user, refs))
        };
        let (user, refs) = if self.bound {
            let key = memo_key(
                std::iter::once(p.user.as_str()).chain(p.groups.iter().map(String::as_str)),
            );
            memos
                .principals
                .get_or(key, || build(&mut EntityBag::default()))?
        } else {
            build(&mut EntityBag::default())?
        };
        for g in &refs {
            let (t, _) = b.team(dir, &self.teams, g)?;
            b.principal_teams.push(t);
        }
        let u = user.uid();
        // The principal may also appear as a waiver's requester: keep one entity, with its teams.
        b.replace(user);
        Ok(u)
    }

    /// The resource's entities (and the environment's); returns the resource and its type.
    fn resource_entities(
        &self,
        req: &AuthzRequest,
        dir: &Directory,
        env: Option<&EnvFacts>,
        memos: &Memos,
        b: &mut EntityBag,
    ) -> Result<(EntityUid, ResKind)> {
        let ty = types();
        if let (Some(name), Some(facts)) = (&req.context.environment, env) {
            let protected = if facts.protected { "p" } else { "" };
            let key = memo_key([name.as_str(), protected, &facts.kind]);
            b.push(memos.environments.get_or(key, || {
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
                Entity::new(uid(&ty.environment, name), attrs, HashSet::new())
                    .map_err(|e| Error::internal(format!("environment entity: {e}")))
            })?);
        }
        let service = |name: &str, owner: &str, gp: &str, b: &mut EntityBag| -> Result<EntityUid> {
            let owner_ref = crate::org::entity_ref_cow("group", owner);
            let (owner, _) = b.team(dir, &self.teams, &owner_ref)?;
            let key = memo_key([name, &owner_ref, gp]);
            let e = memos.services.get_or(key, || {
                let attrs = HashMap::from([
                    (
                        "owner".to_string(),
                        RestrictedExpression::new_entity_uid(owner.clone()),
                    ),
                    (
                        "golden_path".to_string(),
                        RestrictedExpression::new_string(gp.to_string()),
                    ),
                ]);
                Entity::new(uid(&ty.service, name), attrs, HashSet::new())
                    .map_err(|e| Error::internal(format!("service entity: {e}")))
            })?;
            let s = e.uid();
            b.push(e);
            Ok(s)
        };
        match &req.resource {
            AuthzResource::Service {
                name,
                owner,
                golden_path,
            } => Ok((service(name, owner, golden_path, b)?, ResKind::Service)),
            AuthzResource::Waiver {
                id,
                rule,
                service: svc,
                service_owner,
                requested_by,
            } => {
                let s = service(svc, service_owner, "", b)?;
                let requester = uid(&ty.user, &crate::org::entity_ref_cow("user", requested_by));
                b.push(
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
                let w = uid(&ty.waiver, id);
                b.push(
                    Entity::new(w.clone(), attrs, HashSet::new())
                        .map_err(|e| Error::internal(format!("waiver entity: {e}")))?,
                );
                Ok((w, ResKind::Waiver))
            }
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

    /// Every policy id of an (action, resource type) bucket, with the scope entity it is under.
    fn bucket_ids(a: &Authz, action: &str, kind: ResKind) -> Vec<(Option<String>, String)> {
        let b = a.index[action][kind as usize].as_ref().unwrap();
        let mut out: Vec<(Option<String>, String)> = b
            .any
            .policies()
            .map(|p| (None, p.id().to_string()))
            .collect();
        for (e, set) in &b.by_scope {
            out.extend(
                set.only
                    .policies()
                    .map(|p| (Some(e.to_string()), p.id().to_string())),
            );
        }
        out.sort();
        out
    }

    #[test]
    fn the_index_only_holds_policies_whose_scope_can_apply() {
        let (a, _) = setup();
        let ids: Vec<String> = bucket_ids(&a, "approve_waiver", ResKind::Waiver)
            .into_iter()
            .map(|(_, id)| id)
            .collect();
        assert!(
            ids.contains(&"no-self-approval".to_string())
                && ids.contains(&"platform-admin".to_string())
        );
        assert!(!ids.contains(&"owner-reads".to_string()));
        // No bucket for an action the schema does not allow on a resource type.
        assert!(a.index["approve_waiver"][ResKind::Service as usize].is_none());
    }

    #[test]
    fn policies_that_name_a_principal_or_resource_are_indexed_under_it() {
        let text = r#"
@id("team-a") permit (principal in Idp::Team::"group:default/team-a", action, resource is Idp::Service);
@id("bob") permit (principal == Idp::User::"user:default/bob", action, resource);
@id("freeze") forbid (principal, action in Idp::Action::"write", resource == Idp::Service::"svc");
@id("all") permit (principal is Idp::User, action, resource is Idp::Service);
"#;
        let a = Authz::load([("p.cedar", text)]).unwrap();
        assert_eq!(
            bucket_ids(&a, "upgrade", ResKind::Service),
            vec![
                (None, "all".to_string()),
                (
                    Some(r#"Idp::Service::"svc""#.to_string()),
                    "freeze".to_string()
                ),
                (
                    Some(r#"Idp::Team::"group:default/team-a""#.to_string()),
                    "team-a".to_string()
                ),
                (
                    Some(r#"Idp::User::"user:default/bob""#.to_string()),
                    "bob".to_string()
                ),
            ]
        );
        // A read is not a write: the freeze is not in the bucket of `plan`.
        assert!(
            !bucket_ids(&a, "plan", ResKind::Service)
                .iter()
                .any(|(_, id)| id == "freeze")
        );
        // And the scoped policies decide when their entity is in the request.
        let d = Directory::load([("org.yaml", ORG)]).unwrap();
        let in_team = Principal::new("user:default/zed", vec!["group:default/team-a".into()]);
        let mut r = svc("upgrade", &in_team, None);
        assert_eq!(
            a.decide(&r, &d, None).unwrap().policies,
            vec!["all", "team-a"]
        );
        if let AuthzResource::Service { name, .. } = &mut r.resource {
            *name = "svc".into();
        }
        let no = a.decide(&r, &d, None).unwrap();
        assert!(!no.allowed);
        assert_eq!(no.policies, vec!["freeze"]);
    }

    mod generated {
        use super::*;
        use proptest::prelude::*;

        const ORG4: &str = "
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: t0, annotations: {idp.dev/platform-admin: 'true'}}
spec: {type: team, members: [u0]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: t1}
spec: {type: team, members: [u1]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: t2}
spec: {type: team, members: [u2]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: t3}
spec: {type: team, members: []}
";
        /// t4 is not in the directory.
        const TEAMS: [&str; 5] = ["t0", "t1", "t2", "t3", "t4"];
        const USERS: [&str; 3] = ["u0", "u1", "u2"];
        const ACTIONS: [&str; 11] = [
            "bootstrap_service",
            "wire_ci",
            "provision_gitops",
            "attach_observability",
            "request_infra_resource",
            "run_golden_path",
            "upgrade",
            "plan",
            "explain",
            "request_waiver",
            "approve_waiver",
        ];

        fn team(i: usize) -> String {
            format!("Idp::Team::\"group:default/{}\"", TEAMS[i % TEAMS.len()])
        }

        fn principal_scope() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("principal".to_string()),
                Just("principal is Idp::User".to_string()),
                (0..5usize).prop_map(|i| format!("principal in {}", team(i))),
                (0..5usize).prop_map(|i| format!("principal is Idp::User in {}", team(i))),
                (0..3usize)
                    .prop_map(|i| format!("principal == Idp::User::\"user:default/{}\"", USERS[i])),
                (0..3usize)
                    .prop_map(|i| format!("principal in Idp::User::\"user:default/{}\"", USERS[i])),
            ]
        }

        fn action_scope() -> impl Strategy<Value = String> {
            let a = |i: usize| format!("Idp::Action::\"{}\"", ACTIONS[i]);
            prop_oneof![
                Just("action".to_string()),
                Just("action in Idp::Action::\"write\"".to_string()),
                Just("action in Idp::Action::\"read\"".to_string()),
                (0..11usize).prop_map(move |i| format!("action == {}", a(i))),
                (0..11usize, 0..11usize).prop_map(move |(i, j)| format!(
                    "action in [{}, {}]",
                    a(i),
                    a(j)
                )),
            ]
        }

        fn resource_scope() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("resource".to_string()),
                Just("resource is Idp::Service".to_string()),
                Just("resource is Idp::Waiver".to_string()),
                (0..3usize).prop_map(|i| format!("resource == Idp::Service::\"s{i}\"")),
                (0..3usize).prop_map(|i| format!("resource in Idp::Service::\"s{i}\"")),
                (0..3usize)
                    .prop_map(|i| format!("resource is Idp::Service in Idp::Service::\"s{i}\"")),
                (0..2usize).prop_map(|i| format!("resource == Idp::Waiver::\"w{i}\"")),
            ]
        }

        fn condition() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("true".to_string()),
                Just("principal.platform_admin".to_string()),
                Just("resource is Idp::Service && principal in resource.owner".to_string()),
                (0..5usize).prop_map(|i| format!(
                    "resource is Idp::Service && resource.owner == {}",
                    team(i)
                )),
                (0..5usize).prop_map(|i| format!("principal in {}", team(i))),
                Just("resource is Idp::Waiver && resource.requested_by == principal".to_string()),
                Just("resource is Idp::Waiver && principal in resource.service.owner".to_string()),
                Just("resource is Idp::Service && resource.owner.platform_admin".to_string()),
                Just("context has approved && context.approved".to_string()),
                Just("context has first_deploy && context.first_deploy".to_string()),
                // Errors when the environment entity is missing: the policy does not apply.
                Just("context has environment && context.environment.protected".to_string()),
                Just("context has environment && context.environment.kind == \"prod\"".to_string()),
                // Time, operation and intent: every decision of a service has the first two.
                Just("resource is Idp::Service && context.time.weekday == \"friday\"".to_string()),
                Just("resource is Idp::Service && context.time.hour >= 18".to_string()),
                Just("resource is Idp::Service && context.operation == \"upgrade\"".to_string()),
                Just("context has intent && context.intent.type == \"postgres\"".to_string()),
            ]
        }

        fn policy() -> impl Strategy<Value = String> {
            (
                any::<bool>(),
                principal_scope(),
                action_scope(),
                resource_scope(),
                condition(),
            )
                .prop_map(|(permit, p, a, r, c)| {
                    let effect = if permit { "permit" } else { "forbid" };
                    format!("{effect} ({p}, {a}, {r}) when {{ {c} }};")
                })
        }

        /// The policies that validate, each with an id.
        fn valid_set(policies: &[String]) -> String {
            let (schema, _) = Schema::from_cedarschema_str(SCHEMA).unwrap();
            let validator = Validator::new(schema);
            policies
                .iter()
                .enumerate()
                .filter(|(_, p)| {
                    PolicySet::from_str(p).is_ok_and(|set| {
                        validator
                            .validate(&set, ValidationMode::Strict)
                            .validation_passed()
                    })
                })
                .map(|(i, p)| format!("@id(\"p{i}\")\n{p}\n"))
                .collect()
        }

        #[derive(Debug, Clone)]
        struct Case {
            user: usize,
            groups: Vec<usize>,
            action: usize,
            service: usize,
            owner: usize,
            waiver: Option<(usize, usize)>,
            environment: Option<(bool, bool)>,
            flags: (bool, bool, bool),
            /// (weekday, hour, operation, intent type)
            when: (usize, u32, Option<usize>, Option<usize>),
        }

        fn case() -> impl Strategy<Value = Case> {
            (
                0..3usize,
                proptest::collection::vec(0..5usize, 0..4),
                0..11usize,
                0..4usize,
                0..5usize,
                proptest::option::of((0..2usize, 0..3usize)),
                proptest::option::of((any::<bool>(), any::<bool>())),
                (any::<bool>(), any::<bool>(), any::<bool>()),
                (
                    0..7usize,
                    0..24u32,
                    proptest::option::of(0..3usize),
                    proptest::option::of(0..2usize),
                ),
            )
                .prop_map(
                    |(user, groups, action, service, owner, waiver, environment, flags, when)| {
                        Case {
                            user,
                            groups,
                            action,
                            service,
                            owner,
                            waiver,
                            environment,
                            flags,
                            when,
                        }
                    },
                )
        }

        fn request(c: &Case) -> (AuthzRequest, Option<EnvFacts>) {
            let action = ACTIONS[c.action];
            let waiver_action = action.ends_with("_waiver");
            let resource = if waiver_action {
                let (w, requester) = c.waiver.unwrap_or((0, 0));
                AuthzResource::Waiver {
                    id: format!("w{w}"),
                    rule: "r".into(),
                    service: format!("s{}", c.service),
                    service_owner: TEAMS[c.owner].into(),
                    requested_by: USERS[requester].into(),
                }
            } else {
                AuthzResource::Service {
                    name: format!("s{}", c.service),
                    owner: TEAMS[c.owner].into(),
                    golden_path: "gp".into(),
                }
            };
            // (protected, facts known): an environment without facts has no entity.
            let (environment, facts) = match c.environment {
                Some((protected, known)) if !waiver_action => (
                    Some(if protected { "prod" } else { "dev" }.to_string()),
                    known.then(|| EnvFacts {
                        protected,
                        kind: if protected { "prod" } else { "non-prod" }.into(),
                    }),
                ),
                _ => (None, None),
            };
            let req = AuthzRequest {
                principal: Principal::new(
                    format!("user:default/{}", USERS[c.user]),
                    c.groups
                        .iter()
                        .map(|g| format!("group:default/{}", TEAMS[*g]))
                        .collect(),
                ),
                action: action.into(),
                resource,
                context: AuthzContext {
                    environment,
                    approved: c.flags.0,
                    change_window: c.flags.1,
                    first_deploy: c.flags.2,
                    dry_run: false,
                    operation: c
                        .when
                        .2
                        .map(|o| ["upgrade", "run_golden_path", "plan"][o].to_string()),
                    time: Some(RequestTime {
                        weekday: WEEKDAYS[c.when.0].into(),
                        hour: c.when.1,
                        date: "2026-11-27".into(),
                    }),
                    intent: c.when.3.map(|t| IntentFacts {
                        ty: ["postgres", "bucket"][t].into(),
                        class: String::new(),
                        key: ["postgres:postgres", "bucket:bucket"][t].into(),
                        module: "m".into(),
                    }),
                },
            };
            (req, facts)
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(96))]

            /// The fast path (scope index, entities built once) decides exactly as plain Cedar
            /// evaluating the whole policy set: the decision, the deciding policies, the errors.
            #[test]
            fn the_fast_path_decides_as_plain_cedar(
                policies in proptest::collection::vec(policy(), 1..40),
                cases in proptest::collection::vec(case(), 1..16),
            ) {
                let text = valid_set(&policies);
                let dir = Directory::load([("org.yaml", ORG4)]).unwrap();
                let mut a = Authz::load([("gen.cedar", text.as_str())]).unwrap();
                a.bind_directory(&dir).unwrap();
                // Each case again with only its weekday, its hour, its operation or its
                // intent changed, right after it: a memoized context must not answer for another.
                // Likewise with one team fewer, another owner, or the environment's facts known
                // or not: memoized entities must not answer for another request.
                let cases = cases.iter().flat_map(|c| {
                    let (d, h, o, i) = c.when;
                    let toggle = |x: Option<usize>| x.map_or(Some(0), |_| None);
                    let mut variants: Vec<Case> = [
                        (d, h, o, i),
                        ((d + 4) % 7, h, o, i),
                        (d, (h + 12) % 24, o, i),
                        (d, h, toggle(o), i),
                        (d, h, o, toggle(i)),
                    ]
                    .map(|when| Case { when, ..c.clone() })
                    .into();
                    let mut fewer = c.clone();
                    fewer.groups.pop();
                    variants.push(fewer);
                    variants.push(Case { owner: (c.owner + 1) % 5, ..c.clone() });
                    variants.push(Case {
                        environment: c.environment.map(|(p, known)| (p, !known)),
                        ..c.clone()
                    });
                    variants
                });
                for c in &cases.collect::<Vec<_>>() {
                    let (req, facts) = request(c);
                    let fast = a.decide(&req, &dir, facts.as_ref()).unwrap();
                    let mut plain = a.plain_cedar(&req, &dir, facts.as_ref()).unwrap().decide();
                    let mut fast_errors = fast.errors.clone();
                    fast_errors.sort();
                    plain.errors.sort();
                    prop_assert_eq!(
                        (&fast.allowed, &fast.policies, &fast_errors),
                        (&plain.allowed, &plain.policies, &plain.errors),
                        "{:?}\n{}", c, text
                    );
                }
            }
        }
    }
}
