//! The library's facade: the items the integration tests (`tests/`) and the benchmarks
//! (`benches/`) call directly, by stage. Every module of the crate is `pub(crate)`, so the
//! compiler reports code nothing uses; what is re-exported here is the one way in from
//! outside the binary, and stays small: a test that needs more should go through the
//! `strata` binary (`tests/cases/`), or be a unit test beside the code.
//!
//! Each module below mirrors the stage of the same name (docs/architecture.md).

/// YAML in and out ([`crate::yaml`]).
pub mod yaml {
    pub use crate::yaml::{MAX_DEPTH, parse_documents, parse_documents_slow, parse_one, to_string, write_document};

    /// The fast block-style reader.
    pub mod block {
        pub use crate::yaml::block::parse_stream;
    }
}

/// Where files come from ([`crate::source`]).
pub mod source {
    pub use crate::source::{Fs, GitRepo, MemorySource, SourceInfo, WorkTreeSource};
}

/// The repository model ([`crate::repo`]).
pub mod repo {
    pub use crate::repo::Repo;

    /// `strata.yaml` types and schemas.
    pub mod config {
        pub use crate::repo::config::{IgnoreRule, schemas};
    }
}

/// Values layers, `--set` and `values.schema.json` ([`crate::values`]).
pub mod values {
    pub use crate::values::{Layer, LayerKind, Values, ValuesSchema, parse_values_file};

    /// `--set` arguments.
    pub mod set {
        pub use crate::values::set::parse;
    }
}

/// Objects and their identity ([`crate::manifest`]).
pub mod manifest {
    pub use crate::manifest::{ResId, Resource, TemplateOrigin, expand_lists};
}

/// Templates ([`crate::render`]).
pub mod render {
    pub use crate::render::{Limits, ReadTracker, TargetContext, VersionEnv};

    /// Label and annotation values made strings.
    pub mod strings {
        pub use crate::render::strings::labels_and_annotations;
    }
}

/// Kustomize-compatible transforms ([`crate::patch`]).
pub mod patch {
    pub use crate::patch::{ApplyOptions, apply, load};

    /// Reading `kustomization.yaml`.
    pub mod kustomization {
        pub use crate::patch::kustomization::parse;
    }
}

/// Tracking labels and the inventory ([`crate::tracking`]).
pub mod tracking {
    pub use crate::tracking::{Tracking, inventory_line};
}

/// A compiled selection ([`crate::compiled`]).
pub mod compiled {
    pub use crate::compiled::Compiled;
}

/// The driver ([`crate::pipeline`]).
pub mod pipeline {
    pub use crate::pipeline::{Options, compile};
}

/// Apply order ([`crate::order`]).
pub mod order {
    pub use crate::order::{ComponentGraph, PhaseKind, plan};
}

/// Bundles ([`crate::bundle`]).
pub mod bundle {
    pub use crate::bundle::sha256_hex;
}

/// Diff reports ([`crate::diff`]).
pub mod diff {
    pub use crate::diff::{Status, Vocabulary};

    /// The text report.
    pub mod text {
        pub use crate::diff::text::render;
    }

    /// The markdown report.
    pub mod markdown {
        pub use crate::diff::markdown::render;
    }

    /// The json report.
    pub mod json {
        pub use crate::diff::json::{JsonOptions, render};
    }
}

/// Checks ([`crate::check`]).
pub mod check {
    pub use crate::check::{CheckConfig, CheckEnvironment, CheckOptions, KubeVersion, Report, Severity, run};

    /// Check reports.
    pub mod report {
        pub use crate::check::report::text;
    }

    /// CEL: CRD validation rules ([`crate::check::cel`]).
    pub mod cel {
        pub use crate::check::cel::Evaluator;
        pub use crate::check::cel::crd::{Failure, Outcome, evaluate_crd};
    }
}

/// Rollout risks ([`crate::rollout::risks`]).
pub mod rollout {
    pub use crate::rollout::risks::{Risk, RiskKind, of_objects};
}

/// Live diffs ([`crate::cluster`]).
pub mod cluster {
    pub use crate::cluster::{Cluster, LiveReport};

    /// The live diff of a compiled selection.
    pub mod live {
        pub use crate::cluster::live::{LiveOptions, diff};
    }

    /// Talking to a cluster.
    pub mod connect {
        pub use crate::cluster::connect::Forced;
    }
}
