//! Self-service infrastructure: a developer's intent ("a bucket for logs") mapped to an
//! org-approved module — Terraform/OpenTofu or a Crossplane claim — with encryption, tags and
//! naming baked in, explained field by field, and wired back to the service as Secret references.

pub mod catalog;
mod hcl;
pub mod render;
pub mod resolve;

pub use catalog::{Catalog, Flavour, Module, ModuleDef};
pub use hcl::{Block, Hcl, hcl_to_json, quote as hcl_quote, render as render_hcl};
pub use resolve::{Binding, Candidate, InputSource, Intent, Resolution, resolve};
