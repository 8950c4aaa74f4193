//! `docs/api.yaml` as the drift test reads it: the operations it lists, the
//! statuses each documents, and JSON Schema validation of bodies against
//! them, with `$ref`s into `components` resolved by the validator itself.

use std::collections::BTreeSet;

use serde_json::Value;

/// An operation: upper-case method and path template, e.g. `("POST", "/api/transfers")`.
pub type Operation = (String, String);

/// The parsed spec.
pub struct Spec {
    doc: Value,
}

impl Spec {
    /// Reads `docs/api.yaml` from the workspace.
    pub fn load() -> Self {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.yaml");
        let text = std::fs::read_to_string(path).expect("docs/api.yaml is readable");
        let doc: Value = serde_norway::from_str(&text).expect("docs/api.yaml is valid YAML");
        assert_eq!(doc["openapi"], "3.1.0", "the spec is OpenAPI 3.1");
        Self { doc }
    }

    /// Every `(method, template)` the spec documents.
    pub fn operations(&self) -> BTreeSet<Operation> {
        let mut found = BTreeSet::new();
        for (template, item) in self.doc["paths"].as_object().expect("paths is a map") {
            for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
                if item.get(method).is_some() {
                    found.insert((method.to_uppercase(), template.clone()));
                }
            }
        }
        found
    }

    /// The operation object of `method template`.
    pub fn operation(&self, (method, template): &Operation) -> Option<&Value> {
        self.doc["paths"].get(template)?.get(method.to_lowercase())
    }

    /// The documented statuses of an operation.
    pub fn statuses(&self, operation: &Operation) -> BTreeSet<u16> {
        self.operation(operation)
            .and_then(|op| op["responses"].as_object())
            .map(|responses| responses.keys().filter_map(|k| k.parse().ok()).collect())
            .unwrap_or_default()
    }

    /// The response object of `status`, with a `$ref` to `components/responses` followed.
    pub fn response(&self, operation: &Operation, status: u16) -> Option<&Value> {
        let response = self.operation(operation)?["responses"].get(status.to_string())?;
        Some(self.follow(response))
    }

    /// The JSON schema of the request body, if the operation takes one.
    pub fn request_schema(&self, operation: &Operation) -> Option<&Value> {
        let body = self.follow(self.operation(operation)?.get("requestBody")?);
        body["content"]["application/json"].get("schema")
    }

    /// `value`, or what its `$ref` (a local JSON pointer) points at.
    fn follow<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(pointer) => self
                .doc
                .pointer(pointer.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("the spec's {pointer} exists")),
            None => value,
        }
    }

    /// Validates `instance` against `schema` (a schema from this spec);
    /// every error, with where it is, joined in one message.
    pub fn validate(&self, schema: &Value, instance: &Value) -> Result<(), String> {
        // The schema becomes the root of a document that also holds the
        // spec's components, so `#/components/schemas/...` resolves there.
        let mut root = schema.clone();
        root.as_object_mut()
            .expect("a schema object")
            .insert("components".to_owned(), self.doc["components"].clone());
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&root)
            .map_err(|e| format!("the spec's schema does not compile: {e}"))?;
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{} (at {})", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

/// Whether `path` is an instance of `template` (`{name}` matches one
/// non-empty segment).
pub fn path_matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}') && !p.is_empty()))
}
