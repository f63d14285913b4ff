//! Names, labels and tags: one place that decides what a service, namespace or cloud resource is
//! called and which labels every generated object carries.

/// True when `s` is a DNS-1123 label: 1-63 lowercase alphanumerics or '-', starting and ending
/// with an alphanumeric.
pub fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// Compiles an org naming pattern (a regular expression).
pub fn compile_pattern(p: &str) -> std::result::Result<regex::Regex, regex::Error> {
    regex::Regex::new(p)
}

const PLACEHOLDERS: [&str; 6] = ["org", "team", "service", "env", "type", "id"];

/// Placeholders a namespace pattern may use (a namespace has no resource type or id).
pub const NAMESPACE_PLACEHOLDERS: [&str; 4] = ["org", "team", "service", "env"];

/// Checks that a `{placeholder}` pattern only uses known placeholders.
pub fn check_placeholders(pattern: &str) -> std::result::Result<(), String> {
    check_placeholders_in(pattern, &PLACEHOLDERS)
}

/// Checks that a `{placeholder}` pattern only uses the placeholders in `known`.
pub fn check_placeholders_in(pattern: &str, known: &[&str]) -> std::result::Result<(), String> {
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            return Err(format!("unclosed `{{` in `{pattern}`"));
        };
        let name = &rest[start + 1..start + end];
        if !known.contains(&name) {
            return Err(format!(
                "unknown placeholder `{{{name}}}` in `{pattern}`; known: {}",
                known
                    .iter()
                    .map(|p| format!("{{{p}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        rest = &rest[start + end + 1..];
    }
    Ok(())
}

/// Fills `{placeholder}`s of a naming pattern. Unknown placeholders were rejected at load.
pub fn fill(pattern: &str, values: &[(&str, &str)]) -> String {
    let mut out = pattern.to_string();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// A value as shown in an error: quoted, control characters escaped, cut at 80 characters, so an
/// error never echoes a huge or multi-line input.
pub fn shown(value: &str) -> String {
    let mut s: String = value.chars().take(80).collect();
    if value.chars().count() > 80 {
        s.push('…');
    }
    format!("{s:?}")
}

/// The Python package name of a service (`payments-api` -> `payments_api`).
pub fn python_module(service: &str) -> String {
    let m = service.replace('-', "_");
    if m.starts_with(|c: char| c.is_ascii_digit()) {
        format!("svc_{m}")
    } else {
        m
    }
}

/// Shortens a DNS name to `max` characters, keeping it unique with a short hash suffix.
pub fn truncate_dns(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let hash = crate::digest::sha256_hex(name.as_bytes());
    let keep = max.saturating_sub(9);
    let head = name[..keep].trim_end_matches('-');
    format!("{head}-{}", &hash[..8])
}

/// True when `s` is a Kubernetes label value: empty, or at most 63 of `[A-Za-z0-9._-]`
/// starting and ending with a letter or digit.
pub fn is_label_value(s: &str) -> bool {
    s.is_empty()
        || (s.len() <= 63
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && s.as_bytes()[0].is_ascii_alphanumeric()
            && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric())
}

/// True when `s` is a Kubernetes label key: `[prefix/]name`, where the name is a non-empty label
/// value and the prefix a DNS subdomain of at most 253 characters.
pub fn is_label_key(s: &str) -> bool {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    !name.is_empty()
        && is_label_value(name)
        && prefix
            .is_none_or(|p| !p.is_empty() && p.len() <= 253 && p.split('.').all(is_dns1123_label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns1123_rejects_traversal_uppercase_and_edges() {
        for bad in [
            "",
            "../../etc",
            "Payments",
            "-a",
            "a-",
            "a_b",
            "a.b",
            &"a".repeat(64),
        ] {
            assert!(!is_dns1123_label(bad), "{bad} accepted");
        }
        for good in ["a", "payments-api", "a1", &"a".repeat(63)] {
            assert!(is_dns1123_label(good), "{good} rejected");
        }
    }

    #[test]
    fn placeholders_are_checked_and_filled() {
        assert!(check_placeholders("{team}-{env}").is_ok());
        assert!(check_placeholders("{team}-{nope}").is_err());
        assert!(check_placeholders("{team").is_err());
        assert_eq!(
            fill("{team}-{env}", &[("team", "t"), ("env", "dev")]),
            "t-dev"
        );
    }

    #[test]
    fn long_names_are_cut_with_a_stable_suffix() {
        let long = "x".repeat(80);
        let a = truncate_dns(&long, 63);
        assert!(a.len() <= 63);
        assert_eq!(a, truncate_dns(&long, 63));
        assert_ne!(a, truncate_dns(&"y".repeat(80), 63));
    }

    #[test]
    fn shown_values_are_short_and_single_line() {
        let s = shown(&format!("a\nb{}", "c".repeat(200)));
        assert!(!s.contains('\n'));
        assert!(s.chars().count() < 90);
    }
}
