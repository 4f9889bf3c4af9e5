//! The render cache flags, declared once and flattened into every command
//! that compiles targets (`bundle`, `render`, `check`, `diff`, `hydrate`,
//! `publish`): `--cache DIR`
//! (or `STRATA_CACHE`) and `--cache-max-size SIZE`. What the cache keeps and
//! when an entry is used is [`crate::cache`]'s.

use std::path::PathBuf;

use crate::cache::{self, CacheOptions};

#[derive(Debug, Clone, Default, clap::Args)]
pub struct CacheArgs {
    /// Keep each target's rendered objects in DIR and reuse them while nothing
    /// the target reads has changed (keep DIR between CI runs; safe to share
    /// between concurrent runs). Output is the same with or without it
    #[arg(long = "cache", value_name = "DIR", env = "STRATA_CACHE")]
    pub dir: Option<PathBuf>,
    /// The most the cache directory may hold: least recently used entries are
    /// removed beyond it (`500M`, `2G`; default `1G`)
    #[arg(long = "cache-max-size", value_name = "SIZE", value_parser = parse_size, requires = "dir")]
    pub max_size: Option<u64>,
}

impl CacheArgs {
    /// The cache to use, if any.
    pub fn options(&self) -> Option<CacheOptions> {
        let dir = self.dir.clone()?;
        Some(CacheOptions { dir, max_bytes: self.max_size.unwrap_or(cache::DEFAULT_MAX_BYTES) })
    }
}

fn parse_size(text: &str) -> Result<u64, String> {
    cache::parse_size(text).map_err(|d| format!("{}; {}", d.message, d.hints.join("; ")))
}
