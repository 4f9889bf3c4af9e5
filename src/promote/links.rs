//! A target's `templates` link: read in its form, rewritten in the same form.
//!
//! A link is a relative symbolic link (`templates -> ../v2`) or a link file whose
//! one line is the relative path (`../v2`, for checkouts without symbolic
//! links; read by [`crate::repo::link`]). [`Link::repoint`] keeps the form and the style: a symlink stays a
//! symlink, a link file keeps everything around its path (a final newline, say),
//! and a path written with a leading `./` keeps it.

use crate::diag::Diagnostic;
use crate::repo::{TEMPLATES_LINK, Target, link};
use crate::source::{self, EntryKind, Fs};

/// How a `templates` link is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkForm {
    Symlink,
    File,
}

/// A target's `templates` link as it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Repository-relative path of the link (`frontend/eastus/templates`).
    pub path: String,
    pub form: LinkForm,
    /// The symlink's target, or the link file's whole text.
    pub raw: String,
}

impl Link {
    /// Reads the link of `target`.
    pub fn read(fs: &Fs, target: &Target) -> Result<Link, Diagnostic> {
        let path = source::join(&target.dir, TEMPLATES_LINK);
        match fs.entry_kind(&path)? {
            Some(EntryKind::Link) => Ok(Link { raw: fs.read_link(&path)?, path, form: LinkForm::Symlink }),
            Some(EntryKind::File) => {
                let raw = fs.read_string(&path)?;
                link::file_path(&path, &raw)?;
                Ok(Link { raw, path, form: LinkForm::File })
            }
            Some(EntryKind::Dir) => Err(Diagnostic::error(format!("`{path}` is a directory, not a link"))
                .at(path)
                .hint("make it a relative symbolic link or a one-line link file naming the version")),
            None => Err(Diagnostic::error(format!("`{path}` does not exist")).at(path)),
        }
    }

    /// The relative path the link holds (a link file's one line, trimmed:
    /// [`link::file_line`]).
    pub fn relative(&self) -> &str {
        match self.form {
            LinkForm::Symlink => &self.raw,
            LinkForm::File => link::file_line(&self.raw).unwrap_or(""),
        }
    }

    /// The same link pointing at `version_dir` (repository-relative) from
    /// `target_dir`, in the same form and style.
    pub fn repoint(&self, target_dir: &str, version_dir: &str) -> Link {
        let mut rel = source::relative_to(version_dir, target_dir);
        if self.relative().starts_with("./") && !rel.starts_with("..") {
            rel = format!("./{rel}");
        }
        let raw = match self.form {
            LinkForm::Symlink => rel,
            LinkForm::File if self.relative().is_empty() => format!("{rel}\n"),
            LinkForm::File => self.raw.replacen(self.relative(), &rel, 1),
        };
        Link { path: self.path.clone(), form: self.form, raw }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::Repo;
    use crate::source::MemorySource;
    use std::sync::Arc;

    #[test]
    fn repoint_keeps_form_and_style() {
        let fs = Fs::new(Arc::new(MemorySource::from_entries(&[
            ("a/v1/x", ""),
            ("a/v2/x", ""),
            ("a/east/templates", "-> ../v1"),
            ("a/prod/west/templates", "  ../../v1\n"),
        ])));
        let repo = Repo::load(fs.clone()).unwrap();
        let t = |env: &str| repo.targets().find(|t| t.environment == env).unwrap().clone();
        let east = Link::read(&fs, &t("east")).unwrap();
        assert_eq!((east.form, east.raw.as_str()), (LinkForm::Symlink, "../v1"));
        assert_eq!(east.repoint("a/east", "a/v2").raw, "../v2");
        let west = Link::read(&fs, &t("prod/west")).unwrap();
        assert_eq!(west.form, LinkForm::File);
        assert_eq!(west.repoint("a/prod/west", "a/v2").raw, "  ../../v2\n");
        let odd = Link { path: "a/x/templates".into(), form: LinkForm::File, raw: "./v1\n".into() };
        assert_eq!(odd.repoint("a/x", "a/x/v2").raw, "./v2\n");
    }
}
