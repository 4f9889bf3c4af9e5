//! Release engineering: carrying a change from one config version to another.
//!
//! - [`cherry_pick`] (option 1 of the seed, tags and release branches): commits
//!   picked onto a branch with a 3-way tree merge, through git objects only
//!   (work tree, index and `HEAD` untouched), then the rendered diff between the
//!   branch's old and new tip.
//! - [`port`] (option 2, version directories): the change a commit, a range or
//!   the uncommitted work made under `COMPONENT/A/` merged into `COMPONENT/B/`
//!   file by file, written all at once or not at all, with the rendered diff of
//!   every target that uses `B`.
//!
//! Both refuse to write anything when a merge conflicts or the result fails to
//! render. The one piece they share is reading conflict markers
//! ([`conflict_hunks`]), so that a conflict is reported as lines of the file the
//! user keeps (the branch's, or `B`'s).

pub mod cherry_pick;
pub mod port;

/// One conflicting hunk: the lines of *our* side (the branch, or version `B`)
/// it covers, 1-based and inclusive; `end < start` when our side has no lines
/// there (the hunk is an insertion after line `end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hunk {
    pub start: usize,
    pub end: usize,
}

/// The conflicting hunks of a merged text with conflict markers (as git's
/// merge and gix's blob merge write them, markers of 7 characters), in lines of
/// our side: common lines and our lines count, base and their lines do not.
pub fn conflict_hunks(merged: &[u8]) -> Vec<Hunk> {
    #[derive(PartialEq)]
    enum Part {
        Common,
        Ours,
        Base,
        Theirs,
    }
    let mut part = Part::Common;
    let mut ours_line = 0;
    let mut hunks = Vec::new();
    for line in merged.split(|b| *b == b'\n') {
        let marker = |m: &[u8]| line.starts_with(m) && matches!(line.get(7), None | Some(b' ') | Some(b'\r'));
        match part {
            Part::Common if marker(b"<<<<<<<") => {
                part = Part::Ours;
                hunks.push(Hunk { start: ours_line + 1, end: ours_line });
            }
            Part::Ours if marker(b"|||||||") => part = Part::Base,
            Part::Ours | Part::Base if marker(b"=======") => part = Part::Theirs,
            Part::Theirs if marker(b">>>>>>>") => part = Part::Common,
            Part::Common => ours_line += 1,
            Part::Ours => {
                ours_line += 1;
                if let Some(h) = hunks.last_mut() {
                    h.end = ours_line;
                }
            }
            Part::Base | Part::Theirs => {}
        }
    }
    hunks
}

/// `12`, `12-14`, or `after 11` for a hunk that only adds lines.
pub fn hunk_lines(h: &Hunk) -> String {
    if h.end < h.start {
        format!("after line {}", h.end)
    } else if h.end == h.start {
        format!("line {}", h.start)
    } else {
        format!("lines {}-{}", h.start, h.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_are_counted_in_our_lines() {
        let merged = "a\n<<<<<<< ours\nb\nc\n||||||| base\nx\n=======\nd\n>>>>>>> theirs\ne\n<<<<<<< ours\n=======\nf\n>>>>>>> theirs\n";
        let hunks = conflict_hunks(merged.as_bytes());
        assert_eq!(hunks, [Hunk { start: 2, end: 3 }, Hunk { start: 5, end: 4 }]);
        assert_eq!(hunk_lines(&hunks[0]), "lines 2-3");
        assert_eq!(hunk_lines(&hunks[1]), "after line 4");
        assert!(conflict_hunks(b"no markers\n<<<<<<<< eight\n").is_empty());
    }
}
