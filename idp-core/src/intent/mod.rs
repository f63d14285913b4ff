//! Self-service infrastructure: a developer's intent mapped to an org-approved module.

mod hcl;

pub use hcl::hcl_to_json;
