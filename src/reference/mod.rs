//! The generated reference pages of `docs/reference/`: written from the code's own
//! tables and schemas, so that they cannot drift from what strata does.
//!
//! In: the configuration types' JSON Schemas, the rule tables of `check` and
//! `rollout`. Out: each page's repository-relative path and Markdown text. A unit
//! test holds the committed pages to this output; `STRATA_REGENERATE=1` rewrites them.

pub mod config;
pub mod rules;

/// Every generated page: its path from the repository root, and its text.
pub fn pages() -> Vec<(&'static str, String)> {
    vec![("docs/reference/config.md", config::page()), ("docs/reference/rules.md", rules::page())]
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The committed pages and `schemas/` are what the code writes now; with
    /// `STRATA_REGENERATE=1` (or `STRATA_BLESS=1`) they are rewritten instead.
    #[test]
    fn committed_pages_are_current() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let regenerate = ["STRATA_REGENERATE", "STRATA_BLESS"].iter().any(|v| std::env::var(v).as_deref() == Ok("1"));
        let mut stale = Vec::new();
        for (path, text) in pages() {
            let file = root.join(path);
            if std::fs::read_to_string(&file).ok().as_deref() == Some(text.as_str()) {
                continue;
            }
            if regenerate {
                crate::atomic::write_file(&file, text.as_bytes()).unwrap();
            } else {
                stale.push(path.to_string());
            }
        }
        if regenerate {
            crate::repo::schemas::write(&root.join("schemas"), |_| {}).unwrap();
        }
        stale.extend(crate::repo::schemas::stale(&root.join("schemas")).iter().map(|p| p.display().to_string()));
        assert!(stale.is_empty(), "stale: {stale:?}; run `STRATA_REGENERATE=1 cargo test --lib reference` to rewrite");
    }
}
