//! Three-way merges for upgrades: base = the file as idp rendered it, ours = the file in the
//! repo (with the team's edits), theirs = the new version's render.
//!
//! Text merges by lines (diff3, standard conflict markers). Structured files (YAML, JSON, TOML)
//! merge by keys, so that edits to different keys never conflict even when they sit on
//! neighbouring lines: the line merge is kept when it is clean and means the same as the key
//! merge (it preserves comments and layout); otherwise a clean key merge is written out as data.

use std::collections::BTreeMap;

use serde_json::Value;

/// The outcome of merging one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub content: String,
    /// Conflicting regions (0: clean). Conflicts are written with standard markers.
    pub conflicts: usize,
    /// True when a key merge (not the line merge) produced the content.
    pub by_keys: bool,
    /// Where a structured file conflicts, as key paths (`/spec/replicas`,
    /// `/spec/template/spec/containers[name=app]/image`); empty for text files.
    pub conflict_paths: Vec<String>,
}

/// Labels of the conflict markers.
pub struct Labels<'a> {
    pub ours: &'a str,
    pub theirs: &'a str,
}

/// Merges by lines.
pub fn merge_text(base: &str, ours: &str, theirs: &str, labels: &Labels<'_>) -> Merged {
    let mut m = similar::TextMerge::from_lines(base, ours, theirs);
    m.labels("base", labels.ours, labels.theirs);
    Merged {
        content: m.to_string(),
        conflicts: m.conflict_count(),
        by_keys: false,
        conflict_paths: Vec::new(),
    }
}

/// The structured format of a path, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Toml,
}

impl Format {
    pub fn of(path: &str) -> Option<Format> {
        match path.rsplit('.').next()? {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    }

    /// Parses `text`; `None` when it is not valid (or is several YAML documents).
    pub fn parse(self, text: &str) -> Option<Value> {
        match self {
            Format::Yaml => {
                let mut docs = serde_norway::Deserializer::from_str(text);
                let first = docs.next()?;
                let v: Value = serde::Deserialize::deserialize(first).ok()?;
                if docs.next().is_some() { None } else { Some(v) }
            }
            Format::Json => serde_json::from_str(text).ok(),
            Format::Toml => toml::from_str(text).ok(),
        }
    }

    /// Writes `v` back as text.
    pub fn write(self, v: &Value) -> Option<String> {
        match self {
            Format::Yaml => serde_norway::to_string(v).ok(),
            Format::Json => serde_json::to_string_pretty(v).ok().map(|s| s + "\n"),
            Format::Toml => toml::to_string(v).ok(),
        }
    }
}

/// Lists of objects that merge item by item, each item named by one of its fields: the list's
/// key in its parent object -> the identifying field. Kubernetes' own lists are built in
/// (`containers`, `initContainers`, `ephemeralContainers`, `env`, `ports`, `volumes`,
/// `volumeMounts`, all by `name`); a golden path adds its own with `merge_keys` in `path.yaml`.
/// A list merges by key only when every item of all three sides is an object whose field is a
/// string or number, each value once; otherwise it merges as one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeKeys(BTreeMap<String, String>);

impl Default for MergeKeys {
    fn default() -> Self {
        MergeKeys(
            [
                "containers",
                "initContainers",
                "ephemeralContainers",
                "env",
                "ports",
                "volumes",
                "volumeMounts",
            ]
            .into_iter()
            .map(|k| (k.to_string(), "name".to_string()))
            .collect(),
        )
    }
}

impl MergeKeys {
    /// The built-in keys plus `extra` (which wins where both name a list).
    pub fn with(mut self, extra: &BTreeMap<String, String>) -> Self {
        self.0
            .extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        self
    }

    /// The identifying field of the list at `path` (its last key), if it merges by key.
    fn field(&self, path: &str) -> Option<&str> {
        let last = path.rsplit('/').next()?;
        self.0.get(last).map(String::as_str)
    }
}

/// Each item of `list` by its `field`, in order; `None` when an item is not an object with a
/// string or number `field`, or when two items share one.
fn by_key<'v>(list: &'v [Value], field: &str) -> Option<Vec<(String, &'v Value)>> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        let key = match item.as_object()?.get(field)? {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        if !seen.insert(key.clone()) {
            return None;
        }
        out.push((key, item));
    }
    Some(out)
}

/// The item named `k` of a list indexed by [`by_key`].
fn item<'v>(side: &[(String, &'v Value)], k: &str) -> Option<&'v Value> {
    side.iter().find(|(x, _)| x == k).map(|(_, v)| *v)
}

/// Merges three lists item by item (see [`MergeKeys`]); `None` when they do not all have keys.
/// The order is ours, with items only theirs adds placed after their predecessor in theirs.
fn merge_keyed_lists(
    base: Option<&Value>,
    ours: &[Value],
    theirs: &[Value],
    field: &str,
    path: &str,
    keys: &MergeKeys,
    conflicts: &mut Vec<String>,
) -> Option<Vec<Value>> {
    let b = match base {
        None => Vec::new(),
        Some(Value::Array(b)) => by_key(b, field)?,
        Some(_) => return None,
    };
    let (o, t) = (by_key(ours, field)?, by_key(theirs, field)?);
    // The order of keys: ours, then each key only theirs has, after its predecessor in theirs.
    let mut order: Vec<&str> = o.iter().map(|(k, _)| k.as_str()).collect();
    for (i, (k, _)) in t.iter().enumerate() {
        if order.contains(&k.as_str()) {
            continue;
        }
        let at = t[..i]
            .iter()
            .rev()
            .find_map(|(p, _)| order.iter().position(|x| x == p))
            .map_or(0, |p| p + 1);
        order.insert(at, k);
    }
    // Keys only the base has were removed on both sides: they stay removed.
    let mut out = Vec::with_capacity(order.len());
    for k in order {
        let sub = format!("{path}[{field}={k}]");
        if let Some(v) = merge_values(item(&b, k), item(&o, k), item(&t, k), &sub, keys, conflicts)
        {
            out.push(v);
        }
    }
    Some(out)
}

/// Merges values by keys: objects recursively, lists of objects named by `keys` item by item,
/// anything else as a whole. Returns the merged value and the key paths that conflict.
pub fn merge_values(
    base: Option<&Value>,
    ours: Option<&Value>,
    theirs: Option<&Value>,
    path: &str,
    keys: &MergeKeys,
    conflicts: &mut Vec<String>,
) -> Option<Value> {
    if ours == theirs {
        return ours.cloned();
    }
    if ours == base {
        return theirs.cloned();
    }
    if theirs == base {
        return ours.cloned();
    }
    match (ours, theirs) {
        (Some(Value::Object(o)), Some(Value::Object(t))) => {
            let b = base.and_then(Value::as_object);
            let mut out = serde_json::Map::new();
            // Keep ours' key order, then keys only theirs adds.
            let keys_in_order: Vec<&String> = o
                .keys()
                .chain(t.keys().filter(|k| !o.contains_key(*k)))
                .collect();
            for k in keys_in_order {
                let sub = format!("{path}/{k}");
                if let Some(v) = merge_values(
                    b.and_then(|b| b.get(k)),
                    o.get(k),
                    t.get(k),
                    &sub,
                    keys,
                    conflicts,
                ) {
                    out.insert(k.clone(), v);
                }
            }
            Some(Value::Object(out))
        }
        (Some(Value::Array(o)), Some(Value::Array(t))) => {
            let keyed = keys.field(path).and_then(|field| {
                let mut inner = Vec::new();
                let merged = merge_keyed_lists(base, o, t, field, path, keys, &mut inner)?;
                Some((merged, inner))
            });
            match keyed {
                Some((merged, inner)) => {
                    conflicts.extend(inner);
                    Some(Value::Array(merged))
                }
                None => {
                    conflicts.push(path.to_string());
                    ours.cloned()
                }
            }
        }
        _ => {
            conflicts.push(if path.is_empty() {
                "/".into()
            } else {
                path.to_string()
            });
            ours.cloned()
        }
    }
}

/// Merges a file: by keys for YAML/JSON/TOML when all three parse (lists named by `keys` item
/// by item), by lines otherwise.
pub fn merge_file(
    path: &str,
    base: &str,
    ours: &str,
    theirs: &str,
    labels: &Labels<'_>,
    keys: &MergeKeys,
) -> Merged {
    let lines = merge_text(base, ours, theirs, labels);
    let Some(fmt) = Format::of(path) else {
        return lines;
    };
    let (Some(b), Some(o), Some(t)) = (fmt.parse(base), fmt.parse(ours), fmt.parse(theirs)) else {
        return lines;
    };
    let mut key_conflicts = Vec::new();
    let merged = merge_values(Some(&b), Some(&o), Some(&t), "", keys, &mut key_conflicts);
    if !key_conflicts.is_empty() {
        // Real conflicts: show them where people look for them, as markers in the text.
        if lines.conflicts > 0 {
            return Merged {
                conflict_paths: key_conflicts,
                ..lines
            };
        }
        return Merged {
            conflicts: key_conflicts.len(),
            conflict_paths: key_conflicts,
            ..lines
        };
    }
    let merged = merged.unwrap_or(Value::Null);
    if lines.conflicts == 0 && fmt.parse(&lines.content).as_ref() == Some(&merged) {
        return lines;
    }
    match fmt.write(&merged) {
        Some(content) => Merged {
            content,
            conflicts: 0,
            by_keys: true,
            conflict_paths: Vec::new(),
        },
        None => lines,
    }
}

/// Where a file in the repo (`ours`) differs from what idp rendered (`base`): for YAML, JSON and
/// TOML the key paths whose values differ (lists named by `keys` compared item by item), for
/// other files the line ranges of the repo's file that differ (`lines 3-5`).
pub fn drift(path: &str, base: &[u8], ours: &[u8], keys: &MergeKeys) -> Vec<String> {
    let (base, ours) = (String::from_utf8_lossy(base), String::from_utf8_lossy(ours));
    if let Some(fmt) = Format::of(path)
        && let (Some(b), Some(o)) = (fmt.parse(&base), fmt.parse(&ours))
    {
        let mut out = Vec::new();
        value_drift(Some(&b), Some(&o), "", keys, &mut out);
        return out;
    }
    let diff = similar::TextDiff::from_lines(base.as_ref(), ours.as_ref());
    diff.ops()
        .iter()
        .filter(|op| op.tag() != similar::DiffTag::Equal)
        .map(|op| {
            let r = op.new_range();
            match r.len() {
                0 => format!("lines removed after line {}", r.start),
                1 => format!("line {}", r.start + 1),
                _ => format!("lines {}-{}", r.start + 1, r.end),
            }
        })
        .collect()
}

fn value_drift(
    base: Option<&Value>,
    ours: Option<&Value>,
    path: &str,
    keys: &MergeKeys,
    out: &mut Vec<String>,
) {
    if base == ours {
        return;
    }
    match (base, ours) {
        (Some(Value::Object(b)), Some(Value::Object(o))) => {
            for k in b.keys().chain(o.keys().filter(|k| !b.contains_key(*k))) {
                value_drift(b.get(k), o.get(k), &format!("{path}/{k}"), keys, out);
            }
        }
        (Some(Value::Array(b)), Some(Value::Array(o))) => {
            let keyed = keys
                .field(path)
                .and_then(|f| Some((f, by_key(b, f)?, by_key(o, f)?)));
            let Some((field, b, o)) = keyed else {
                out.push(path.to_string());
                return;
            };
            for (k, _) in b
                .iter()
                .chain(o.iter().filter(|(k, _)| item(&b, k).is_none()))
            {
                value_drift(
                    item(&b, k),
                    item(&o, k),
                    &format!("{path}[{field}={k}]"),
                    keys,
                    out,
                );
            }
        }
        _ => out.push(if path.is_empty() {
            "/".into()
        } else {
            path.to_string()
        }),
    }
}

/// Sets `key` (a path of object keys) to `value` in a YAML/JSON/TOML text. Returns the new text,
/// or `None` when the file does not parse or a key on the path is not an object.
pub fn set_key(path: &str, text: &str, key: &[String], value: &Value) -> Option<String> {
    let fmt = Format::of(path)?;
    let mut v = fmt.parse(text)?;
    let mut cur = &mut v;
    for (i, k) in key.iter().enumerate() {
        let obj = cur.as_object_mut()?;
        if i == key.len() - 1 {
            if obj.get(k) == Some(value) {
                return Some(text.to_string());
            }
            obj.insert(k.clone(), value.clone());
            break;
        }
        cur = obj
            .entry(k.clone())
            .or_insert_with(|| Value::Object(Default::default()));
    }
    fmt.write(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Labels<'static> = Labels {
        ours: "ours (your edits)",
        theirs: "theirs (platform)",
    };

    /// The merge with the built-in list keys.
    fn merge_file(path: &str, base: &str, ours: &str, theirs: &str, l: &Labels<'_>) -> Merged {
        super::merge_file(path, base, ours, theirs, l, &MergeKeys::default())
    }

    #[test]
    fn text_edits_far_apart_merge_cleanly() {
        let base = "a\nb\nc\nd\ne\nf\n";
        let ours = "A\nb\nc\nd\ne\nf\n";
        let theirs = "a\nb\nc\nd\ne\nF\n";
        let m = merge_file("x.txt", base, ours, theirs, &L);
        assert_eq!(m.conflicts, 0);
        assert_eq!(m.content, "A\nb\nc\nd\ne\nF\n");
    }

    #[test]
    fn the_same_line_conflicts_with_standard_markers_and_nothing_else_is_lost() {
        let base = "keep1\nline\nkeep2\n";
        let m = merge_file(
            "Dockerfile",
            base,
            "keep1\nOURS\nkeep2\n",
            "keep1\nTHEIRS\nkeep2\n",
            &L,
        );
        assert_eq!(m.conflicts, 1);
        assert!(
            m.content.contains(
                "<<<<<<< ours (your edits)\nOURS\n=======\nTHEIRS\n>>>>>>> theirs (platform)\n"
            ),
            "{}",
            m.content
        );
        assert!(m.content.starts_with("keep1\n") && m.content.ends_with("keep2\n"));
    }

    #[test]
    fn yaml_edits_to_neighbouring_keys_merge_by_keys() {
        let base = "a: 1\nb: 2\n";
        let ours = "a: 1\nb: 2\nmine: x\n";
        let theirs = "a: 1\nb: 2\ntheirs: y\n";
        let m = merge_file("c.yaml", base, ours, theirs, &L);
        assert_eq!(m.conflicts, 0, "{}", m.content);
        let v = Format::Yaml.parse(&m.content).unwrap();
        assert_eq!(v["mine"], "x");
        assert_eq!(v["theirs"], "y");
    }

    #[test]
    fn the_same_key_changed_both_ways_conflicts() {
        let m = merge_file("c.yaml", "a: 1\n", "a: 2\n", "a: 3\n", &L);
        assert!(m.conflicts > 0);
        assert!(m.content.contains("<<<<<<<"));
    }

    #[test]
    fn toml_and_json_merge_by_keys() {
        let m = merge_file(
            "p.toml",
            "[a]\nx = 1\n",
            "[a]\nx = 1\ny = 2\n",
            "[a]\nx = 1\nz = 3\n",
            &L,
        );
        assert_eq!(m.conflicts, 0);
        let v = Format::Toml.parse(&m.content).unwrap();
        assert_eq!(
            (v["a"]["y"].as_i64(), v["a"]["z"].as_i64()),
            (Some(2), Some(3))
        );
        let m = merge_file(
            "r.json",
            "{\"a\": 1}",
            "{\"a\": 1, \"o\": true}",
            "{\"a\": 2}",
            &L,
        );
        assert_eq!(
            Format::Json.parse(&m.content).unwrap(),
            serde_json::json!({"a": 2, "o": true})
        );
    }

    #[test]
    fn set_key_creates_the_path() {
        let t = set_key(
            "p.toml",
            "[tool]\n",
            &["tool".into(), "ruff".into(), "line-length".into()],
            &serde_json::json!(100),
        )
        .unwrap();
        assert_eq!(
            Format::Toml.parse(&t).unwrap()["tool"]["ruff"]["line-length"],
            100
        );
    }

    /// Merges three values with the built-in list keys: the result and the conflicting paths.
    fn by_keys3(
        base: Option<&Value>,
        ours: Option<&Value>,
        theirs: Option<&Value>,
    ) -> (Option<Value>, Vec<String>) {
        let mut c = Vec::new();
        let m = merge_values(base, ours, theirs, "", &MergeKeys::default(), &mut c);
        (m, c)
    }

    const DEPLOYMENT: &str = "spec:
  containers:
    - name: app
      image: app:1
      ports:
        - name: http
          containerPort: 3000
    - name: proxy
      image: proxy:1
";

    #[test]
    fn edits_to_different_items_of_a_keyed_list_merge() {
        // The team sets resources on `app`; the platform adds a lifecycle block to the same
        // container and changes the port: different keys of one item, no conflict.
        let ours = DEPLOYMENT.replace(
            "      image: app:1\n",
            "      image: app:1\n      resources:\n        limits:\n          memory: 1Gi\n",
        );
        let theirs = DEPLOYMENT
            .replace("containerPort: 3000", "containerPort: 3001")
            .replace(
                "      image: app:1\n",
                "      image: app:1\n      lifecycle:\n        preStop:\n          sleep:\n            seconds: 5\n",
            );
        let m = merge_file("d.yaml", DEPLOYMENT, &ours, &theirs, &L);
        assert_eq!(m.conflicts, 0, "{}", m.content);
        let v = Format::Yaml.parse(&m.content).unwrap();
        let app = &v["spec"]["containers"][0];
        assert_eq!(app["resources"]["limits"]["memory"], "1Gi");
        assert_eq!(app["lifecycle"]["preStop"]["sleep"]["seconds"], 5);
        assert_eq!(app["ports"][0]["containerPort"], 3001);
        assert_eq!(v["spec"]["containers"][1]["name"], "proxy");
    }

    #[test]
    fn keyed_items_added_removed_and_reordered_keep_both_sides() {
        // Ours adds a sidecar and reorders; theirs removes `proxy` and adds `init` after `app`.
        let base = serde_json::json!({"containers": [
            {"name": "app", "image": "a"}, {"name": "proxy", "image": "p"}]});
        let ours = serde_json::json!({"containers": [
            {"name": "sidecar", "image": "s"}, {"name": "app", "image": "a"},
            {"name": "proxy", "image": "p"}]});
        let theirs = serde_json::json!({"containers": [
            {"name": "app", "image": "a"}, {"name": "init", "image": "i"}]});
        let (m, c) = by_keys3(Some(&base), Some(&ours), Some(&theirs));
        let m = m.unwrap();
        assert!(c.is_empty(), "{c:?}");
        let names: Vec<&str> = m["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["sidecar", "app", "init"]);
    }

    #[test]
    fn the_same_field_of_one_item_conflicts_at_its_path() {
        let base = serde_json::json!({"env": [{"name": "A", "value": "1"}]});
        let ours = serde_json::json!({"env": [{"name": "A", "value": "2"}]});
        let theirs = serde_json::json!({"env": [{"name": "A", "value": "3"}]});
        let (_, c) = by_keys3(Some(&base), Some(&ours), Some(&theirs));
        assert_eq!(c, ["/env[name=A]/value"]);
        // An item one side removed and the other changed conflicts too.
        let theirs = serde_json::json!({"env": []});
        let (_, c) = by_keys3(Some(&base), Some(&ours), Some(&theirs));
        assert_eq!(c, ["/env[name=A]"]);
    }

    #[test]
    fn lists_without_keys_merge_as_one_value_and_golden_paths_add_keys() {
        // `topics` is not a built-in list: edits to two topics conflict as one value ...
        let base = "topics:\n  - name: a\n    partitions: 1\n  - name: b\n    partitions: 1\n";
        let ours = base.replacen("partitions: 1", "partitions: 3", 1);
        let theirs = "topics:\n  - name: a\n    partitions: 1\n  - name: b\n    partitions: 2\n";
        let plain = merge_file("t.yaml", base, &ours, theirs, &L);
        let keyed = super::merge_file(
            "t.yaml",
            base,
            &ours,
            theirs,
            &L,
            &MergeKeys::default().with(&[("topics".into(), "name".into())].into()),
        );
        assert!(plain.conflicts > 0, "{}", plain.content);
        let (_, c) = by_keys3(
            Format::Yaml.parse(base).as_ref(),
            Format::Yaml.parse(&ours).as_ref(),
            Format::Yaml.parse(theirs).as_ref(),
        );
        assert_eq!(c, ["/topics"]);
        // ... and by item once the golden path names the key.
        assert_eq!(keyed.conflicts, 0);
        let v = Format::Yaml.parse(&keyed.content).unwrap();
        assert_eq!(v["topics"][0]["partitions"], 3);
        assert_eq!(v["topics"][1]["partitions"], 2);
        // Items without the field, or two with one name, merge as one value.
        let dup = serde_json::json!({"env": [{"name": "A"}, {"name": "A"}]});
        let (_, c) = by_keys3(
            Some(&serde_json::json!({"env": []})),
            Some(&dup),
            Some(&serde_json::json!({"env": [{"name": "B"}]})),
        );
        assert_eq!(c, ["/env"]);
    }

    #[test]
    fn drift_names_the_keys_or_lines_that_differ() {
        let ours = DEPLOYMENT
            .replace("containerPort: 3000", "containerPort: 4000")
            .replace("image: proxy:1", "image: proxy:2");
        assert_eq!(
            drift(
                "d.yaml",
                DEPLOYMENT.as_bytes(),
                ours.as_bytes(),
                &MergeKeys::default()
            ),
            [
                "/spec/containers[name=app]/ports[name=http]/containerPort",
                "/spec/containers[name=proxy]/image"
            ]
        );
        assert!(drift("d.yaml", b"a: 1\n", b"a: 1\n", &MergeKeys::default()).is_empty());
        assert_eq!(
            drift(
                "Dockerfile",
                b"a\nb\nc\n",
                b"a\nB\nc\nd\n",
                &MergeKeys::default()
            ),
            ["line 2", "line 4"]
        );
    }
}
