//! The HCL renderer on any values: what it writes always parses, every literal comes back as
//! it went in (so a value can never turn into an expression or a new block), and comments stay
//! comments.
#![no_main]
use arbitrary::Unstructured;
use idp_core::intent::{Block, Hcl, hcl_to_json, render_hcl};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fn value(u: &mut Unstructured<'_>, depth: u32) -> arbitrary::Result<Value> {
    let kind = if depth == 0 {
        u.int_in_range(0..=3)?
    } else {
        u.int_in_range(0..=5)?
    };
    Ok(match kind {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<i64>()?),
        3 => Value::String(u.arbitrary()?),
        4 => Value::Array(
            (0..u.int_in_range(0..=3)?)
                .map(|_| value(u, depth - 1))
                .collect::<arbitrary::Result<_>>()?,
        ),
        _ => {
            let mut m = Map::new();
            for _ in 0..u.int_in_range(0..=3)? {
                m.insert(u.arbitrary()?, value(u, depth - 1)?);
            }
            Value::Object(m)
        }
    })
}

/// An HCL identifier from arbitrary bytes (attribute names are identifiers: the catalog checks
/// them at load).
fn ident(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    const FIRST: &[u8] = b"abcdefghijklmnopqrstuvwxyz_";
    const REST: &[u8] = b"abcdefghijklmnopqrstuvwxyz_-0123456789";
    let mut s = String::from(*u.choose(FIRST)? as char);
    for _ in 0..u.int_in_range(0..=8)? {
        s.push(*u.choose(REST)? as char);
    }
    Ok(s)
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(comment) = u.arbitrary::<String>() else {
        return;
    };
    let Ok(label) = u.arbitrary::<String>() else {
        return;
    };
    let mut attrs = Vec::new();
    let mut body = Vec::new();
    for _ in 0..u.int_in_range(1..=4).unwrap_or(1) {
        let (Ok(k), Ok(v)) = (ident(&mut u), value(&mut u, 3)) else {
            return;
        };
        if attrs.iter().any(|(x, _): &(String, Value)| *x == k) {
            continue;
        }
        body.push(Some((k.clone(), Hcl::Lit(v.clone()))));
        attrs.push((k, v));
    }
    let text = render_hcl(
        &[comment],
        &[Block {
            kind: "module".into(),
            labels: vec![label.clone()],
            body,
        }],
    );
    let parsed = hcl_to_json("fuzz.tf", &text)
        .unwrap_or_else(|e| panic!("rendered HCL does not parse: {e}\n{text}"));
    let module = &parsed["module"];
    let obj = module.as_object().expect("one module block");
    assert_eq!(obj.len(), 1, "{text}");
    let got = &obj[&label];
    for (k, v) in &attrs {
        assert_eq!(&got[k], v, "attribute {k} changed:\n{text}");
    }
});
