//! Rule 2, the phase inside a wave: CustomResourceDefinitions, then Namespaces, then
//! everything else, each a phase of its own so that a deploy script can wait between them.

use super::kinds;
use crate::manifest::Resource;

/// What a phase holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhaseKind {
    Crds,
    Namespaces,
    Resources,
    /// The environment's inventory (`tracking.inventory`), after everything in the bundle.
    Inventory,
}

impl PhaseKind {
    /// The phase an object belongs to inside its wave.
    pub fn of(resource: &Resource) -> PhaseKind {
        if kinds::is_crd(resource) {
            PhaseKind::Crds
        } else if kinds::is_namespace(resource) {
            PhaseKind::Namespaces
        } else {
            PhaseKind::Resources
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PhaseKind::Crds => "crds",
            PhaseKind::Namespaces => "namespaces",
            PhaseKind::Resources => "resources",
            PhaseKind::Inventory => "inventory",
        }
    }
}

/// A group of objects applied together; a deploy script may wait between phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Phase {
    pub wave: i64,
    pub kind: PhaseKind,
}

impl Phase {
    /// `wave-0-crds`, `wave-minus-1-resources`: the descriptive part of a bundle file name.
    pub fn slug(&self) -> String {
        let wave = if self.wave < 0 { format!("minus-{}", self.wave.unsigned_abs()) } else { self.wave.to_string() };
        format!("wave-{wave}-{}", self.kind.name())
    }

    /// `wave 0: CustomResourceDefinitions`.
    pub fn describe(&self) -> String {
        let what = match self.kind {
            PhaseKind::Crds => "CustomResourceDefinitions",
            PhaseKind::Namespaces => "Namespaces",
            PhaseKind::Resources => "resources",
            PhaseKind::Inventory => "the inventory",
        };
        format!("wave {}: {what}", self.wave)
    }
}
