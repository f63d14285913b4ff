//! One policy point: authorization (Cedar), guardrails on change sets (built-in conventions and
//! conftest-compatible Rego), and waivers — explicit, approved, expiring exceptions.

pub mod authz;
pub mod doc;
mod fastyaml;
pub mod guardrails;

pub use authz::{
    Authz, AuthzContext, AuthzRequest, AuthzResource, Decided, IntentFacts, RequestTime,
};
pub use guardrails::{
    Enforcement, GuardContext, GuardedFile, Guardrails, GuardrailsConfig, Violation,
};
pub mod waivers;
pub use waivers::{Waiver, WaiverRequest, WaiverState};
