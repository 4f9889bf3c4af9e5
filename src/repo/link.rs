//! A target's `templates` link file: for checkouts without symbolic links, a
//! regular file whose one non-blank line is the relative path of the target's
//! version directory (`../v2`). The one parser of that format: [`Repo`] reads
//! targets with it and `promote` rewrites links with it.
//!
//! [`Repo`]: super::Repo

use crate::diag::Diagnostic;

/// The one non-blank line of a link file, trimmed; `None` when the text holds
/// none or several.
pub fn file_line(text: &str) -> Option<&str> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next()?;
    lines.next().is_none().then_some(first)
}

/// The relative path the link file at `link_path` holds, or an error at the
/// link file saying what a link file must hold.
pub fn file_path<'t>(link_path: &str, text: &'t str) -> Result<&'t str, Diagnostic> {
    let Some(rel) = file_line(text) else {
        return Err(Diagnostic::error(format!(
            "`{link_path}` is a link file and must hold exactly one line, the relative path of a version"
        ))
        .at(link_path)
        .hint("write e.g. `../v2`, or make it a symbolic link"));
    };
    if rel.starts_with('/') || rel.contains('\\') {
        return Err(Diagnostic::error(format!("`{link_path}` must hold a relative path with `/`, found `{rel}`"))
            .at_pos(link_path, 1, 1));
    }
    Ok(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_relative_line() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("../v2", Ok("../v2")),
            ("  ../../v1\n\n", Ok("../../v1")),
            ("\n./v1\r\n", Ok("./v1")),
            ("", Err("must hold exactly one line")),
            ("../v1\n../v2\n", Err("must hold exactly one line")),
            ("/abs/v1\n", Err("must hold a relative path with `/`, found `/abs/v1`")),
            ("..\\v1\n", Err("must hold a relative path")),
        ];
        for (text, want) in cases {
            match (file_path("a/e/templates", text), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, *want, "{text:?}"),
                (Err(d), Err(want)) => {
                    assert!(d.message.contains(want), "{text:?}: {}", d.message);
                    assert_eq!(d.path.as_deref(), Some("a/e/templates"));
                }
                (got, _) => panic!("{text:?}: {got:?}"),
            }
        }
    }
}
