//! Pinning a workspace to its platform. In embedded mode the caller picks the platform folder
//! (`--platform DIR`), so a caller could bring a permit-all policy. A pinned workspace refuses
//! every write from a process whose platform folder is not the pinned one (by digest or by path);
//! reads (plans, explain) still work, so a platform team can try a new folder before pinning it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Platform;
use crate::audit::AuditEvent;
use crate::error::{Error, ErrorKind, Result};
use crate::org::Principal;

/// The file in the workspace that holds the pin.
pub const PIN_FILE: &str = "platform.pin";

/// What a workspace is pinned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PlatformPin {
    /// Exactly this platform (the SHA-256 of every file of the folder): any edit needs a re-pin.
    Digest(String),
    /// Whatever the folder at this absolute path holds (`built-in` for the built-in platform):
    /// the folder's own access control and review decide what changes.
    Path(String),
}

/// How [`Platform::pin`] pins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PinBy {
    Digest,
    Path,
}

fn origin_path(origin: &str) -> String {
    if origin == "built-in" {
        return origin.to_string();
    }
    std::fs::canonicalize(origin)
        .unwrap_or_else(|_| PathBuf::from(origin))
        .display()
        .to_string()
}

/// Reads the pin of `workspace`. A pin file that does not parse pins to nothing: every write is
/// refused until it is fixed.
pub(crate) fn read_pin(workspace: &Path) -> Result<Option<PlatformPin>> {
    match std::fs::read_to_string(workspace.join(PIN_FILE)) {
        Ok(text) => serde_json::from_str(&text).map(Some).map_err(|_| {
            Error::invalid(format!(
                "{} is not a platform pin; fix or remove it (idp pin --clear)",
                workspace.join(PIN_FILE).display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Why this process may not write to its workspace, if it may not.
pub(crate) fn mismatch(p: &Platform) -> Option<String> {
    let pin = match read_pin(p.workspace()) {
        Ok(Some(pin)) => pin,
        Ok(None) => return None,
        Err(e) => return Some(e.message().to_string()),
    };
    let (ok, loaded) = match &pin {
        PlatformPin::Digest(d) => (*d == p.def.digest, format!("digest {}", p.def.digest)),
        PlatformPin::Path(path) => {
            let here = origin_path(&p.def.files.origin);
            (*path == here, format!("path {here}"))
        }
    };
    (!ok).then(|| {
        let pinned = match &pin {
            PlatformPin::Digest(d) => format!("digest {d}"),
            PlatformPin::Path(path) => format!("path {path}"),
        };
        format!(
            "this workspace is pinned to the platform with {pinned}, and this process loaded the \
             platform with {loaded}: writes are refused. Use the pinned platform folder, or have a \
             platform admin re-pin with it (idp pin)"
        )
    })
}

/// Refuses a write when the workspace is pinned to another platform.
pub(crate) fn check_write(p: &Platform, action: &str) -> Result<()> {
    match mismatch(p) {
        Some(why) => Err(Error::new(ErrorKind::Denied, why).with("action", action.to_string())),
        None => Ok(()),
    }
}

/// [`check_write`] at the start of a write, recording the refusal (`resource`: what it was
/// about, `service:NAME` or `platform:...`) like any other denial.
pub(crate) async fn guard(
    p: &Platform,
    who: &Principal,
    action: &str,
    resource: &str,
) -> Result<()> {
    let Err(e) = check_write(p, action) else {
        return Ok(());
    };
    super::policy_point::audit(
        p,
        &who.user,
        AuditEvent {
            operation: action.to_string(),
            resource: resource.to_string(),
            input_digest: p.def.digest.clone(),
            decision: "deny".into(),
            outcome: "denied".into(),
            details: serde_json::json!({"error": e.message(), "pinned": true}),
            ..Default::default()
        },
    )
    .await?;
    Err(e)
}

impl Platform {
    /// What the workspace is pinned to, if anything.
    pub fn pinned(&self) -> Result<Option<PlatformPin>> {
        read_pin(self.workspace())
    }

    /// Why writes from this platform are refused in this workspace, if they are.
    pub fn pin_mismatch(&self) -> Option<String> {
        mismatch(self)
    }

    /// Pins the workspace to this process's platform folder (by digest or by path), so that
    /// writes from any other folder are refused. Only a member of a platform-admin team may pin,
    /// and a pinned workspace can only be re-pinned with the pinned platform.
    pub async fn pin(&self, who: &Principal, by: PinBy) -> Result<PlatformPin> {
        self.check_pin_change(who, "pin_platform").await?;
        let pin = match by {
            PinBy::Digest => PlatformPin::Digest(self.def.digest.clone()),
            PinBy::Path => PlatformPin::Path(origin_path(&self.def.files.origin)),
        };
        let text = serde_json::to_string_pretty(&pin)?;
        let ws = self.workspace().to_path_buf();
        crate::runtime::unblock(move || {
            std::fs::create_dir_all(&ws)?;
            let tmp = ws.join(format!("{PIN_FILE}.{}", crate::digest::random_hex(4)));
            std::fs::write(&tmp, text)?;
            std::fs::rename(&tmp, ws.join(PIN_FILE))?;
            Ok(())
        })
        .await?;
        self.record_pin(who, "pin_platform", serde_json::to_value(&pin)?)
            .await?;
        Ok(pin)
    }

    /// Removes the pin (same rules as [`Platform::pin`]).
    pub async fn unpin(&self, who: &Principal) -> Result<()> {
        self.check_pin_change(who, "unpin_platform").await?;
        match std::fs::remove_file(self.workspace().join(PIN_FILE)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        self.record_pin(who, "unpin_platform", serde_json::Value::Null)
            .await
    }

    async fn check_pin_change(&self, who: &Principal, action: &str) -> Result<()> {
        // A malformed pin may be replaced by an admin; a valid one only with its own platform.
        if let Ok(Some(_)) = read_pin(self.workspace()) {
            guard(
                self,
                who,
                action,
                &format!("platform:{}", self.def.files.origin),
            )
            .await?;
        }
        require_admin(self, who, action, "pin the workspace's platform").await
    }

    async fn record_pin(
        &self,
        who: &Principal,
        action: &str,
        pin: serde_json::Value,
    ) -> Result<()> {
        record_platform_action(self, who, action, true, serde_json::json!({ "pin": pin })).await
    }
}

/// Platform-level actions (pinning, signing audit checkpoints) are for members of a
/// platform-admin team (`idp.dev/platform-admin: "true"` in the org directory). A refusal is
/// recorded.
pub(crate) async fn require_admin(
    p: &Platform,
    who: &Principal,
    action: &str,
    what: &str,
) -> Result<()> {
    if is_admin(p, who) {
        return Ok(());
    }
    let e = Error::new(
        ErrorKind::Denied,
        format!(
            "{} may not {action}: only members of a platform-admin team \
             (idp.dev/platform-admin: \"true\") may {what}",
            who.user
        ),
    )
    .with("action", action.to_string());
    record_platform_action(
        p,
        who,
        action,
        false,
        serde_json::json!({"error": e.message()}),
    )
    .await?;
    Err(e)
}

/// True when `who` is in a platform-admin team of the org directory.
pub(crate) fn is_admin(p: &Platform, who: &Principal) -> bool {
    p.def
        .directory
        .teams()
        .any(|t| t.platform_admin && who.groups.contains(&t.entity_ref))
}

/// Records a platform-level action (or its refusal).
pub(crate) async fn record_platform_action(
    p: &Platform,
    who: &Principal,
    action: &str,
    allowed: bool,
    details: serde_json::Value,
) -> Result<()> {
    super::policy_point::audit(
        p,
        &who.user,
        AuditEvent {
            operation: action.to_string(),
            resource: format!("platform:{}", p.def.files.origin),
            input_digest: p.def.digest.clone(),
            decision: if allowed { "allow" } else { "deny" }.into(),
            outcome: if allowed { "completed" } else { "denied" }.into(),
            details,
            ..Default::default()
        },
    )
    .await
}
