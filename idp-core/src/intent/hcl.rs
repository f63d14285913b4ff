//! HCL (Terraform) as data: guardrails and Rego policies see a `.tf` file as the JSON value of
//! its body, as conftest does.

use crate::error::{Error, Result};

/// Parses HCL text into JSON (`module "x" { ... }` becomes `{"module": {"x": {...}}}`).
pub fn hcl_to_json(path: &str, text: &str) -> Result<serde_json::Value> {
    hcl::from_str::<serde_json::Value>(text)
        .map_err(|e| Error::invalid(format!("{path} is not valid HCL: {e}")).with("file", path))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_module_block_becomes_nested_objects() {
        let v = super::hcl_to_json(
            "m.tf",
            "module \"logs\" {\n  source = \"x\"\n  tags = { team = \"t\" }\n}\n",
        )
        .unwrap();
        assert_eq!(v["module"]["logs"]["tags"]["team"], "t");
        assert!(super::hcl_to_json("bad.tf", "module {").is_err());
    }
}
