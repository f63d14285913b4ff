//! The files of a platform folder a platform team writes: idp.yaml (parsed and validated), the
//! org directory, a module of the catalog, and a Cedar policy file. Loading never panics; what it
//! accepts keeps the invariants idp relies on later.
#![no_main]
use idp_core::config::{PlatformConfig, parse_yaml};
use libfuzzer_sys::fuzz_target;

/// The built-in idp.yaml, parsed once (loading the built-in platform compiles its templates).
fn builtin() -> &'static idp_core::config::PlatformConfig {
    static CFG: std::sync::OnceLock<idp_core::config::PlatformConfig> = std::sync::OnceLock::new();
    CFG.get_or_init(|| idp_core::Platform::builtin_config().expect("the built-in platform loads"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match which % 4 {
        0 => {
            if let Ok(cfg) = parse_yaml::<PlatformConfig>("idp.yaml", text)
                && cfg.validate("idp.yaml").is_ok()
            {
                // Accepted names stay names: shared repos are labels, namespaces are labels.
                for (_, repo) in cfg.shared_repos() {
                    assert!(idp_core::naming::is_dns1123_label(repo), "{repo:?}");
                    assert!(cfg.check_service_name(repo).is_err());
                }
                assert!(cfg.organization.bot.check().is_ok());
                for env in &cfg.environments {
                    let ns = cfg.namespace("team-a", "svc", &env.name);
                    assert!(idp_core::naming::is_dns1123_label(&ns), "{ns:?}");
                }
            }
        }
        1 => {
            let _ = idp_core::org::Directory::load([("org/org.yaml", text)]);
        }
        2 => {
            let types = "types:\n  bucket:\n    description: x\n    bindings: { BUCKET_NAME: bucket_name }\n";
            let _ = idp_core::intent::Catalog::load(
                [("types.yaml", types), ("bucket/m.yaml", text)],
                builtin(),
            );
        }
        _ => {
            let _ = idp_core::policy::Authz::load([("policies/p.cedar", text)]);
        }
    }
});
