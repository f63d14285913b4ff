//! One error type for the whole engine. Callers branch on [`ErrorKind`]; every face maps the kind
//! 1:1 (Python exception class, Node `error.code`, CLI exit code).

use std::fmt;

/// What kind of failure happened: the thing a caller branches on. New kinds may be added (match
/// with a `_` arm); every face learns them from [`ErrorKind::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request or the platform configuration is malformed. Nothing was written.
    InvalidInput,
    /// The principal is not allowed to do this. Nothing was written.
    Denied,
    /// The request collides with existing state (a name taken by another owner, a run in progress).
    Conflict,
    /// Something the request refers to does not exist (service, run, team, golden path).
    NotFound,
    /// A guardrail denied the change set. Nothing was written.
    PolicyViolation,
    /// A provider (git, database, remote API) failed.
    Provider,
    /// A bug or an unexpected state inside idp.
    Internal,
    /// The caller cancelled the run (Ctrl-C, an aborted Backstage task, a cancelled asyncio
    /// task). It stopped at a safe point and is recorded as `cancelled`; `resume` finishes it.
    Cancelled,
}

impl ErrorKind {
    /// The stable name used by every face (`InvalidInput`, `Denied`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "InvalidInput",
            ErrorKind::Denied => "Denied",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::PolicyViolation => "PolicyViolation",
            ErrorKind::Provider => "Provider",
            ErrorKind::Internal => "Internal",
            ErrorKind::Cancelled => "Cancelled",
        }
    }

    /// Whether the same call may succeed when it is simply made again later, unless an error says
    /// otherwise ([`Error::retryable`]): provider failures are usually transient (a timeout, a
    /// 503, a busy database), and a cancelled run resumes; every other kind needs a change first.
    pub fn retryable_by_default(self) -> bool {
        matches!(self, ErrorKind::Provider | ErrorKind::Cancelled)
    }

    /// Every kind, in a stable order (for bindings that generate one class per kind).
    pub const ALL: [ErrorKind; 8] = [
        ErrorKind::InvalidInput,
        ErrorKind::Denied,
        ErrorKind::Conflict,
        ErrorKind::NotFound,
        ErrorKind::PolicyViolation,
        ErrorKind::Provider,
        ErrorKind::Internal,
        ErrorKind::Cancelled,
    ];

    /// The process exit code the CLI uses for this kind. 0 is success, clap's usage errors are 2.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Internal => 1,
            ErrorKind::InvalidInput => 2,
            ErrorKind::Denied => 3,
            ErrorKind::Conflict => 4,
            ErrorKind::NotFound => 5,
            ErrorKind::PolicyViolation => 6,
            ErrorKind::Provider => 7,
            // What shells report for a process stopped by SIGINT.
            ErrorKind::Cancelled => 130,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The engine's error: a kind, a message a person can act on, and key/value context
/// (file, field, parameter, ...). Never carries secret values.
#[derive(Debug)]
pub struct Error(Box<Inner>);

#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    message: String,
    context: Vec<(&'static str, String)>,
    details: Option<serde_json::Value>,
    retryable: Option<bool>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with a message that says what was wrong and what to do.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error(Box::new(Inner {
            kind,
            message: message.into(),
            context: Vec::new(),
            details: None,
            retryable: None,
            source: None,
        }))
    }

    /// Shorthand for [`ErrorKind::InvalidInput`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// Shorthand for [`ErrorKind::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// Shorthand for [`ErrorKind::Conflict`].
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    /// Shorthand for [`ErrorKind::Internal`].
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// Shorthand for [`ErrorKind::Provider`].
    pub fn provider(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Provider, message)
    }

    /// Adds a key/value pair of context (e.g. `("file", "idp.yaml")`).
    pub fn with(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.0.context.push((key, value.into()));
        self
    }

    /// Attaches structured details (e.g. every guardrail violation) for faces to show.
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.0.details = Some(details);
        self
    }

    /// Says whether retrying the same call may succeed, overriding the kind's default (a
    /// `Conflict` from a race is retryable; a `Provider` 404 is not).
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.0.retryable = Some(retryable);
        self
    }

    /// Whether the same call may succeed when made again later (see
    /// [`ErrorKind::retryable_by_default`]).
    pub fn retryable(&self) -> bool {
        self.0
            .retryable
            .unwrap_or_else(|| self.0.kind.retryable_by_default())
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.0.source = Some(Box::new(source));
        self
    }

    /// The kind a caller branches on.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The human message, without context.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Key/value context, in the order it was added.
    pub fn context(&self) -> &[(&'static str, String)] {
        &self.0.context
    }

    /// The context value of `key` (`field`, `file`, ...), if the error has one.
    pub fn context_value(&self, key: &str) -> Option<&str> {
        self.0
            .context
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Structured details, when the error carries a list (violations, candidates).
    pub fn details(&self) -> Option<&serde_json::Value> {
        self.0.details.as_ref()
    }

    /// The error as a JSON object: `{kind, message, retryable, context, details}`; what `--json`
    /// prints.
    pub fn to_json(&self) -> serde_json::Value {
        let ctx: serde_json::Map<String, serde_json::Value> = self
            .0
            .context
            .iter()
            .map(|(k, v)| ((*k).to_string(), serde_json::Value::String(v.clone())))
            .collect();
        serde_json::json!({
            "kind": self.0.kind.as_str(),
            "message": self.0.message,
            "retryable": self.retryable(),
            "context": ctx,
            "details": self.0.details,
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.message)?;
        if !self.0.context.is_empty() {
            f.write_str(" (")?;
            for (i, (k, v)) in self.0.context.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{k}: {v}")?;
            }
            f.write_str(")")?;
        }
        if let Some(src) = &self.0.source {
            write!(f, ": {src}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::provider("state database error").with_source(e)
    }
}

impl From<git2::Error> for Error {
    fn from(e: git2::Error) -> Self {
        Error::provider("git error").with_source(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::provider("file system error").with_source(e)
    }
}

impl Error {
    /// The error of a run stopped by its [`CancelToken`](crate::CancelToken).
    pub fn cancelled(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Cancelled, message)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::internal("JSON encoding error").with_source(e)
    }
}
