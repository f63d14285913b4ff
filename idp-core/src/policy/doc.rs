//! A parsed document as the guardrails read it: the value tree of a YAML, JSON or HCL file,
//! whose strings and keys borrow from the file's text where they can. Building `serde_json`
//! values (a string per key and scalar, a hashed index per mapping) was most of the time the
//! guardrails took on a golden path's change set; this tree allocates once per mapping and
//! sequence, and only the parts a Rego policy reads become Rego input.

use std::borrow::Cow;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Number, Value};

/// One node of a document. A mapping keeps its entries in the file's order, without
/// duplicate keys (the readers refuse them, as serde_norway does).
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Seq(Vec<Node<'a>>),
    Map(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl<'a> Node<'a> {
    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The node at a path of keys (`["spec", "parameters"]`).
    pub fn at(&self, path: &[&str]) -> Option<&Node<'a>> {
        path.iter().try_fold(self, |n, k| n.get(k))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Node::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Cow<'a, str>, Node<'a>)]> {
        match self {
            Node::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    /// The same document as a `serde_json` value.
    pub fn to_json(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::String(s) => Value::String(s.to_string()),
            Node::Seq(a) => Value::Array(a.iter().map(Node::to_json).collect()),
            Node::Map(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// The same document as Rego input: the value regorus makes of its JSON.
    pub fn to_rego(&self) -> regorus::Value {
        match self {
            Node::Null => regorus::Value::Null,
            Node::Bool(b) => regorus::Value::Bool(*b),
            Node::Number(n) => {
                if let Some(u) = n.as_u64() {
                    regorus::Value::from(u)
                } else if let Some(i) = n.as_i64() {
                    regorus::Value::from(i)
                } else {
                    // Finite: the readers refuse the others, as JSON has none.
                    regorus::Value::from(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Node::String(s) => regorus::Value::from(s.as_ref()),
            Node::Seq(a) => regorus::Value::from(a.iter().map(Node::to_rego).collect::<Vec<_>>()),
            Node::Map(m) => regorus::Value::from(
                m.iter()
                    .map(|(k, v)| (regorus::Value::from(k.as_ref()), v.to_rego()))
                    .collect::<std::collections::BTreeMap<_, _>>(),
            ),
        }
    }

    /// A `serde_json` value as a node, borrowing its strings.
    pub fn from_json(v: &'a Value) -> Node<'a> {
        match v {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Number(n.clone()),
            Value::String(s) => Node::String(Cow::Borrowed(s)),
            Value::Array(a) => Node::Seq(a.iter().map(Node::from_json).collect()),
            Value::Object(m) => Node::Map(
                m.iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Node::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// Serialized exactly as the same `serde_json` value is (the entries in order).
impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Number(n) => n.serialize(s),
            Node::String(v) => s.serialize_str(v),
            Node::Seq(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Node::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k.as_ref(), v)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_reads_writes_and_converts_as_its_json_value() {
        let v = serde_json::json!({
            "kind": "Deployment",
            "spec": {"replicas": 2, "ratio": 0.5, "on": true, "none": null,
                     "items": ["a", {"b": -1}]},
        });
        let n = Node::from_json(&v);
        assert_eq!(n.to_json(), v);
        assert_eq!(serde_json::to_string(&n).unwrap(), v.to_string());
        assert_eq!(n.get("kind").and_then(Node::as_str), Some("Deployment"));
        assert_eq!(n.at(&["spec", "on"]).and_then(Node::as_bool), Some(true));
        assert!(n.at(&["spec", "none"]).is_some_and(Node::is_null));
        assert!(n.at(&["spec", "missing"]).is_none());
        assert!(n.at(&["kind", "x"]).is_none());
        assert_eq!(
            n.get("spec").and_then(Node::as_map).map(<[_]>::len),
            Some(5)
        );
        // Rego reads the same input as from the JSON text.
        let big = serde_json::json!({"u": u64::MAX, "i": i64::MIN, "f": -0.25, "z": 0, "v": v});
        assert_eq!(
            Node::from_json(&big).to_rego(),
            regorus::Value::from_json_str(&big.to_string()).unwrap()
        );
    }

    fn json(depth: u32) -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<u64>().prop_map(|u| Value::Number(u.into())),
            any::<i64>().prop_map(|i| Value::Number(i.into())),
            (-1.0e9f64..1.0e9).prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
            "[ -~]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(depth, 40, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-d]{1,3}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// A node converts, serializes and becomes Rego input exactly as its JSON value does.
        #[test]
        fn a_node_is_its_json_value_for_every_reader(v in json(3)) {
            let n = Node::from_json(&v);
            proptest::prop_assert_eq!(n.to_json(), v.clone());
            proptest::prop_assert_eq!(serde_json::to_string(&n).unwrap(), v.to_string());
            use serde::Deserialize;
            proptest::prop_assert_eq!(n.to_rego(), regorus::Value::deserialize(&v).unwrap());
        }
    }
}
