//! Semantic versions of golden paths (`X.Y.Z`), ordered numerically.

use std::fmt;

/// A `major.minor.patch` version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    /// Parses `1.2.3`; anything else is `None`.
    pub fn parse(s: &str) -> Option<Version> {
        let mut it = s.split('.');
        let mut next = || -> Option<u64> {
            let p = it.next()?;
            if p.is_empty() || p.len() > 9 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()
        };
        let v = Version {
            major: next()?,
            minor: next()?,
            patch: next()?,
        };
        if it.next().is_some() { None } else { Some(v) }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::Version;

    #[test]
    fn versions_order_numerically_not_lexically() {
        assert!(Version::parse("1.10.0").unwrap() > Version::parse("1.9.3").unwrap());
        assert_eq!(Version::parse("2.0.0").unwrap().to_string(), "2.0.0");
        for bad in ["1", "1.2", "1.2.3.4", "v1.2.3", "1.-2.3", "1..3"] {
            assert!(Version::parse(bad).is_none(), "{bad}");
        }
    }
}
