//! Why each object sits where it does: the [`Reason`] recorded while sorting and its
//! explanation for `strata render --explain`.

use super::Placed;
use super::annotations;
use super::kinds::KindRank;
use super::phase::PhaseKind;
use super::sort::Key;
use crate::manifest::ResId;

/// Why an object sits where it does, relative to the object before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The first object of its phase: its wave and phase place it.
    PhaseStart,
    /// It names the object before it in its phase (or the last one it waited for)
    /// in `config.kubernetes.io/depends-on`.
    DependsOn(ResId),
    /// Its component depends on these components of the environment.
    Component { component: String, on: Vec<String> },
    /// Kind order: `before` kinds apply before `kind`.
    Kind { before: String, kind: String, rank: KindRank, before_rank: KindRank },
    /// Same kind: by group, then namespace, then name; says which one differed.
    Name { by: &'static str },
}

impl Placed<'_> {
    /// The rule that put the object here, as a phrase.
    pub fn explain(&self) -> String {
        match &self.reason {
            Reason::PhaseStart => match self.phase.kind {
                PhaseKind::Crds => {
                    format!("CustomResourceDefinitions apply first in {}, so their kinds exist", self.wave.describe())
                }
                PhaseKind::Namespaces => {
                    format!("Namespaces apply before the objects in them, in {}", self.wave.describe())
                }
                PhaseKind::Resources => format!("first in {}", self.wave.describe()),
                PhaseKind::Inventory => "the inventory applies after everything it lists".to_string(),
            },
            Reason::DependsOn(id) => format!("depends on `{id}` (`{}`)", annotations::DEPENDS_ON),
            Reason::Component { component, on } => {
                let on: Vec<String> = on.iter().map(|c| format!("`{c}`")).collect();
                format!("component `{component}` depends on {}", on.join(", "))
            }
            Reason::Kind { before, kind, rank, before_rank } => {
                let tier = match (before_rank, rank) {
                    (KindRank::Table(_), KindRank::Table(_)) => String::new(),
                    (a, b) if std::mem::discriminant(a) == std::mem::discriminant(b) => " (by name)".to_string(),
                    (_, b) => format!(" ({})", b.describe()),
                };
                format!("kind order: {before} before {kind}{tier}")
            }
            Reason::Name { by } => format!("same kind, by {by}"),
        }
    }
}

/// Why the object with key `b` follows the one with key `a`. `waited` is the
/// constraint released last before it (if any), `waited_for_prev` whether that was
/// a `depends-on` reference to the previous object itself.
pub(super) fn reason_for(
    a: &Key<'_>,
    b: &Key<'_>,
    waited_for_prev: bool,
    waited: Option<Reason>,
    by_depth: impl FnOnce() -> Reason,
) -> Reason {
    if waited_for_prev || a > b {
        // Out of key order only when held back: by construction the ready object
        // with the smallest key goes next.
        if let Some(r) = waited {
            return r;
        }
    }
    if a.depth != b.depth {
        // A deeper component always has a dependency in the environment.
        return by_depth();
    }
    if (a.rank, a.kind) != (b.rank, b.kind) {
        return Reason::Kind {
            before: a.kind.to_string(),
            kind: b.kind.to_string(),
            rank: b.rank,
            before_rank: a.rank,
        };
    }
    let by = if a.group != b.group {
        "group"
    } else if a.namespace != b.namespace {
        "namespace"
    } else {
        "name"
    };
    Reason::Name { by }
}
