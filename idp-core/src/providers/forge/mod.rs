//! Source control on a real forge over HTTPS (feature `github`): repositories created in an
//! organization, each step's commit on its own branch, a pull request per change request, merged
//! when `auto_merge` allows and the forge permits.

mod github;
pub mod http;

pub use github::GitHub;

use crate::config::{ForgeConfig, MergeMethod};
use crate::error::{Error, Result};

/// The hidden line in a pull request's body that ties it to a change request key: how a resumed
/// or repeated run finds its pull request instead of opening another.
pub(crate) fn key_marker(key: &str) -> String {
    format!("<!-- idp-change-request-key: {key} -->")
}

/// Every key whose marker `body` carries.
pub(crate) fn keys_in(body: &str) -> Vec<String> {
    body.lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("<!-- idp-change-request-key: ")?
                .strip_suffix(" -->")
                .map(str::to_string)
        })
        .collect()
}

/// Whether `body` carries `key`'s marker.
pub(crate) fn has_key(body: &str, key: &str) -> bool {
    keys_in(body).iter().any(|k| k == key)
}

/// The web address the API serves: `https://api.github.com` → `https://github.com`,
/// `https://ghe.example/api/v3` → `https://ghe.example`.
pub(crate) fn web_url(cfg: &ForgeConfig) -> String {
    if let Some(w) = &cfg.web_url {
        return w.trim_end_matches('/').to_string();
    }
    let api = cfg.api_url.trim_end_matches('/');
    if let Some(rest) = api.strip_prefix("https://api.github.com") {
        return format!("https://github.com{rest}");
    }
    for suffix in ["/api/v3", "/api/v4", "/api/v1"] {
        if let Some(w) = api.strip_suffix(suffix) {
            return w.to_string();
        }
    }
    api.to_string()
}

impl MergeMethod {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MergeMethod::Merge => "merge",
            MergeMethod::Squash => "squash",
            MergeMethod::Rebase => "rebase",
        }
    }
}

/// A repository name idp may put in a URL: the forge's own rules (letters, digits, `-`, `_`,
/// `.`), so nothing in a name can reach another path of the API.
pub(crate) fn check_repo_name(repo: &str) -> Result<()> {
    let ok = !repo.is_empty()
        && repo.len() <= 100
        && repo != "."
        && repo != ".."
        && repo
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "`{repo}` is not a repository name a forge accepts (letters, digits, -, _ and .)"
        )))
    }
}
