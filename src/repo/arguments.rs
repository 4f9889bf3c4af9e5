//! Names given on the command line that become paths in the repository: a
//! component (`frontend`), a version (`v2`), an environment (`prod/westus`).
//!
//! In: the argument's kind, the flag it came from (for the message) and its text.
//! Out: the name without trailing `/` (shell completion adds one), or an error
//! (exit 2) naming the argument and saying how to fix it. Every command checks
//! such arguments here before it joins them to a path, so that none can name
//! something outside the repository root: no `..` or `.`, no absolute path, no
//! `\`, no `/` where one directory name is expected, no empty part. Links are
//! the other way out: paths built from checked names are still resolved through
//! [`crate::source::Fs`], which refuses a link that leaves the root.

use crate::diag::Diagnostic;

/// What a command-line argument names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A top-level directory: one name.
    Component,
    /// A version directory inside a component: one name.
    Version,
    /// An environment: names separated by `/` (`prod/westus`).
    Environment,
}

impl NameKind {
    fn noun(self) -> &'static str {
        match self {
            NameKind::Component => "component",
            NameKind::Version => "version",
            NameKind::Environment => "environment",
        }
    }

    fn shape(self) -> &'static str {
        match self {
            NameKind::Component => "one directory name at the repository root",
            NameKind::Version => "one directory name inside its component",
            NameKind::Environment => "one or more directory names separated by `/`",
        }
    }

    fn example(self) -> &'static str {
        match self {
            NameKind::Component => "frontend",
            NameKind::Version => "v2",
            NameKind::Environment => "prod/westus",
        }
    }
}

/// Checks `value`, given as `argument` (`--to-version`, `COMPONENT`), and
/// returns it without trailing `/`.
pub fn check_name<'a>(kind: NameKind, argument: &str, value: &'a str) -> Result<&'a str, Diagnostic> {
    let name = value.trim_end_matches('/');
    let windows_drive = cfg!(windows) && name.get(1..2) == Some(":");
    let parts = || {
        name.split('/').find_map(|part| match part {
            "" => Some("it has an empty part (`//`)".to_string()),
            "." | ".." => Some(format!("it contains `{part}`")),
            _ => None,
        })
    };
    let problem = if name.is_empty() {
        Some("it is empty".to_string())
    } else if name.starts_with('/') || windows_drive {
        Some("it is an absolute path".to_string())
    } else if name.contains('\\') {
        Some("it contains `\\`".to_string())
    } else if name.chars().any(char::is_control) {
        Some("it contains a control character".to_string())
    } else if let Some(problem) = parts() {
        Some(problem)
    } else if kind != NameKind::Environment && name.contains('/') {
        Some("it contains `/`".to_string())
    } else {
        None
    };
    match problem {
        None => Ok(name),
        Some(problem) => Err(Diagnostic::error(format!("invalid `{argument}` value `{value}`: {problem}"))
            .note(format!(
                "a {} is {}; strata never reads or writes outside the repository root",
                kind.noun(),
                kind.shape()
            ))
            .hint(format!(
                "give the {}'s name as it appears in the repository, for example `{}`",
                kind.noun(),
                kind.example()
            ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_leave_the_root_are_refused() {
        use NameKind::*;
        for (kind, value, ok) in [
            (Version, "v2", Some("v2")),
            (Version, "v2/", Some("v2")),
            (Version, "2.1.0", Some("2.1.0")),
            (Component, "my app", Some("my app")),
            (Environment, "prod/westus", Some("prod/westus")),
            (Environment, "prod/westus/", Some("prod/westus")),
            (Version, "../../x", None),
            (Version, "..", None),
            (Version, ".", None),
            (Version, "", None),
            (Version, "/", None),
            (Version, "a/b", None),
            (Component, "/etc", None),
            (Component, "a\\..\\b", None),
            (Component, "a\nb", None),
            (Environment, "prod/../../x", None),
            (Environment, "prod//westus", None),
            (Environment, "/prod", None),
        ] {
            assert_eq!(check_name(kind, "--x", value).ok(), ok, "{kind:?} {value:?}");
        }
        let e = check_name(Version, "--to-version", "../../x").unwrap_err();
        assert_eq!(e.message, "invalid `--to-version` value `../../x`: it contains `..`");
        assert!(e.hints[0].contains("`v2`"), "{:?}", e.hints);
    }
}
