//! Helpers the integration tests share (each test file uses some of them).
#![allow(dead_code)]

use idp_core::blocking::Platform;

/// A file on the default branch of `repo`, through the platform's source control.
pub fn read(p: &Platform, repo: &str, path: &str) -> Option<String> {
    p.block_on(
        p.source_control()
            .read_files(repo, None, &[path.to_string()]),
    )
    .unwrap()
    .unwrap()[0]
        .clone()
        .map(|b| String::from_utf8(b).unwrap())
}

/// The request field a typed error names (`field` in its context).
pub fn field_of(e: &idp_core::Error) -> String {
    e.context_value("field").unwrap_or_default().to_string()
}

/// Takes the release lock off a built-in golden path version copied into `dir` (by `init`), as
/// a platform team does while it develops a version: tests that edit a released version's
/// files to make mistakes on purpose start here.
pub fn unfreeze(dir: &std::path::Path, version: &str) {
    std::fs::remove_file(dir.join(format!(
        "golden-paths/python-fastapi-service/{version}/release.lock"
    )))
    .unwrap();
}
