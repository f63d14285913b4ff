//! GitHub App authentication (`app:` in `providers.source_control`, `kind: github`): idp signs a
//! short JWT (RS256) with the app's private key, trades it for an installation token at
//! `POST /app/installations/{id}/access_tokens` (retried on 5xx, 429 and no answer), and uses
//! that token until shortly before it expires (a quarter of its life, at most a minute, is kept
//! in reserve), or until the forge refuses it. Neither the key, the JWT nor the token appears in errors or `Debug`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use reqwest::StatusCode;
use reqwest::header::HeaderValue;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

use crate::config::GitHubApp;
use crate::error::{Error, Result};

pub(crate) struct AppAuth {
    app_id: u64,
    installation_id: u64,
    key: RsaKeyPair,
    token: tokio::sync::Mutex<Option<Minted>>,
}

struct Minted {
    header: HeaderValue,
    renew_at: Instant,
}

impl std::fmt::Debug for AppAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppAuth")
            .field("app_id", &self.app_id)
            .field("installation_id", &self.installation_id)
            .field("key", &"***")
            .finish()
    }
}

fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

fn invalid_key(why: &str) -> Error {
    Error::invalid(format!(
        "providers.source_control.app.private_key is not a usable RSA private key: {why} \
         (use the PEM file GitHub gives for the app)"
    ))
    .with("field", "providers.source_control.app.private_key")
}

/// An RSA key from PEM: PKCS#1 (`BEGIN RSA PRIVATE KEY`, what GitHub hands out) or PKCS#8.
fn parse_key(pem: &str) -> Result<RsaKeyPair> {
    // A PEM put in an environment variable often has its newlines escaped.
    let pem = if pem.contains("\\n") && !pem.contains('\n') {
        pem.replace("\\n", "\n")
    } else {
        pem.to_string()
    };
    let (pkcs1, body) = if let Some(rest) = pem.split("-----BEGIN RSA PRIVATE KEY-----").nth(1) {
        (true, rest.split("-----END RSA PRIVATE KEY-----").next())
    } else if let Some(rest) = pem.split("-----BEGIN PRIVATE KEY-----").nth(1) {
        (false, rest.split("-----END PRIVATE KEY-----").next())
    } else {
        return Err(invalid_key("no PEM private key block"));
    };
    let text: String = body
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| invalid_key("the PEM body is not base64"))?;
    let key = if pkcs1 {
        RsaKeyPair::from_der(&der)
    } else {
        RsaKeyPair::from_pkcs8(&der)
    };
    key.map_err(|e| invalid_key(&e.to_string()))
}

impl AppAuth {
    pub fn new(app: &GitHubApp) -> Result<AppAuth> {
        let pem = app.private_key.resolve()?;
        Ok(AppAuth {
            app_id: app.app_id,
            installation_id: app.installation_id,
            key: parse_key(pem.expose())?,
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// The app's JWT: issued a minute in the past (clock drift), valid for nine minutes (GitHub
    /// takes at most ten).
    fn jwt(&self) -> Result<String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let header = b64url(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = b64url(
            serde_json::json!({ "iat": now - 60, "exp": now + 540, "iss": self.app_id.to_string() })
                .to_string()
                .as_bytes(),
        );
        let signing_input = format!("{header}.{claims}");
        let mut sig = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                signing_input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| Error::provider("github: signing the GitHub App's JWT failed"))?;
        Ok(format!("{signing_input}.{}", b64url(&sig)))
    }

    /// The installation token's `Authorization` header, minted when there is none or it is
    /// about to expire.
    pub async fn header(&self, client: &reqwest::Client, api: &str) -> Result<HeaderValue> {
        let mut token = self.token.lock().await;
        if let Some(t) = token.as_ref()
            && Instant::now() < t.renew_at
        {
            return Ok(t.header.clone());
        }
        let endpoint = format!("/app/installations/{}/access_tokens", self.installation_id);
        // A few tries for what passes (5xx, 429, no answer); the waiters share the outcome
        // through the lock.
        let mut attempt = 0;
        let (status, body) = loop {
            attempt += 1;
            let mut auth =
                HeaderValue::from_str(&format!("Bearer {}", self.jwt()?)).map_err(|_| {
                    Error::provider("github: the GitHub App's JWT is not a header value")
                })?;
            auth.set_sensitive(true);
            let sent = client
                .post(format!("{api}{endpoint}"))
                .header(reqwest::header::AUTHORIZATION, auth)
                .header(reqwest::header::ACCEPT, "application/vnd.github+json")
                .header("x-github-api-version", "2022-11-28")
                .send()
                .await;
            let transient = match &sent {
                Ok(r) => {
                    r.status().is_server_error() || r.status() == StatusCode::TOO_MANY_REQUESTS
                }
                Err(_) => true,
            };
            if transient && attempt < 3 {
                tokio::time::sleep(Duration::from_secs(attempt)).await;
                continue;
            }
            let resp = sent.map_err(|e| {
                Error::provider(format!(
                    "github: POST {endpoint} (the GitHub App's installation token) failed after {attempt} attempts: {}",
                    if e.is_timeout() { "timed out" } else { "no answer" }
                ))
                .with_retryable(true)
            })?;
            let status = resp.status();
            let body: serde_json::Value = resp
                .bytes()
                .await
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            break (status, body);
        };
        if status != StatusCode::CREATED {
            let refused = matches!(status.as_u16(), 401 | 404)
                || (status == StatusCode::FORBIDDEN
                    && !body["message"]
                        .as_str()
                        .unwrap_or("")
                        .to_lowercase()
                        .contains("rate limit"));
            return Err(Error::provider(format!(
                "github: POST {endpoint}: {} {}{}",
                status.as_u16(),
                body["message"].as_str().unwrap_or(""),
                if refused {
                    "; check providers.source_control.app (app_id, installation_id, private_key)"
                } else {
                    ""
                }
            ))
            .with_retryable(!refused));
        }
        let value = body["token"].as_str().unwrap_or("");
        let mut header = HeaderValue::from_str(&format!("token {value}"))
            .ok()
            .filter(|_| !value.is_empty())
            .ok_or_else(|| Error::provider("github: the installation token answer has no token"))?;
        header.set_sensitive(true);
        let life = body["expires_at"]
            .as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| (t.timestamp() - chrono::Utc::now().timestamp()).max(0) as u64)
            .unwrap_or(3600);
        let life = Duration::from_secs(life);
        let reserve = (life / 4).min(Duration::from_secs(60));
        *token = Some(Minted {
            header: header.clone(),
            renew_at: Instant::now() + life - reserve,
        });
        Ok(header)
    }

    /// Forgets `used` after the forge refused it (revoked, or expired early): the next call
    /// mints a new one.
    pub async fn refused(&self, used: &HeaderValue) {
        let mut token = self.token.lock().await;
        if token.as_ref().is_some_and(|t| t.header == *used) {
            *token = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::UnparsedPublicKey;

    const KEY: &str = include_str!("../../../tests/fixtures/github-app-test-key.pem");

    #[test]
    fn the_jwt_is_rs256_signed_by_the_app_key_and_names_the_app() {
        let key = parse_key(KEY).unwrap();
        let public = key.public().as_ref().to_vec();
        let auth = AppAuth {
            app_id: 4242,
            installation_id: 7,
            key,
            token: tokio::sync::Mutex::new(None),
        };
        let jwt = auth.jwt().unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[2])
            .unwrap();
        UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, public)
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .expect("a valid signature");
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(parts[1])
                .unwrap(),
        )
        .unwrap();
        assert_eq!(claims["iss"], "4242");
        let (iat, exp) = (
            claims["iat"].as_u64().unwrap(),
            claims["exp"].as_u64().unwrap(),
        );
        assert_eq!(exp - iat, 600, "within GitHub's ten minutes");
    }

    #[test]
    fn keys_are_read_from_pkcs1_pem_with_escaped_newlines_and_garbage_is_a_typed_error() {
        assert!(parse_key(&KEY.replace('\n', "\\n")).is_ok());
        for bad in [
            "",
            "not a key",
            "-----BEGIN RSA PRIVATE KEY-----\n!!!\n-----END RSA PRIVATE KEY-----",
        ] {
            let e = parse_key(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{bad}");
            assert!(e.to_string().contains("private_key"), "{e}");
        }
    }
}
