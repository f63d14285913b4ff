//! GitHub Apps: `POST /api/v3/app/installations/{id}/access_tokens` trades the app's JWT (RS256,
//! signed with the app's private key; `iss` the app id, at most ten minutes between `iat` and
//! `exp`) for an installation token that acts as the app's bot user (`SLUG[bot]`) until it
//! expires. The forge checks the signature with the public half of the key the app was
//! registered with, as GitHub does.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use ring::signature::{KeyPair, RSA_PKCS1_2048_8192_SHA256, RsaKeyPair, UnparsedPublicKey};
use serde_json::{Value, json};

use crate::Shared;

/// A GitHub App installed on the forge.
#[derive(Clone, Debug)]
pub struct App {
    pub id: u64,
    pub installation_id: u64,
    /// The bot's login (`idp-app[bot]`): who the installation's tokens act as.
    pub login: String,
    /// The public half of the app's key (DER `RSAPublicKey`).
    pub public_key: Vec<u8>,
}

impl App {
    /// An app registered with the key whose private half is `pem` (PKCS#1 or PKCS#8), as
    /// GitHub hands out: the forge keeps only the public half.
    pub fn from_private_key_pem(
        id: u64,
        installation_id: u64,
        slug: &str,
        pem: &str,
    ) -> Result<App, String> {
        let (label, pkcs1) = if pem.contains("BEGIN RSA PRIVATE KEY") {
            ("RSA PRIVATE KEY", true)
        } else {
            ("PRIVATE KEY", false)
        };
        let body: String = pem
            .split(&format!("-----BEGIN {label}-----"))
            .nth(1)
            .and_then(|r| r.split(&format!("-----END {label}-----")).next())
            .ok_or("no PEM private key block")?
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|e| e.to_string())?;
        let key = if pkcs1 {
            RsaKeyPair::from_der(&der)
        } else {
            RsaKeyPair::from_pkcs8(&der)
        }
        .map_err(|e| e.to_string())?;
        Ok(App {
            id,
            installation_id,
            login: format!("{slug}[bot]"),
            public_key: key.public_key().as_ref().to_vec(),
        })
    }
}

/// Installation tokens handed out: `(token, login, expires)`.
#[derive(Default)]
pub(crate) struct Issued(Mutex<Vec<(String, String, Instant)>>);

impl Issued {
    /// The login an unexpired installation token acts as.
    pub fn login(&self, token: &str) -> Option<String> {
        let now = Instant::now();
        self.0
            .lock()
            .unwrap()
            .iter()
            .find(|(t, _, exp)| t == token && *exp > now)
            .map(|(_, l, _)| l.clone())
    }
}

fn refuse(status: StatusCode, message: &str) -> Response {
    crate::error(status, message)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// The app a JWT proves, or why it proves none.
fn verify(f: &Shared, jwt: &str) -> Result<App, &'static str> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, sig] = parts[..] else {
        return Err("A JSON web token could not be decoded");
    };
    let b64 = |s: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    };
    let (Some(h), Some(c)) = (b64(header), b64(claims)) else {
        return Err("A JSON web token could not be decoded");
    };
    if h["alg"] != "RS256" {
        return Err("A JSON web token could not be decoded");
    }
    let iss = c["iss"]
        .as_u64()
        .or_else(|| c["iss"].as_str().and_then(|s| s.parse().ok()));
    let app = f
        .cfg
        .apps
        .iter()
        .find(|a| Some(a.id) == iss)
        .ok_or("'Issuer' claim ('iss') must be an Integer")?;
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| "A JSON web token could not be decoded")?;
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &app.public_key)
        .verify(format!("{header}.{claims}").as_bytes(), &signature)
        .map_err(|_| "A JSON web token could not be decoded")?;
    let (Some(iat), Some(exp)) = (c["iat"].as_u64(), c["exp"].as_u64()) else {
        return Err("'Expiration time' claim ('exp') must be a numeric value");
    };
    let now = unix_now();
    if exp <= now || iat > now + 60 || exp.saturating_sub(iat) > 600 {
        return Err(
            "'Expiration time' claim ('exp') is too far in the future, or the token has expired",
        );
    }
    Ok(app.clone())
}

pub(crate) async fn access_token(
    State(f): State<Shared>,
    Path(installation): Path<u64>,
    headers: HeaderMap,
) -> Response {
    let jwt = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .unwrap_or("")
        .trim();
    let app = match verify(&f, jwt) {
        Ok(a) => a,
        Err(why) => return refuse(StatusCode::UNAUTHORIZED, why),
    };
    if app.installation_id != installation {
        return refuse(StatusCode::NOT_FOUND, "Not Found");
    }
    let mut raw = [0u8; 20];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut raw)
        .expect("the system has randomness");
    let token = format!(
        "ghs_{}",
        raw.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let ttl = Duration::from_secs(f.cfg.app_token_ttl_secs);
    f.issued
        .0
        .lock()
        .unwrap()
        .push((token.clone(), app.login.clone(), Instant::now() + ttl));
    let expires = chrono::Utc::now() + chrono::Duration::seconds(ttl.as_secs() as i64);
    (
        StatusCode::CREATED,
        axum::Json(json!({
            "token": token,
            "expires_at": expires.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "permissions": {
                "administration": "write",
                "contents": "write",
                "pull_requests": "write",
                "metadata": "read",
            },
            "repository_selection": "all",
        })),
    )
        .into_response()
}
