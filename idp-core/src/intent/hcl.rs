//! HCL in and out. In: a `.tf` file as the JSON value of its body, for guardrails and Rego (as
//! conftest sees it). Out: the module blocks idp writes, formatted the way `terraform fmt`
//! formats them (two-space indent; `=` aligned across consecutive single-line attributes, the
//! alignment broken by blank lines, blocks and multi-line values), so a fmt check changes
//! nothing.

use serde_json::Value;

use crate::error::{Error, Result};

/// Parses HCL text into JSON (`module "x" { ... }` becomes `{"module": {"x": {...}}}`).
pub fn hcl_to_json(path: &str, text: &str) -> Result<Value> {
    hcl::from_str::<Value>(text)
        .map_err(|e| Error::invalid(format!("{path} is not valid HCL: {e}")).with("file", path))
}

/// An attribute value: a literal, or a raw expression such as `module.x.y`.
#[derive(Debug, Clone)]
pub enum Hcl {
    Lit(Value),
    Expr(String),
}

/// A block: `type "label" { attributes }`; `None` separates attribute groups with a blank line.
#[derive(Debug, Clone)]
pub struct Block {
    pub kind: String,
    pub labels: Vec<String>,
    pub body: Vec<Option<(String, Hcl)>>,
}

/// An HCL identifier: a letter or `_`, then letters, digits, `_` or `-`.
pub(crate) fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic() || f == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
}

/// A quoted HCL string: escapes quotes, backslashes, control characters, and the template
/// sequences `${` and `%{` (so a value can never become an expression).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An attribute name (`depth` 1: in a block's body) or an object key (deeper). An object key
/// that reads as a literal (`true`, `false`, `null`) is quoted, or it would be that literal.
fn key(k: &str, depth: usize) -> String {
    let literal = depth > 1 && matches!(k, "true" | "false" | "null");
    if is_ident(k) && !literal {
        k.to_string()
    } else {
        quote(k)
    }
}

/// A value that fits on one line, or `None` for a non-empty object (or a list holding one).
fn single_line(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some("null".into()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(quote(s)),
        Value::Array(a) => {
            let items: Option<Vec<String>> = a.iter().map(single_line).collect();
            items.map(|i| format!("[{}]", i.join(", ")))
        }
        Value::Object(m) if m.is_empty() => Some("{}".into()),
        Value::Object(_) => None,
    }
}

/// Writes a value that spans lines, after `key = ` at `depth`: an object as a block of
/// attributes, a list (of objects, say) with one item per line, as `terraform fmt` lays them out.
fn write_multiline(out: &mut String, depth: usize, v: &Value) {
    let pad = "  ".repeat(depth);
    match v {
        Value::Object(m) => {
            out.push_str("{\n");
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let inner: Vec<Option<(String, Hcl)>> = keys
                .into_iter()
                .map(|k| Some((k.clone(), Hcl::Lit(m[k].clone()))))
                .collect();
            write_attrs(out, depth + 1, &inner);
            out.push_str(&format!("{pad}}}"));
        }
        Value::Array(items) => {
            out.push_str("[\n");
            for item in items {
                out.push_str(&format!("{pad}  "));
                match single_line(item) {
                    Some(l) => out.push_str(&l),
                    None => write_multiline(out, depth + 1, item),
                }
                out.push_str(",\n");
            }
            out.push_str(&format!("{pad}]"));
        }
        other => out.push_str(&single_line(other).unwrap_or_default()),
    }
}

/// Writes `attrs` at `depth`, aligning `=` across each run of single-line attributes.
fn write_attrs(out: &mut String, depth: usize, attrs: &[Option<(String, Hcl)>]) {
    let pad = "  ".repeat(depth);
    let mut i = 0;
    while i < attrs.len() {
        let Some((k, v)) = &attrs[i] else {
            out.push('\n');
            i += 1;
            continue;
        };
        let line = match v {
            Hcl::Expr(e) => Some(e.clone()),
            Hcl::Lit(l) => single_line(l),
        };
        match line {
            None => {
                // Only literals span lines (an object, or a list holding one).
                if let Hcl::Lit(l) = v {
                    out.push_str(&format!("{pad}{} = ", key(k, depth)));
                    write_multiline(out, depth, l);
                    out.push('\n');
                }
                i += 1;
            }
            Some(_) => {
                // A run of single-line attributes: align their `=`.
                let mut run = Vec::new();
                while let Some(Some((k, v))) = attrs.get(i) {
                    let l = match v {
                        Hcl::Expr(e) => Some(e.clone()),
                        Hcl::Lit(l) => single_line(l),
                    };
                    let Some(l) = l else { break };
                    run.push((key(k, depth), l));
                    i += 1;
                }
                let width = run
                    .iter()
                    .map(|(k, _)| k.chars().count())
                    .max()
                    .unwrap_or(0);
                for (k, l) in run {
                    let gap = width - k.chars().count();
                    out.push_str(&format!("{pad}{k}{} = {l}\n", " ".repeat(gap)));
                }
            }
        }
    }
}

/// Renders blocks (with leading comment lines), separated by blank lines.
pub fn render(comments: &[String], blocks: &[Block]) -> String {
    let mut out = String::new();
    for c in comments {
        // A comment ends at the line's end: a newline in it would start HCL of its own.
        let c: String = c
            .chars()
            .map(|ch| if ch.is_control() { ' ' } else { ch })
            .collect();
        out.push_str(&format!("# {c}\n"));
    }
    for (n, b) in blocks.iter().enumerate() {
        if n > 0 || !comments.is_empty() {
            out.push('\n');
        }
        let labels: Vec<String> = b.labels.iter().map(|l| quote(l)).collect();
        out.push_str(&format!("{} {} {{\n", b.kind, labels.join(" ")));
        write_attrs(&mut out, 1, &b.body);
        out.push_str("}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_objects_renders_and_parses_back() {
        // Found by the `hcl` fuzz target: this panicked ("only objects span lines").
        let v = serde_json::json!([{"port": 443, "cidr": "10.0.0.0/8"}, "x", [{"a": {"b": null}}]]);
        // Also found by it: an object key `true` was written bare and read back as a boolean.
        let v = serde_json::json!({"list": v, "nested": {"true": 1, "null": {"false": "x"}}});
        let text = render(
            &[],
            &[Block {
                kind: "module".into(),
                labels: vec!["m".into()],
                body: vec![Some(("rules".into(), Hcl::Lit(v.clone())))],
            }],
        );
        let back = hcl_to_json("t.tf", &text).unwrap();
        assert_eq!(back["module"]["m"]["rules"], v, "{text}");
    }
    use serde_json::json;

    #[test]
    fn attributes_align_like_terraform_fmt_and_objects_break_the_run() {
        let b = Block {
            kind: "module".into(),
            labels: vec!["bucket_logs".into()],
            body: vec![
                Some(("source".into(), Hcl::Lit(json!("acme/s3/aws")))),
                Some(("version".into(), Hcl::Lit(json!("1.0.0")))),
                None,
                Some(("bucket_name".into(), Hcl::Lit(json!("x")))),
                Some((
                    "encryption".into(),
                    Hcl::Lit(json!({"sse_algorithm": "aws:kms", "enabled": true})),
                )),
                Some(("force_destroy".into(), Hcl::Lit(json!(false)))),
                Some((
                    "tags".into(),
                    Hcl::Lit(json!({"cost-center": "cc-1", "team": "t"})),
                )),
            ],
        };
        let text = render(&["Managed by idp".into()], &[b]);
        let want = "# Managed by idp\n\nmodule \"bucket_logs\" {\n  source  = \"acme/s3/aws\"\n  version = \"1.0.0\"\n\n  bucket_name = \"x\"\n  encryption = {\n    enabled       = true\n    sse_algorithm = \"aws:kms\"\n  }\n  force_destroy = false\n  tags = {\n    cost-center = \"cc-1\"\n    team        = \"t\"\n  }\n}\n";
        assert_eq!(text, want);
        // It parses back to the same data.
        let v = hcl_to_json("x.tf", &text).unwrap();
        assert_eq!(v["module"]["bucket_logs"]["tags"]["cost-center"], "cc-1");
        assert_eq!(v["module"]["bucket_logs"]["encryption"]["enabled"], true);
    }

    #[test]
    fn strings_cannot_become_expressions() {
        assert_eq!(quote("a ${b} %{c} \"d\"\n"), r#""a $${b} %%{c} \"d\"\n""#);
        let v = hcl_to_json("x.tf", &format!("a = {}\n", quote("${var.x}"))).unwrap();
        assert_eq!(v["a"], "${var.x}");
    }
}
