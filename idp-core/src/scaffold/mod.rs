//! Scaffolding: the stamp a golden path leaves in every repo it writes to, and (in
//! [`upgrade`](crate::scaffold)) moving a service to a newer version.

mod merge;
mod stamp;
pub mod upgrade;

pub use merge::{
    Format, Labels, MergeKeys, Merged, drift, merge_file, merge_text, merge_values, set_key,
};
pub use stamp::{STAMP_SCHEMA, Stamp, StampFile};

/// Pretty JSON with object keys sorted at every level and a trailing newline: the stable form of
/// files idp writes, whatever order maps were built in.
pub fn pretty_sorted_json(value: &serde_json::Value) -> String {
    fn sort(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    out.insert(k.clone(), sort(&m[k]));
                }
                serde_json::Value::Object(out)
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    let mut s = serde_json::to_string_pretty(&sort(value)).expect("value serializes");
    s.push('\n');
    s
}
