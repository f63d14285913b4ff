//! Three-way merges for upgrades: base = the file as idp rendered it, ours = the file in the
//! repo (with the team's edits), theirs = the new version's render.
//!
//! Text merges by lines (diff3, standard conflict markers). Structured files (YAML, JSON, TOML)
//! merge by keys, so that edits to different keys never conflict even when they sit on
//! neighbouring lines: the line merge is kept when it is clean and means the same as the key
//! merge (it preserves comments and layout); otherwise a clean key merge is written out as data.

use serde_json::Value;

/// The outcome of merging one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub content: String,
    /// Conflicting regions (0: clean). Conflicts are written with standard markers.
    pub conflicts: usize,
    /// True when a key merge (not the line merge) produced the content.
    pub by_keys: bool,
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

/// Merges values by keys: objects recursively, anything else as a whole. Returns the merged
/// value and the key paths that conflict.
pub fn merge_values(
    base: Option<&Value>,
    ours: Option<&Value>,
    theirs: Option<&Value>,
    path: &str,
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
            let keys: Vec<&String> = o
                .keys()
                .chain(t.keys().filter(|k| !o.contains_key(*k)))
                .collect();
            for k in keys {
                let sub = format!("{path}/{k}");
                if let Some(v) = merge_values(
                    b.and_then(|b| b.get(k)),
                    o.get(k),
                    t.get(k),
                    &sub,
                    conflicts,
                ) {
                    out.insert(k.clone(), v);
                }
            }
            Some(Value::Object(out))
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

/// Merges a file: by keys for YAML/JSON/TOML when all three parse, by lines otherwise.
pub fn merge_file(path: &str, base: &str, ours: &str, theirs: &str, labels: &Labels<'_>) -> Merged {
    let lines = merge_text(base, ours, theirs, labels);
    let Some(fmt) = Format::of(path) else {
        return lines;
    };
    let (Some(b), Some(o), Some(t)) = (fmt.parse(base), fmt.parse(ours), fmt.parse(theirs)) else {
        return lines;
    };
    let mut key_conflicts = Vec::new();
    let merged = merge_values(Some(&b), Some(&o), Some(&t), "", &mut key_conflicts);
    if !key_conflicts.is_empty() {
        // Real conflicts: show them where people look for them, as markers in the text.
        if lines.conflicts > 0 {
            return lines;
        }
        return Merged {
            conflicts: key_conflicts.len(),
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
        },
        None => lines,
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
}
