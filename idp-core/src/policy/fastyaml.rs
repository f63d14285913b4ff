//! A fast reader for the block-style YAML that templates generate (Kubernetes manifests,
//! workflows, dashboards in ConfigMaps), for the guardrails' hot path: parsing a golden path's
//! change set with serde_norway took longer than every rule together.
//!
//! It reads a strict subset: block mappings and sequences indented with spaces, plain scalars
//! on one line, quoted scalars on one line, literal block scalars (`|`, `|-`), `[]`, `{}` and
//! flow sequences of scalars, comments and `---` between documents. Anything else (anchors,
//! tags, folded or multi-line scalars, tabs, complex keys, duplicate keys, numbers in forms it
//! does not resolve itself...) makes it answer `None`, and the caller parses the file with
//! serde_norway. Where it answers, the values are serde_norway's: plain scalars resolve by the
//! same rules (null, bool, int, float, else string), and a differential test holds the two
//! readers together.

use std::borrow::Cow;

use serde_json::Number;

use super::doc::Node;

/// Every document of `text` that holds something, or `None` when `text` leaves the subset.
pub fn parse(text: &str) -> Option<Vec<Node<'_>>> {
    if !printable(text) {
        return None;
    }
    let lines = lines(text);
    // Each line's indentation, measured once: the reader asks for it several times per line.
    let indents: Vec<usize> = lines.iter().map(|l| indent(l)).collect();
    let mut docs = Vec::new();
    let mut start = 0;
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with("---") || l.starts_with("...") || l.starts_with('%') {
            if *l != "---" {
                return None;
            }
            docs.extend(document(&lines[start..i], &indents[start..i])?);
            start = i + 1;
        }
    }
    docs.extend(document(&lines[start..], &indents[start..])?);
    Some(docs)
}

/// `text` split at `\n` (a per-line character search costs more than the whole read).
fn lines(text: &str) -> Vec<&str> {
    let mut out = Vec::with_capacity(text.len() / 24 + 1);
    let mut from = 0;
    for nl in memchr::memchr_iter(b'\n', text.as_bytes()) {
        out.push(&text[from..nl]);
        from = nl + 1;
    }
    out.push(&text[from..]);
    out
}

/// Only characters YAML allows in a stream (libyaml's reader refuses the others), and no tab,
/// carriage return or byte order mark, which this reader leaves to serde_norway.
fn printable(text: &str) -> bool {
    // Without an early exit inside a chunk, so that the compiler checks many bytes at once.
    let plain_ascii = |chunk: &[u8]| {
        chunk.iter().fold(true, |ok, &b| {
            ok & ((b == b'\n') | (0x20..=0x7e).contains(&b))
        })
    };
    if text.as_bytes().chunks(64).all(plain_ascii) {
        return true;
    }
    text.chars().all(|c| {
        matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
            && c != '\u{feff}'
    })
}

/// One document: `Some(None)` when it holds nothing but comments.
fn document<'a>(lines: &[&'a str], indents: &[usize]) -> Option<Option<Node<'a>>> {
    let mut p = Reader {
        lines,
        indents,
        i: 0,
        depth: 0,
    };
    p.skip();
    if p.i == lines.len() {
        return Some(None);
    }
    if indents[p.i] != 0 {
        return None;
    }
    let v = p.node(0)?;
    p.skip();
    (p.i == lines.len()).then_some(Some(v))
}

fn indent(l: &str) -> usize {
    l.len() - l.trim_start_matches(' ').len()
}

fn is_item(t: &str) -> bool {
    t == "-" || t.starts_with("- ")
}

struct Reader<'a, 'b> {
    lines: &'b [&'a str],
    /// The indentation of each line.
    indents: &'b [usize],
    i: usize,
    /// Nesting so far: deeper than serde_norway's limit, the reader leaves the file to it.
    depth: usize,
}

/// serde_norway's recursion limit.
const MAX_DEPTH: usize = 128;

impl<'a> Reader<'a, '_> {
    /// Line `i` is blank or only a comment.
    fn insignificant(&self, i: usize) -> bool {
        let (l, n) = (self.lines[i], self.indents[i]);
        n == l.len() || l.as_bytes()[n] == b'#'
    }

    fn skip(&mut self) {
        while self.i < self.lines.len() && self.insignificant(self.i) {
            self.i += 1;
        }
    }

    /// The next significant line's indentation, if any.
    fn peek_indent(&mut self) -> Option<usize> {
        self.skip();
        self.indents.get(self.i).copied()
    }

    /// A block node starting at the next significant line, at indentation `ind`.
    fn node(&mut self, ind: usize) -> Option<Node<'a>> {
        self.skip();
        let l = self.lines[self.i];
        let t = &l[ind..];
        if is_item(t) {
            self.nested(|r| r.seq(ind))
        } else {
            self.nested(|r| r.map(ind, None))
        }
    }

    /// `read` one level deeper; beyond serde_norway's limit, the file is left to it.
    fn nested(&mut self, read: impl FnOnce(&mut Self) -> Option<Node<'a>>) -> Option<Node<'a>> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let v = read(self);
        self.depth -= 1;
        v
    }

    /// A block sequence whose `- ` sit at column `ind`.
    fn seq(&mut self, ind: usize) -> Option<Node<'a>> {
        let mut out = Vec::new();
        while self.peek_indent() == Some(ind) {
            let l = self.lines[self.i];
            let t = &l[ind..];
            if !is_item(t) {
                break;
            }
            let item = t[1..].trim_start_matches(' ');
            let col = l.len() - item.len();
            self.i += 1;
            let v = if item.is_empty() || item.starts_with('#') {
                match self.peek_indent() {
                    Some(n) if n > ind => self.node(n)?,
                    _ => Node::Null,
                }
            } else if is_item(item) {
                return None;
            } else if split_key(item)?.is_some() {
                self.nested(|r| r.map(col, Some(item)))?
            } else {
                self.scalar(item, ind)?
            };
            out.push(v);
        }
        match self.peek_indent() {
            Some(n) if n > ind => None,
            _ => Some(Node::Seq(out)),
        }
    }

    /// A block mapping whose keys sit at column `ind`; `first` is its first entry when it
    /// starts on a sequence item's line.
    fn map(&mut self, ind: usize, first: Option<&'a str>) -> Option<Node<'a>> {
        let mut out: Vec<(Cow<'a, str>, Node<'a>)> = Vec::new();
        let mut pending = first;
        loop {
            let text = match pending.take() {
                Some(t) => t,
                None => {
                    if self.peek_indent() != Some(ind) {
                        break;
                    }
                    let t = &self.lines[self.i][ind..];
                    if is_item(t) {
                        break;
                    }
                    self.i += 1;
                    t
                }
            };
            let (key, rest) = split_key(text)??;
            let v = if rest.is_empty() || rest.starts_with('#') {
                match self.peek_indent() {
                    Some(n) if n > ind => self.node(n)?,
                    Some(n) if n == ind && is_item(&self.lines[self.i][ind..]) => self.seq(ind)?,
                    _ => Node::Null,
                }
            } else {
                self.scalar(rest, ind)?
            };
            out.push((key, v));
        }
        match self.peek_indent() {
            // Deeper than its keys, or a `- ` beside them: not a mapping this reader knows.
            Some(n) if n >= ind => None,
            // A duplicate key (serde_norway refuses it).
            _ => (!has_duplicate(&out)).then_some(Node::Map(out)),
        }
    }

    /// An inline value (after `key: ` or `- `) of a node at column `ind`.
    fn scalar(&mut self, rest: &'a str, ind: usize) -> Option<Node<'a>> {
        let v = match rest.as_bytes()[0] {
            b'|' => return self.literal(rest, ind),
            b'"' => {
                let (s, after) = double_quoted(rest)?;
                end_of_line(after)?;
                Node::String(s)
            }
            b'\'' => {
                let (s, after) = single_quoted(rest)?;
                end_of_line(after)?;
                Node::String(s)
            }
            b'[' | b'{' => flow(rest)?,
            b'>' | b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b']' | b'}' | b',' | b'?' | b'#' => {
                return None;
            }
            _ => {
                let s = match comment_at(rest) {
                    Some(c) => &rest[..c],
                    None => rest,
                }
                .trim_end_matches(' ');
                if has_pair(s, b": ") || s.ends_with(':') || is_item(s) {
                    return None;
                }
                plain(s)?
            }
        };
        // A plain or quoted scalar that goes on over the next lines is not in the subset.
        match self.peek_indent() {
            Some(n) if n > ind => None,
            _ => Some(v),
        }
    }

    /// A literal block scalar (`|` or `|-`) under a node at column `ind`.
    fn literal(&mut self, header: &str, ind: usize) -> Option<Node<'a>> {
        let strip = match end_of_line(&header[1..]) {
            Some(()) => false,
            None if header[1..].starts_with('-') => {
                end_of_line(&header[2..])?;
                true
            }
            None => return None,
        };
        let first = *self.lines.get(self.i)?;
        let m = self.indents[self.i];
        if m == first.len() || m <= ind {
            return None;
        }
        let mut body: Vec<&str> = Vec::new();
        while let Some(l) = self.lines.get(self.i) {
            let n = self.indents[self.i];
            if n == l.len() {
                if l.len() > m {
                    return None;
                }
                body.push("");
            } else if n >= m {
                body.push(&l[m..]);
            } else {
                break;
            }
            self.i += 1;
        }
        while body.last() == Some(&"") {
            body.pop();
        }
        let mut s = body.join("\n");
        if !strip {
            s.push('\n');
        }
        Some(Node::String(Cow::Owned(s)))
    }
}

/// Whether `s` holds the two bytes `pair` side by side (scalars are short: a plain loop beats
/// setting up a substring search).
fn has_pair(s: &str, pair: &[u8; 2]) -> bool {
    s.as_bytes().windows(2).any(|w| w == pair)
}

/// Whether two entries of a mapping have the same key.
fn has_duplicate(entries: &[(Cow<'_, str>, Node<'_>)]) -> bool {
    if entries.len() <= 16 {
        return (1..entries.len()).any(|i| entries[..i].iter().any(|(k, _)| *k == entries[i].0));
    }
    let mut seen = std::collections::HashSet::with_capacity(entries.len());
    !entries.iter().all(|(k, _)| seen.insert(k.as_ref()))
}

/// Where ` #` (a comment after a plain scalar) starts in `text`.
fn comment_at(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    (1..b.len())
        .find(|&i| b[i] == b'#' && b[i - 1] == b' ')
        .map(|i| i - 1)
}

/// After a scalar: nothing, or a comment.
fn end_of_line(after: &str) -> Option<()> {
    let t = after.trim_start_matches(' ');
    (t.is_empty() || (t.starts_with('#') && t.len() < after.len())).then_some(())
}

/// `key: rest` -> `Some(Some((key, rest)))`; a scalar that is no entry -> `Some(None)`;
/// outside the subset -> `None`.
fn split_key(text: &str) -> Option<Option<(Cow<'_, str>, &str)>> {
    let (key, after) = match text.as_bytes()[0] {
        b'"' => {
            let (k, after) = double_quoted(text)?;
            (k, after)
        }
        b'\'' => {
            let (k, after) = single_quoted(text)?;
            (k, after)
        }
        _ => {
            let b = text.as_bytes();
            let colon =
                (0..b.len()).find(|&c| b[c] == b':' && matches!(b.get(c + 1), None | Some(b' ')));
            let Some(c) = colon else {
                return Some(None);
            };
            let k = &text[..c];
            if comment_at(k).is_some() || k.ends_with(' ') || k.is_empty() {
                return None;
            }
            if matches!(
                k.as_bytes()[0],
                b'-' | b'?'
                    | b':'
                    | b','
                    | b'['
                    | b']'
                    | b'{'
                    | b'}'
                    | b'#'
                    | b'&'
                    | b'*'
                    | b'!'
                    | b'|'
                    | b'>'
                    | b'%'
                    | b'@'
                    | b'`'
            ) {
                return None;
            }
            // A key must read as a string (not `1`, `true` or `null`).
            match plain(k)? {
                Node::String(s) => (s, &text[c..]),
                _ => return None,
            }
        }
    };
    let Some(rest) = after.strip_prefix(':') else {
        // A quoted scalar that is no key.
        return if end_of_line(after).is_some() {
            Some(None)
        } else {
            None
        };
    };
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some(Some((key, rest.trim_start_matches(' '))))
}

/// `"..."` at the start of `text`: the string and what follows the closing quote.
fn double_quoted(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let body = &text[1..];
    // Most strings have no escape: one search and one copy.
    if let Some(end) = memchr::memchr2(b'"', b'\\', body.as_bytes())
        && body.as_bytes()[end] == b'"'
    {
        return Some((Cow::Borrowed(&body[..end]), &body[end + 1..]));
    }
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((Cow::Owned(out), &text[i + 2..])),
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    '/' => out.push('/'),
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'u' => {
                        let mut code = 0u32;
                        for _ in 0..4 {
                            code = code * 16 + chars.next()?.1.to_digit(16)?;
                        }
                        out.push(char::from_u32(code)?);
                    }
                    _ => return None,
                }
            }
            _ => out.push(c),
        }
    }
    None
}

/// `'...'` at the start of `text` (`''` is a quote).
fn single_quoted(text: &str) -> Option<(Cow<'_, str>, &str)> {
    // Most strings hold no quote: borrowed.
    if let Some(end) = memchr::memchr(b'\'', &text.as_bytes()[1..])
        && text.as_bytes().get(end + 2) != Some(&b'\'')
    {
        return Some((Cow::Borrowed(&text[1..end + 1]), &text[end + 2..]));
    }
    let mut out = String::new();
    let b = text.as_bytes();
    let mut i = 1;
    let mut from = 1;
    while i < b.len() {
        if b[i] == b'\'' {
            out.push_str(&text[from..i]);
            if b.get(i + 1) == Some(&b'\'') {
                out.push('\'');
                i += 2;
                from = i;
                continue;
            }
            return Some((Cow::Owned(out), &text[i + 1..]));
        }
        i += 1;
    }
    None
}

/// `[]`, `{}`, or a flow sequence of scalars such as `[a, "b", 1]`.
fn flow(text: &str) -> Option<Node<'_>> {
    if let Some(after) = text.strip_prefix("{}") {
        end_of_line(after)?;
        return Some(Node::Map(Vec::new()));
    }
    let close = text.find(']')?;
    end_of_line(&text[close + 1..])?;
    let inner = text[1..close].trim_matches(' ');
    let mut out = Vec::new();
    if inner.is_empty() {
        return Some(Node::Seq(out));
    }
    for item in inner.split(',') {
        let item = item.trim_matches(' ');
        if item.is_empty() {
            return None;
        }
        out.push(match item.as_bytes()[0] {
            b'"' => {
                let (s, after) = double_quoted(item)?;
                if !after.is_empty() {
                    return None;
                }
                Node::String(s)
            }
            b'\'' => {
                let (s, after) = single_quoted(item)?;
                if !after.is_empty() {
                    return None;
                }
                Node::String(s)
            }
            _ => {
                if item.contains([
                    '[', ']', '{', '}', ':', '#', '"', '\'', '&', '*', '!', '?', '|', '>', '%',
                    '@', '`',
                ]) {
                    return None;
                }
                plain(item)?
            }
        });
    }
    Some(Node::Seq(out))
}

/// A plain scalar, resolved as serde_norway resolves it: null, bool, integer, float, else a
/// string. `None` for forms this reader leaves to serde_norway (`+1`, `0x1f`, `.inf`, integers
/// beyond 64 bits).
fn plain(s: &str) -> Option<Node<'_>> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Node::Null),
        "true" | "True" | "TRUE" => return Some(Node::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Node::Bool(false)),
        _ => {}
    }
    let b = s.as_bytes();
    let numeric_start = b[0].is_ascii_digit() || matches!(b[0], b'-' | b'+' | b'.');
    if !numeric_start {
        return Some(Node::String(Cow::Borrowed(s)));
    }
    if b[0] == b'+' || has_pair(s, b"0x") || has_pair(s, b"0o") || has_pair(s, b"0b") {
        return None;
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    if matches!(digits, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN") {
        return None;
    }
    // Leading zeros followed by digits: a string (YAML 1.2).
    if digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|c| c.is_ascii_digit()) {
        return Some(Node::String(Cow::Borrowed(s)));
    }
    if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
        return if s.starts_with('-') {
            s.parse::<i64>().ok().map(|i| Node::Number(i.into()))
        } else {
            s.parse::<u64>().ok().map(|u| Node::Number(u.into()))
        };
    }
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() => Some(Node::Number(Number::from_f64(f)?)),
        _ => Some(Node::String(Cow::Borrowed(s))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::Value;

    /// The fast reader's documents as `serde_json` values.
    fn fast(text: &str) -> Option<Vec<Value>> {
        parse(text).map(|docs| docs.iter().map(Node::to_json).collect())
    }

    /// serde_norway's documents (nulls dropped, as the guardrails drop them).
    fn reference(text: &str) -> Option<Vec<Value>> {
        let mut out = Vec::new();
        for d in serde_norway::Deserializer::from_str(text) {
            let v = Value::deserialize(d).ok()?;
            if !v.is_null() {
                out.push(v);
            }
        }
        Some(out)
    }

    /// Where the fast reader answers, it answers as serde_norway does (panics otherwise).
    fn assert_same(text: &str) {
        if let Some(docs) = fast(text) {
            assert_eq!(Some(docs), reference(text), "{text}");
        }
    }

    #[test]
    fn reads_what_templates_write() {
        let text = r#"# comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: "payments-api"   # trailing comment
  labels:
    app.kubernetes.io/name: payments-api
    'quoted': 'it''s'
spec:
  replicas: 2
  ratio: 0.5
  zero: 0
  leading: 0123
  negative: -3
  version: 2.0.0
  nothing:
  empty: ""
  flag: true
  list: []
  map: {}
  flowseq: [ALL, "x y", 3]
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/app:1.2.3
          args:
          - --port
          - "8080"
          ports:
            - containerPort: 8080
              protocol: TCP
          resources:
            limits: {}
        -
          name: sidecar
data:
  "a.json": |
    {
      "x": 1
    }

  b: |-
    one
    two
---
# only a comment
---
- a
- b: c
  d: e
"#;
        let docs = fast(text).expect("in the subset");
        assert_eq!(docs.len(), 2);
        assert_same(text);
        let d = &docs[0];
        assert_eq!(d["data"]["a.json"], "{\n  \"x\": 1\n}\n");
        assert_eq!(d["data"]["b"], "one\ntwo");
        assert_eq!(d["spec"]["leading"], "0123");
        assert_eq!(d["metadata"]["labels"]["quoted"], "it's");
    }

    #[test]
    fn every_yaml_file_of_the_golden_path_takes_the_fast_reader() {
        let ws = tempfile::tempdir().unwrap();
        let p = crate::blocking::Platform::builtin(ws.path()).unwrap();
        let mut req = crate::ServiceRequest::new("payments-api", "team-payments");
        req.intents = vec![serde_json::json!({"type": "bucket", "class": "logs"})];
        let plan = p
            .plan(&p.principal("alice"), crate::Operation::RunGoldenPath, &req)
            .unwrap();
        let mut n = 0;
        for cs in &plan.change_sets {
            for f in &cs.files {
                let (true, Some(content)) = (
                    f.path.ends_with(".yaml") || f.path.ends_with(".yml"),
                    f.content.as_ref(),
                ) else {
                    continue;
                };
                let text = std::str::from_utf8(content).unwrap();
                assert!(parse(text).is_some(), "{}: {text}", f.path);
                assert_same(text);
                n += 1;
            }
        }
        assert!(n >= 30, "{n} YAML files");
    }

    #[test]
    fn leaves_the_rest_to_serde_norway() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: >\n  folded\n",
            "a: plain\n  continued\n",
            "a: \"multi\n  line\"\n",
            "a:\n\tb: 1\n",
            "1: one\n",
            "a: 1\na: 2\n",
            "? complex\n: key\n",
            "a: 0x1f\n",
            "a: +1\n",
            "a: .inf\n",
            "a: 99999999999999999999\n",
            "a: [[nested]]\n",
            "a: {b: c}\n",
            "--- !tag\na: 1\n",
            "%YAML 1.2\n---\na: 1\n",
            "just a scalar\n",
            "a: b\u{0}c\n",
            "a: \u{7f}\n",
            "a: \u{9f}\n",
            "a: \u{feff}\n",
        ] {
            assert!(parse(text).is_none(), "{text}");
        }
    }

    #[test]
    fn deep_nesting_is_left_to_serde_norway() {
        let mut text = String::new();
        for i in 0..200 {
            text.push_str(&format!("{}k{i}:\n", " ".repeat(i)));
        }
        assert!(parse(&text).is_none());
        let mut shallow = String::new();
        for i in 0..20 {
            shallow.push_str(&format!("{}k{i}:\n", " ".repeat(i)));
        }
        assert!(parse(&shallow).is_some());
        assert_same(&shallow);
    }

    #[test]
    fn malformed_yaml_is_never_read_as_something() {
        for text in [
            "a: b: c\n",
            "a:\n  b: 1\n c: 2\n",
            "- a\nb: 1\n",
            "a: 1\n  b: 2\n",
            "a: \"unterminated\n",
            "a: [1, 2\n",
        ] {
            let read = fast(text);
            assert!(read.is_none() || reference(text).is_some(), "{text}");
            assert_same(text);
        }
    }

    proptest::proptest! {
        /// serde_norway's own output of arbitrary values reads back the same.
        #[test]
        fn agrees_with_serde_norway_on_generated_yaml(v in value(3)) {
            let text = serde_norway::to_string(&v).unwrap();
            assert_same(&text);
        }

        /// And on arbitrary text: it never reads something serde_norway reads differently.
        #[test]
        fn agrees_with_serde_norway_on_arbitrary_text(text in "[a-c0-9 :#'\"|\\-\\[\\]{}.,\n]{0,60}") {
            assert_same(&text);
        }
    }

    fn value(depth: u32) -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| Value::Number(i.into())),
            (-1.0e6f64..1.0e6).prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
            "[ -~\n]{0,20}".prop_map(Value::String),
            prop_oneof![
                Just("0123"),
                Just("1.0"),
                Just("true"),
                Just("~"),
                Just("- x"),
                Just("a: b"),
                Just("#x"),
                Just("x #y"),
                Just("250m"),
                Just("2.0.0"),
                Just(".inf"),
                Just("0x10"),
                Just("")
            ]
            .prop_map(|s| Value::String(s.to_string())),
        ];
        leaf.prop_recursive(depth, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z][a-z0-9./-]{0,8}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
