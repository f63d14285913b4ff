//! The organization directory: Backstage catalog `User` and `Group` entities, so a Backstage
//! installation can point idp at its own catalog files. Answers "which teams is this user in",
//! "does this team exist", and "what is the team's cost center".

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Annotation on a Group holding its cost center (used for labels and tags).
pub const COST_CENTER_ANNOTATION: &str = "idp.dev/cost-center";
/// Annotation on a Group marking its members as platform administrators.
pub const ADMIN_ANNOTATION: &str = "idp.dev/platform-admin";

/// Who is acting: a user entity ref and the group refs it belongs to.
///
/// Faces build it: the CLI from `--as`, Backstage from the request's credentials, scripts
/// directly. [`Directory::principal`] fills the groups from the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Principal {
    /// `user:default/alice`
    pub user: String,
    /// `group:default/team-payments`, ...
    #[serde(default)]
    pub groups: Vec<String>,
}

impl Principal {
    /// A principal with explicit groups (e.g. from Backstage `ownershipEntityRefs`).
    pub fn new(user: impl Into<String>, groups: Vec<String>) -> Self {
        Principal {
            user: user.into(),
            groups,
        }
    }
}

/// A team (Backstage `Group`).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Team {
    pub name: String,
    pub entity_ref: String,
    pub cost_center: Option<String>,
    pub platform_admin: bool,
    pub members: BTreeSet<String>,
}

/// Users and teams, from Backstage catalog entities.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    teams: BTreeMap<String, Team>,
    users: BTreeMap<String, BTreeSet<String>>,
    /// `Component` entities of the catalog: name -> owner (`spec.owner`, as written).
    components: BTreeMap<String, String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct Entity {
    #[serde(rename = "apiVersion")]
    api_version: String,
    kind: String,
    metadata: Metadata,
    #[serde(default)]
    spec: serde_json::Value,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct Metadata {
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// Normalizes an entity reference: `alice` -> `user:default/alice` (with `kind` = "user").
pub fn entity_ref(kind: &str, r: &str) -> String {
    entity_ref_cow(kind, r).into_owned()
}

/// [`entity_ref`], borrowing `r` when it is already normal (the common case on a hot path).
pub fn entity_ref_cow<'a>(kind: &str, r: &'a str) -> std::borrow::Cow<'a, str> {
    // The normal form is `kind:namespace/name` in lower case without surrounding space: `r` is
    // normal when it has a kind and a namespace already and nothing to lower or trim.
    let normal = r
        .split_once(':')
        .is_some_and(|(_, rest)| rest.contains('/'))
        && r.trim().len() == r.len()
        && !r.bytes().any(|b| b.is_ascii_uppercase());
    if normal {
        return std::borrow::Cow::Borrowed(r);
    }
    std::borrow::Cow::Owned(normalize_ref(kind, r))
}

fn normalize_ref(kind: &str, r: &str) -> String {
    let r = r.trim();
    let (k, rest) = match r.split_once(':') {
        Some((k, rest)) => (k.to_ascii_lowercase(), rest),
        None => (kind.to_string(), r),
    };
    let (ns, name) = rest.split_once('/').unwrap_or(("default", rest));
    format!(
        "{k}:{}/{}",
        ns.to_ascii_lowercase(),
        name.to_ascii_lowercase()
    )
}

/// Checks a user reference a face passes as the principal (`alice`, `user:default/alice`): the
/// kind is `user`, and the namespace and name are Backstage entity names (1-63 letters, digits,
/// `-`, `_` or `.`). An empty `--as ""` or `user:default/../x` is refused, not turned into an
/// anonymous principal.
pub fn check_user_ref(user: &str) -> Result<()> {
    let bad = || {
        Error::invalid(format!(
            "principal {} is not a user reference like user:default/alice",
            crate::naming::shown(user)
        ))
        .with("field", "principal")
    };
    let r = entity_ref("user", user);
    let (kind, rest) = r.split_once(':').ok_or_else(bad)?;
    let (ns, name) = rest.split_once('/').ok_or_else(bad)?;
    if kind != "user" || !is_entity_name(ns) || !is_entity_name(name) {
        return Err(bad());
    }
    Ok(())
}

/// A Backstage entity name or namespace: 1-63 letters, digits, `-`, `_` or `.`, starting with a
/// letter or digit.
fn is_entity_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
}

fn string_list(
    spec: &serde_json::Value,
    key: &str,
    file: &str,
    entity: &str,
) -> Result<Vec<String>> {
    match spec.get(key) {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    Error::invalid(format!(
                        "{file}: {entity}: spec.{key} must be a list of entity names"
                    ))
                    .with("file", file)
                    .with("field", format!("spec.{key}"))
                })
            })
            .collect(),
        Some(_) => Err(
            Error::invalid(format!("{file}: {entity}: spec.{key} must be a list"))
                .with("file", file)
                .with("field", format!("spec.{key}")),
        ),
    }
}

impl Directory {
    /// Loads every `User` and `Group` entity from multi-document YAML files `(name, text)`.
    /// Other kinds are ignored, so a whole Backstage catalog file can be used as is.
    pub fn load<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Directory> {
        let mut dir = Directory::default();
        let mut user_groups: Vec<(String, String)> = Vec::new();
        let mut defined_users = BTreeSet::new();
        for (file, text) in files {
            for doc in serde_norway::Deserializer::from_str(text) {
                let value: serde_json::Value = serde::Deserialize::deserialize(doc)
                    .map_err(|e| Error::invalid(format!("{file}: {e}")).with("file", file))?;
                if value.is_null() {
                    continue;
                }
                let e: Entity = serde_json::from_value(value).map_err(|e| {
                    Error::invalid(format!("{file}: not a Backstage entity: {e}"))
                        .with("file", file)
                })?;
                if !e.api_version.starts_with("backstage.io/") {
                    continue;
                }
                let ns = e
                    .metadata
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "default".into());
                if matches!(e.kind.as_str(), "Group" | "User")
                    && !(is_entity_name(&ns) && is_entity_name(&e.metadata.name))
                {
                    // Team names become namespaces and folders in the GitOps repo.
                    return Err(Error::invalid(format!(
                        "{file}: {} {}/{} is not a valid entity name (1-63 letters, digits, \
                         '-', '_' or '.', starting with a letter or digit)",
                        e.kind,
                        crate::naming::shown(&ns),
                        crate::naming::shown(&e.metadata.name)
                    ))
                    .with("file", file)
                    .with("field", "metadata.name"));
                }
                match e.kind.as_str() {
                    "Group" => {
                        let gref = format!("group:{ns}/{}", e.metadata.name);
                        let members = string_list(&e.spec, "members", file, &gref)?;
                        for m in members {
                            user_groups.push((entity_ref("user", &m), gref.clone()));
                        }
                        let team = Team {
                            name: e.metadata.name.clone(),
                            entity_ref: gref.clone(),
                            cost_center: e
                                .metadata
                                .annotations
                                .get(COST_CENTER_ANNOTATION)
                                .cloned(),
                            platform_admin: e
                                .metadata
                                .annotations
                                .get(ADMIN_ANNOTATION)
                                .is_some_and(|v| v == "true"),
                            members: BTreeSet::new(),
                        };
                        if dir.teams.insert(gref.clone(), team).is_some() {
                            return Err(Error::invalid(format!(
                                "{file}: group {gref} is defined twice"
                            ))
                            .with("file", file));
                        }
                    }
                    "User" => {
                        let uref = format!("user:{ns}/{}", e.metadata.name);
                        // A second document for one user would merge its memberships
                        // silently (an extra memberOf can make someone an admin).
                        if !defined_users.insert(uref.clone()) {
                            return Err(Error::invalid(format!(
                                "{file}: user {uref} is defined twice"
                            ))
                            .with("file", file));
                        }
                        for g in string_list(&e.spec, "memberOf", file, &uref)? {
                            user_groups.push((uref.clone(), entity_ref("group", &g)));
                        }
                        dir.users.entry(uref).or_default();
                    }
                    "Component" => {
                        let owner = e.spec.get("owner").and_then(|o| o.as_str()).unwrap_or("");
                        dir.components
                            .insert(e.metadata.name.clone(), owner.to_string());
                    }
                    _ => {}
                }
            }
        }
        for (user, group) in user_groups {
            let Some(team) = dir.teams.get_mut(&group) else {
                return Err(Error::invalid(format!(
                    "org directory: {user} is a member of {group}, which is not defined"
                ))
                .with("field", "spec.memberOf"));
            };
            team.members.insert(user.clone());
            dir.users.entry(user).or_default().insert(group);
        }
        Ok(dir)
    }

    /// The team called `name` (`team-payments` or `group:default/team-payments`).
    pub fn team(&self, name: &str) -> Option<&Team> {
        self.teams.get(&entity_ref("group", name))
    }

    /// The catalog's `Component` entities (name -> owner as written), for adoption insights.
    pub fn components(&self) -> &BTreeMap<String, String> {
        &self.components
    }

    /// Every team.
    pub fn teams(&self) -> impl Iterator<Item = &Team> {
        self.teams.values()
    }

    /// True when the user is in the directory.
    pub fn has_user(&self, user: &str) -> bool {
        self.users.contains_key(&entity_ref("user", user))
    }

    /// Builds the principal for `user` with its groups from the directory. An unknown user gets
    /// no groups (and so, by default, no rights).
    pub fn principal(&self, user: &str) -> Principal {
        let uref = entity_ref("user", user);
        let groups = self
            .users
            .get(&uref)
            .map(|g| g.iter().cloned().collect())
            .unwrap_or_default();
        Principal { user: uref, groups }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn the_borrowed_ref_is_the_normal_form(r in "[ a-zA-Z:/._-]{0,12}", user in proptest::bool::ANY) {
            let kind = if user { "user" } else { "group" };
            let fast = entity_ref_cow(kind, &r).into_owned();
            proptest::prop_assert_eq!(fast, normalize_ref(kind, &r));
        }
    }

    const ORG: &str = "
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a, annotations: {idp.dev/cost-center: cc-1}}
spec: {type: team, members: [bob]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: alice}
spec: {memberOf: [team-a]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: bob}
spec: {}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: ignored}
spec: {}
";

    #[test]
    fn membership_comes_from_both_member_of_and_members() {
        let d = Directory::load([("org.yaml", ORG)]).unwrap();
        assert_eq!(d.principal("alice").groups, vec!["group:default/team-a"]);
        assert_eq!(
            d.principal("user:default/bob").groups,
            vec!["group:default/team-a"]
        );
        assert_eq!(
            d.team("team-a").unwrap().cost_center.as_deref(),
            Some("cc-1")
        );
        assert!(d.principal("mallory").groups.is_empty());
    }

    #[test]
    fn membership_of_an_undefined_group_fails_the_load() {
        let bad = "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: x}\nspec: {memberOf: [nope]}\n";
        let e = Directory::load([("org.yaml", bad)]).unwrap_err();
        assert!(e.to_string().contains("group:default/nope"), "{e}");
    }
}
