//! Every provider idp ships passes its trait's contract (`idp_core::testing`): the embedded
//! defaults (local git, SQLite) and the in-memory implementations for embedders' tests. A
//! third-party provider runs the same suites from its own tests.

use std::sync::Arc;

use idp_core::audit::{AuditLog, MemoryAuditLog, SqliteAuditLog};
use idp_core::providers::{LocalGit, MemorySourceControl, SourceControl};
use idp_core::state::{MemoryStateStore, SqliteStateStore, StateStore};
use idp_core::testing::{audit_log_contract, source_control_contract, state_store_contract};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_git_keeps_the_source_control_contract() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repos");
    source_control_contract(|| {
        let root = root.clone();
        async move { Arc::new(LocalGit::new(root, "main", true).unwrap()) as Arc<dyn SourceControl> }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_git_without_auto_merge_keeps_the_source_control_contract() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repos");
    source_control_contract(|| {
        let root = root.clone();
        async move { Arc::new(LocalGit::new(root, "main", false).unwrap()) as Arc<dyn SourceControl> }
    })
    .await;
}

#[tokio::test]
async fn memory_keeps_the_source_control_contract() {
    let storage = MemorySourceControl::new("main", true);
    source_control_contract(|| {
        let s = storage.clone();
        async move { Arc::new(s) as Arc<dyn SourceControl> }
    })
    .await;
}

/// A forge provider of `kind` on the test forge (real HTTP, real git underneath).
#[cfg(feature = "forges")]
fn forge_on(
    kind: &str,
    forge: &idp_testforge::Running,
    token_file: &std::path::Path,
    auto_merge: bool,
) -> Arc<dyn SourceControl> {
    let api = match kind {
        "github" => forge.github_api(),
        "gitea" => format!("{}/api/v1", forge.base_url),
        _ => format!("{}/api/v4", forge.base_url),
    };
    let cfg: idp_core::config::SourceControlConfig = serde_json::from_value(serde_json::json!({
        "kind": kind,
        "api_url": api,
        "owner": "acme",
        "token": { "file": token_file },
        "auto_merge": auto_merge,
    }))
    .unwrap();
    idp_core::providers::forge::provider(&cfg, &Default::default())
        .expect("a forge kind")
        .unwrap()
}

#[cfg(feature = "forges")]
fn test_forge(dir: &std::path::Path) -> (idp_testforge::Running, std::path::PathBuf) {
    let token = dir.join("token");
    std::fs::write(&token, "contract-token\n").unwrap();
    let forge = idp_testforge::spawn(idp_testforge::Config::new(
        dir.join("forge"),
        "contract-token",
    ))
    .unwrap();
    (forge, token)
}

#[cfg(feature = "forges")]
async fn forge_contract(kind: &str, auto_merge: bool) {
    let dir = tempfile::tempdir().unwrap();
    let (forge, token) = test_forge(dir.path());
    source_control_contract(|| {
        let scm = forge_on(kind, &forge, &token, auto_merge);
        async move { scm }
    })
    .await;
}

#[cfg(feature = "forges")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_keeps_the_source_control_contract() {
    forge_contract("github", true).await;
}

#[cfg(feature = "forges")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_without_auto_merge_keeps_the_source_control_contract() {
    forge_contract("github", false).await;
}

#[cfg(feature = "forges")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitea_keeps_the_source_control_contract() {
    forge_contract("gitea", true).await;
}

#[cfg(feature = "forges")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitea_without_auto_merge_keeps_the_source_control_contract() {
    forge_contract("gitea", false).await;
}

#[cfg(feature = "forges")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_keeps_the_source_control_contract() {
    forge_contract("gitlab", true).await;
}

#[cfg(feature = "forges")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_without_auto_merge_keeps_the_source_control_contract() {
    forge_contract("gitlab", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_the_state_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    state_store_contract(|| {
        let db = db.clone();
        async move { Arc::new(SqliteStateStore::open(&db).unwrap()) as Arc<dyn StateStore> }
    })
    .await;
}

#[tokio::test]
async fn memory_keeps_the_state_store_contract() {
    let storage = MemoryStateStore::new();
    state_store_contract(|| {
        let s = storage.clone();
        async move { Arc::new(s) as Arc<dyn StateStore> }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_the_audit_log_contract() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = (dir.path().join("audit.db"), dir.path().join("audit.key"));
    audit_log_contract(|| {
        let (db, key) = (db.clone(), key.clone());
        async move { Arc::new(SqliteAuditLog::open(&db, &key).unwrap()) as Arc<dyn AuditLog> }
    })
    .await;
}

#[tokio::test]
async fn memory_keeps_the_audit_log_contract() {
    let storage = MemoryAuditLog::new().unwrap();
    audit_log_contract(|| {
        let s = storage.clone();
        async move { Arc::new(s) as Arc<dyn AuditLog> }
    })
    .await;
}

/// A broken provider fails the contract, naming the clause: the suite can fail.
#[derive(Clone)]
struct ForgetsKeys(MemorySourceControl);

#[async_trait::async_trait]
impl SourceControl for ForgetsKeys {
    fn kind(&self) -> &'static str {
        "forgets-keys"
    }
    async fn repo_exists(&self, repo: &str) -> idp_core::Result<bool> {
        self.0.repo_exists(repo).await
    }
    async fn create_repo(&self, repo: &str, d: &str) -> idp_core::Result<()> {
        self.0.create_repo(repo, d).await
    }
    async fn read_files(
        &self,
        repo: &str,
        branch: Option<&str>,
        paths: &[String],
    ) -> idp_core::Result<Vec<Option<Vec<u8>>>> {
        self.0.read_files(repo, branch, paths).await
    }
    async fn list_files(
        &self,
        repo: &str,
        branch: Option<&str>,
        prefix: &str,
    ) -> idp_core::Result<Vec<String>> {
        self.0.list_files(repo, branch, prefix).await
    }
    async fn branch_exists(&self, repo: &str, branch: &str) -> idp_core::Result<bool> {
        self.0.branch_exists(repo, branch).await
    }
    async fn submit(
        &self,
        spec: &idp_core::providers::ChangeRequestSpec,
    ) -> idp_core::Result<idp_core::providers::ChangeRequestOutcome> {
        self.0.submit(spec).await
    }
    async fn find_change_request(
        &self,
        _repo: &str,
        _key: &str,
    ) -> idp_core::Result<Option<idp_core::providers::ChangeRequestOutcome>> {
        Ok(None)
    }
    fn repo_url(&self, repo: &str) -> String {
        self.0.repo_url(repo)
    }
    fn default_branch(&self) -> &str {
        self.0.default_branch()
    }
    fn auto_merges(&self) -> bool {
        self.0.auto_merges()
    }
}

#[tokio::test]
#[should_panic(expected = "recovery by key after a restart")]
async fn a_provider_that_cannot_recover_by_key_fails_the_contract() {
    let storage = ForgetsKeys(MemorySourceControl::new("main", true));
    source_control_contract(|| {
        let s = storage.clone();
        async move { Arc::new(s) as Arc<dyn SourceControl> }
    })
    .await;
}

/// A branch name an earlier, merged change request used (a second infra request of a service,
/// an upgrade asked for again) carries exactly the default branch plus the new change: with
/// `f` changed meanwhile on the default branch, asking for the old `f` again changes it back.
#[cfg(feature = "forges")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_forge_remakes_a_reused_branch_from_the_default_branch() {
    use idp_core::providers::{ChangeRequestSpec, Signature};
    let spec = |key: &str, branch: &str, content: &str| ChangeRequestSpec {
        key: key.into(),
        repo: "reused".into(),
        branch: branch.into(),
        title: format!("set f to {content}"),
        body: "test".into(),
        files: vec![("f".into(), Some(Arc::new(content.as_bytes().to_vec())))],
        author: Signature {
            name: "t".into(),
            email: "t@example.com".into(),
        },
        committer: Signature {
            name: "t".into(),
            email: "t@example.com".into(),
        },
        trailers: Vec::new(),
        hold: false,
    };
    for kind in ["github", "gitea", "gitlab"] {
        let dir = tempfile::tempdir().unwrap();
        let (forge, token) = test_forge(dir.path());
        let scm = forge_on(kind, &forge, &token, true);
        scm.create_repo("reused", "test").await.unwrap();
        let first = scm
            .submit(&spec("k1", "idp/reused/step", "1"))
            .await
            .unwrap();
        assert!(first.committed, "{kind}");
        scm.submit(&spec("k2", "idp/reused/other", "2"))
            .await
            .unwrap();
        let again = scm
            .submit(&spec("k3", "idp/reused/step", "1"))
            .await
            .unwrap();
        assert!(again.committed, "{kind}: {again:?}");
        assert_eq!(
            again.state,
            idp_core::receipt::ChangeRequestState::Merged,
            "{kind}"
        );
        let f = scm.read_files("reused", None, &["f".into()]).await.unwrap();
        assert_eq!(
            f[0].as_deref(),
            Some(&b"1"[..]),
            "{kind}: the default branch has the change"
        );
    }
}

/// Gitea lists at most 50 pull requests a page: the change request of a key on a later page is
/// found by following the listing's `Link` header, not opened again.
#[cfg(feature = "forges")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitea_finds_a_change_request_past_the_first_page() {
    let dir = tempfile::tempdir().unwrap();
    let (forge, token) = test_forge(dir.path());
    let scm = forge_on("gitea", &forge, &token, false);
    scm.create_repo("busy", "test").await.unwrap();
    let api = |method: &str, path: &str, body: serde_json::Value| {
        let r = forge.request(
            "contract-token",
            method,
            &format!("/api/v1/repos/acme/busy{path}"),
            &body.to_string(),
        );
        assert!(r.status == 201, "{method} {path}: {r:?}");
    };
    // The oldest pull request carries the key; 51 newer ones push it to the second page.
    for i in 0..52 {
        let branch = format!("b{i}");
        let content = base64_of(&format!("{i}\n"));
        api(
            "POST",
            "/contents",
            serde_json::json!({
                "branch": "main", "new_branch": branch, "message": "x",
                "files": [{ "operation": "create", "path": format!("f{i}"), "content": content }],
            }),
        );
        let body = if i == 0 {
            "<!-- idp-change-request-key: the-key -->".to_string()
        } else {
            String::new()
        };
        api(
            "POST",
            "/pulls",
            serde_json::json!({ "title": "t", "head": branch, "base": "main", "body": body }),
        );
    }
    let found = scm.find_change_request("busy", "the-key").await.unwrap();
    assert_eq!(found.expect("found on the second page").branch, "b0");
}

#[cfg(feature = "forges")]
fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}
