//! Everything outside the APIs: git smart HTTP (`/OWNER/REPO.git/...`, served by
//! `git http-backend` as a CGI program) and raw files (`/OWNER/REPO/raw/REF/PATH`).

use std::io::Write;
use std::process::{Command, Stdio};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::{Login, Shared};

/// Pushes larger than this are refused (the forge buffers request bodies).
const MAX_BODY: usize = 256 << 20;

pub async fn fallback(State(f): State<Shared>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let parts: Vec<&str> = path.trim_start_matches('/').splitn(3, '/').collect();
    if parts.len() == 3
        && let Some(repo) = parts[1].strip_suffix(".git")
    {
        let full = format!("{}/{repo}", parts[0]);
        if f.store.get(&full).is_none() {
            return (StatusCode::NOT_FOUND, "repository not found\n").into_response();
        }
        return git(f, req, &full).await;
    }
    if parts.len() == 3
        && let Some(rest) = parts[2].strip_prefix("raw/")
    {
        let full = format!("{}/{}", parts[0], parts[1]);
        return raw(&f, &full, rest);
    }
    crate::error(StatusCode::NOT_FOUND, "Not Found")
}

/// A file at a ref. A branch name may hold slashes (`idp/svc/step`), so each split of `rest`
/// into ref and path is tried (git allows no branch that is a prefix folder of another).
fn raw(f: &Shared, full: &str, rest: &str) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "not found\n").into_response();
    let Ok(git) = f.store.git(full) else {
        return not_found();
    };
    let parts: Vec<&str> = rest.split('/').collect();
    for i in 1..parts.len() {
        let (reference, path) = (parts[..i].join("/"), parts[i..].join("/"));
        let Ok(tree) = git
            .revparse_single(&reference)
            .and_then(|o| o.peel_to_tree())
        else {
            continue;
        };
        let blob = tree
            .get_path(std::path::Path::new(&path))
            .and_then(|e| e.to_object(&git))
            .and_then(|o| o.peel_to_blob());
        return match blob {
            Ok(b) => (
                [("content-type", "text/plain; charset=utf-8")],
                b.content().to_vec(),
            )
                .into_response(),
            Err(_) => not_found(),
        };
    }
    not_found()
}

async fn git(f: Shared, req: Request, full: &str) -> Response {
    let login = req.extensions().get::<Login>().map(|l| l.0.clone());
    let (parts, body) = req.into_parts();
    let body = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "too large\n").into_response(),
    };
    let path_info = format!("/{full}.git{}", {
        let p = parts.uri.path();
        let at = p.find(".git").map(|i| i + 4).unwrap_or(p.len());
        p[at..].to_string()
    });
    let mut cmd = Command::new("git");
    cmd.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", &f.cfg.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", path_info)
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("QUERY_STRING", parts.uri.query().unwrap_or(""))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        // Pushes are allowed for any authenticated user; the hook enforces protection.
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "http.receivepack")
        .env("GIT_CONFIG_VALUE_0", "true")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(l) = &login {
        cmd.env("REMOTE_USER", l);
    }
    for (name, env) in [
        ("content-type", "CONTENT_TYPE"),
        ("content-encoding", "HTTP_CONTENT_ENCODING"),
        ("git-protocol", "HTTP_GIT_PROTOCOL"),
    ] {
        if let Some(v) = parts.headers.get(name).and_then(|v| v.to_str().ok()) {
            cmd.env(env, v);
        }
    }
    let out = tokio::task::spawn_blocking(move || -> std::io::Result<std::process::Output> {
        let mut child = cmd.spawn()?;
        let mut stdin = child.stdin.take().expect("piped");
        // Written from a thread: a large response would otherwise fill the stdout pipe while
        // we still write the request.
        let writer = std::thread::spawn(move || stdin.write_all(&body));
        let out = child.wait_with_output()?;
        let _ = writer.join();
        Ok(out)
    })
    .await;
    let out = match out {
        Ok(Ok(o)) => o,
        _ => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "git http-backend failed\n",
            )
                .into_response();
        }
    };
    cgi_response(&out.stdout)
}

/// A CGI program's output as an HTTP response.
fn cgi_response(out: &[u8]) -> Response {
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4))
        .or_else(|| {
            out.windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, i + 2))
        });
    let Some((head_end, body_start)) = split else {
        return (StatusCode::BAD_GATEWAY, "malformed CGI output\n").into_response();
    };
    let head = String::from_utf8_lossy(&out[..head_end]);
    let mut resp = Response::new(Body::from(out[body_start..].to_vec()));
    for line in head.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        if k.eq_ignore_ascii_case("status") {
            if let Some(code) = v.split(' ').next().and_then(|c| c.parse::<u16>().ok())
                && let Ok(s) = StatusCode::from_u16(code)
            {
                *resp.status_mut() = s;
            }
        } else if let (Ok(name), Ok(value)) =
            (HeaderName::try_from(k.trim()), HeaderValue::from_str(v))
        {
            resp.headers_mut().append(name, value);
        }
    }
    resp
}
