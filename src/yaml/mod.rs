//! YAML: the one module every stage reads and writes YAML through.
//!
//! - [`parse`]: text → `serde_json::Value`s (insertion order kept, duplicate keys,
//!   tags and non-finite numbers rejected), with positioned errors;
//! - [`block`]: the fast reader for block-style text that [`parse`] tries first;
//! - [`depth`]: the nesting limit, checked in linear time before `yaml_serde` runs;
//! - [`emit`]: values → byte-stable block-style text, quoting every string a
//!   YAML 1.1 reader would misread;
//! - [`locate`]: where a key path sits in a YAML text (line and column), for messages;
//! - [`typed`]: typed configuration files (`strata.yaml`, `component.yaml`,
//!   `kustomization.yaml`) read into serde types, unknown fields rejected with a
//!   "did you mean" hint.
//!
//! A leaf module: it imports nothing of strata but [`crate::diag`].

pub mod block;
pub mod depth;
pub mod emit;
pub mod locate;
pub mod parse;
pub mod typed;

pub use depth::MAX_DEPTH;
pub use emit::{is_plain_safe, to_string, write_document};
pub use locate::locate;
pub use parse::{YamlError, parse_documents, parse_documents_slow, parse_file, parse_one};
