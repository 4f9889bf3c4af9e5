//! The cluster edge: comparing renders with a running Kubernetes cluster.
//!
//! In: a [`crate::compiled::Compiled`] render, a kubeconfig and context. Out: a
//! [`report::LiveReport`] of what applying each environment's bundle would
//! create, update, leave unchanged, prune, or conflict on.
//!
//! The network lives in [`connect`] (kube-rs client) and [`request`] (the
//! requests, behind a read-only guard); the decisions are pure functions:
//! [`discovery::resolve`], [`normalize`], [`crate::tracking`] (labels), and the comparison in
//! [`live`]. Invariant: strata never changes a cluster — every request is a
//! `GET` or carries `dryRun=All` ([`request::check_read_only`]).

pub mod connect;
pub mod discovery;
pub mod live;
pub mod normalize;
pub mod report;
pub mod request;

pub use connect::{Cluster, KubeOptions};
pub use live::LiveOptions;
pub use report::LiveReport;
