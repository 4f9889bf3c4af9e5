//! Every command example of the documentation runs: each ```` ```console ```` block of
//! `README.md` and `docs/**/*.md` is a transcript (`$ strata ARGS` lines, each followed by
//! its output), executed with the real binary and compared with what it prints.
//!
//! - A command runs from the project root (so `--repo example-repo` works), or, when the
//!   line before the block is `<!-- docs-example: fixture PATH -->`, in a temporary
//!   directory holding a copy of `PATH`: a `tests/cases/NAME` case with a `setup.sh` is
//!   built as `tests/cases.rs` builds it (its `repo/` copied, `setup.sh` run with pinned git
//!   dates and names; see `tests/cases/README.md`), any other directory is copied whole.
//!   The commands of one block share that directory.
//! - A command may end with `| tail -N`, `| head -N` (or `-n N`), and with a `# comment`.
//! - Output is stderr, then stdout (after the pipe): the commands that write both say
//!   what they do on stderr before the data (`promote`, `release cherry-pick`). A line
//!   `...` stands for any number of lines.
//!   Commit ids (7 to 40 hex digits), times (`0.12s`, `35ms`), dates and the temporary
//!   directory are redacted on both sides before comparing.
//! - Blocks that cannot run here (a cluster, a registry, a push) are ```` ```sh ````:
//!   commands only, no output.
//!
//! `STRATA_BLESS=1 cargo test --test docs_examples` rewrites the output of every example
//! that differs with what the binary printed.

mod support;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

/// One `$ strata …` line of a console block and the output under it.
#[derive(Debug, Clone)]
struct Example {
    /// 0-based index of the `$` line in the file.
    line: usize,
    command: String,
    /// The output lines, `line + 1 .. line + 1 + expected.len()` of the file.
    expected: Vec<String>,
    /// Index of the block in the file: the commands of one block share a directory.
    block: usize,
    fixture: Option<String>,
}

#[test]
fn every_console_example_prints_what_the_docs_show() {
    let root = support::project_root();
    let mut files = vec![PathBuf::from("README.md")];
    markdown_under(root, Path::new("docs"), &mut files);
    let bless = std::env::var("STRATA_BLESS").as_deref() == Ok("1");
    let mut failures = Vec::new();
    let mut ran = 0;
    for file in &files {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let examples = examples(file, &text).unwrap_or_else(|e| panic!("{e}"));
        let mut blessed: Vec<(Example, String)> = Vec::new();
        let mut dir: Option<(usize, Workdir)> = None;
        for ex in examples {
            if dir.as_ref().is_none_or(|(b, _)| *b != ex.block) {
                dir = Some((ex.block, Workdir::new(ex.fixture.as_deref())));
            }
            let work = &dir.as_ref().unwrap().1;
            let actual = work.run(&ex.command).unwrap_or_else(|e| panic!("{}:{}: {e}", file.display(), ex.line + 1));
            ran += 1;
            if !matches(&ex.expected, &actual.lines().map(String::from).collect::<Vec<_>>(), work.path()) {
                failures.push(format!(
                    "{}:{}: `$ {}` prints something else than the docs show.\n--- docs\n{}\n--- strata\n{}",
                    file.display(),
                    ex.line + 1,
                    ex.command,
                    ex.expected.join("\n"),
                    actual.trim_end()
                ));
                blessed.push((ex, actual));
            }
        }
        if bless && !blessed.is_empty() {
            std::fs::write(root.join(file), rewrite(&text, &blessed)).unwrap();
        }
    }
    assert!(ran >= 5, "only {ran} examples ran: are the console blocks still there?");
    assert!(
        failures.is_empty() || bless,
        "{}\n\n{} example(s) differ; `STRATA_BLESS=1 cargo test --test docs_examples` rewrites them",
        failures.join("\n\n"),
        failures.len()
    );
}

/// Breaking an example's output on purpose fails the comparison: one documented example,
/// run for real, with one output line changed.
#[test]
fn a_changed_output_line_fails() {
    let root = support::project_root();
    let text = std::fs::read_to_string(root.join("docs/reference/values-and-templates.md")).unwrap();
    let ex = examples(Path::new("docs/reference/values-and-templates.md"), &text).unwrap().remove(0);
    let work = Workdir::new(ex.fixture.as_deref());
    let actual: Vec<String> = work.run(&ex.command).unwrap().lines().map(String::from).collect();
    assert!(matches(&ex.expected, &actual, work.path()), "the example itself differs: {actual:?}");
    let i = ex.expected.iter().position(|l| l.trim() != "...").unwrap();
    let mut broken = ex.expected.clone();
    broken[i] = format!("{} changed", broken[i]);
    assert!(!matches(&broken, &actual, work.path()), "a changed line {} still matches", broken[i]);
    broken = ex.expected.clone();
    broken.push("a line strata does not print".to_string());
    assert!(!matches(&broken, &actual, work.path()));
}

#[test]
fn comparison_rules() {
    let lines = |s: &str| s.lines().map(String::from).collect::<Vec<_>>();
    let tmp = Path::new("/tmp/xyz");
    let cases: &[(&str, &str, bool)] = &[
        ("a\nb\n", "a\nb\n", true),
        ("a\nb\n", "a\nc\n", false),
        ("a\n...\nz\n", "a\nb\nc\nz\n", true),
        ("a\n...\nz\n", "a\nz\n", true),
        ("a\n  ...\nz\n", "a\nb\ny\n", false),
        ("a\n", "a\nb\n", false),
        ("...\nlast\n", "x\ny\nlast\n", true),
        ("from v1 (0123abc) done in 1.20s\n", "from v1 (9f8e7d6c5b4a) done in 35ms\n", true),
        ("2026-01-01T12:00:00Z\n", "2027-02-03T04:05:06Z\n", true),
        ("count 1234567\n", "count 7654321\n", false),
        ("HEAD~1 (802647091461)\n", "HEAD~1 (c5707f97039a)\n", true),
        ("wrote [TMP]/out\n", "wrote /tmp/xyz/out\n", true),
    ];
    for (expected, actual, want) in cases {
        assert_eq!(matches(&lines(expected), &lines(actual), tmp), *want, "{expected:?} vs {actual:?}");
    }
}

#[test]
fn transcripts_parse() {
    let text = "x\n<!-- docs-example: fixture tests/cases/git-diff-from-to -->\n```console\n\
        $ strata diff --repo repo --from v1 --stat | tail -n 2   # the summary\nline 1\n\nline 2\n\
        $ strata versions --repo repo\nv\n```\n\n```console\n$ strata render\n```\n";
    let got = examples(Path::new("t.md"), text).unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].command, "strata diff --repo repo --from v1 --stat | tail -n 2   # the summary");
    assert_eq!(got[0].expected, ["line 1", "", "line 2"]);
    assert_eq!(got[0].fixture.as_deref(), Some("tests/cases/git-diff-from-to"));
    assert_eq!((got[1].block, got[1].line, got[1].expected.len()), (0, 7, 1));
    assert_eq!((got[2].block, got[2].fixture.as_deref()), (1, None));
    assert_eq!(words("strata a 'b c' \"d\" # x | y").unwrap(), ["strata", "a", "b c", "d"]);
    assert_eq!(pipeline("strata x | head -3").unwrap().1, [Filter::Head(3)]);
    assert_eq!(
        pipeline("strata x '#a' | tail -1  # it's | not a pipe").unwrap(),
        (vec!["x".into(), "#a".into()], vec![Filter::Tail(1)])
    );
    assert!(examples(Path::new("t.md"), "```console\n$ git log\n```\n").is_err());
    assert!(pipeline("strata x | grep y").is_err());
    let rewritten = rewrite(text, &[(got[1].clone(), "new\nlines\n".to_string())]);
    assert!(rewritten.contains("$ strata versions --repo repo\nnew\nlines\n```"), "{rewritten}");
}

fn markdown_under(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(root.join(dir)).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let rel = path.strip_prefix(root).unwrap().to_path_buf();
        if path.is_dir() {
            markdown_under(root, &rel, out);
        } else if rel.extension().is_some_and(|x| x == "md") {
            out.push(rel);
        }
    }
}

/// The examples of a Markdown file's console blocks, or an error naming the line of a
/// block that is not a strata transcript.
fn examples(file: &Path, text: &str) -> Result<Vec<Example>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<Example> = Vec::new();
    let (mut i, mut block) = (0, 0);
    while i < lines.len() {
        if lines[i].trim_end() != "```console" {
            i += 1;
            continue;
        }
        let previous = lines[..i].iter().rev().find(|l| !l.trim().is_empty());
        let fixture = previous
            .and_then(|l| l.trim().strip_prefix("<!-- docs-example: fixture "))
            .and_then(|l| l.strip_suffix("-->"))
            .map(|p| p.trim().to_string());
        i += 1;
        while i < lines.len() && !lines[i].starts_with("```") {
            let Some(command) = lines[i].strip_prefix("$ ") else {
                return Err(format!("{}:{}: output before any `$ strata` line", file.display(), i + 1));
            };
            if !command.starts_with("strata ") {
                return Err(format!(
                    "{}:{}: a console block runs strata only; show `{command}` in a ```sh block",
                    file.display(),
                    i + 1
                ));
            }
            let line = i;
            i += 1;
            let start = i;
            while i < lines.len() && !lines[i].starts_with("```") && !lines[i].starts_with("$ ") {
                i += 1;
            }
            let expected = lines[start..i].iter().map(|l| l.to_string()).collect();
            let command = command.to_string();
            out.push(Example { line, command, expected, block, fixture: fixture.clone() });
        }
        block += 1;
        i += 1;
    }
    Ok(out)
}

/// `text` with the output of each example replaced by the matching actual output.
fn rewrite(text: &str, blessed: &[(Example, String)]) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut sorted: Vec<&(Example, String)> = blessed.iter().collect();
    sorted.sort_by_key(|(ex, _)| std::cmp::Reverse(ex.line));
    for (ex, actual) in sorted {
        let start = ex.line + 1;
        let new: Vec<String> = actual.trim_end().lines().map(String::from).collect();
        lines.splice(start..start + ex.expected.len(), new);
    }
    lines.join("\n") + "\n"
}

#[derive(Debug, PartialEq)]
enum Filter {
    Head(usize),
    Tail(usize),
}

/// `strata ARGS | tail -N ... # comment` → the arguments after `strata` and the filters.
fn pipeline(command: &str) -> Result<(Vec<String>, Vec<Filter>), String> {
    let mut stages = without_comment(command).split(" | ");
    let args = words(stages.next().unwrap())?;
    let mut filters = Vec::new();
    for stage in stages {
        let w = words(stage)?;
        let n = match w.as_slice() {
            [_, n] => n.strip_prefix('-').and_then(|n| n.parse().ok()),
            [_, flag, n] if flag == "-n" => n.parse().ok(),
            _ => None,
        };
        filters.push(match (w.first().map(String::as_str), n) {
            (Some("head"), Some(n)) => Filter::Head(n),
            (Some("tail"), Some(n)) => Filter::Tail(n),
            _ => return Err(format!("`| {stage}`: only `| head -N` and `| tail -N` are supported")),
        });
    }
    Ok((args[1..].to_vec(), filters))
}

/// `command` up to a `#` that starts a word outside quotes (a shell comment).
fn without_comment(command: &str) -> &str {
    let (mut quote, mut previous) = (None, ' ');
    for (i, c) in command.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '#') if previous.is_whitespace() => return command[..i].trim_end(),
            _ => {}
        }
        previous = c;
    }
    command
}

/// Shell words with `'…'` and `"…"` quoting, up to a `#` that starts a word.
fn words(text: &str) -> Result<Vec<String>, String> {
    let (mut out, mut word, mut quote, mut started) = (Vec::new(), String::new(), None, false);
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => (quote, started) = (Some(c), true),
            (None, '#') if !started => break,
            (None, c) if c.is_whitespace() => {
                if started {
                    out.push(std::mem::take(&mut word));
                }
                started = false;
            }
            (None, c) => {
                started = true;
                word.push(c);
            }
        }
    }
    if quote.is_some() {
        return Err(format!("unclosed quote in `{text}`"));
    }
    if started {
        out.push(word);
    }
    Ok(out)
}

/// Where the commands of one block run: the project root, or a temporary fixture copy.
struct Workdir {
    temp: Option<tempfile::TempDir>,
    git: bool,
}

impl Workdir {
    fn new(fixture: Option<&str>) -> Workdir {
        let Some(fixture) = fixture else { return Workdir { temp: None, git: false } };
        let root = support::project_root();
        let temp = tempfile::tempdir().unwrap();
        let mut case = root.join(fixture);
        assert!(case.is_dir(), "fixture {fixture} is not a directory");
        if let Ok(history) = std::fs::read_to_string(case.join("history")) {
            case = case.parent().unwrap().join(history.trim());
        }
        let git = case.join("setup.sh").is_file();
        if git {
            if case.join("repo").is_dir() {
                support::copy_tree(&case.join("repo"), &temp.path().join("repo"));
            }
            let out = std::process::Command::new("sh")
                .arg("-eu")
                .arg(case.join("setup.sh"))
                .current_dir(temp.path())
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", temp.path())
                .env("LANG", "C")
                .env("CASE", &case)
                .envs(support::GIT_ENV.iter().copied())
                .output()
                .unwrap();
            assert!(out.status.success(), "{fixture}/setup.sh: {}", String::from_utf8_lossy(&out.stderr));
        } else {
            support::copy_tree(&case, temp.path());
        }
        Workdir { temp: Some(temp), git }
    }

    fn path(&self) -> &Path {
        self.temp.as_ref().map_or(support::project_root(), |t| t.path())
    }

    /// Runs one command line; its output as the docs show it (stderr, then stdout).
    fn run(&self, command: &str) -> Result<String, String> {
        let (args, filters) = pipeline(command)?;
        let mut strata = support::Strata::in_dir(self.path());
        if self.git {
            strata = support::GIT_ENV.iter().fold(strata, |s, (k, v)| s.env(k, v));
        }
        let out = strata.run(&args);
        match out.status.code() {
            Some(0..=2) => {}
            other => {
                return Err(format!("`{command}` exited with {other:?}: {}", String::from_utf8_lossy(&out.stderr)));
            }
        }
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut lines: Vec<&str> = stdout.lines().collect();
        for filter in filters {
            lines = match filter {
                Filter::Head(n) => lines.into_iter().take(n).collect(),
                Filter::Tail(n) => lines.split_off(lines.len().saturating_sub(n)),
            };
        }
        let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
        text.extend(lines.iter().map(|l| format!("{l}\n")));
        if let Some(t) = &self.temp {
            text = text.replace(&t.path().display().to_string(), "[TMP]");
        }
        Ok(text)
    }
}

static COMMIT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b[0-9a-f]{7,40}\b").unwrap());
static TIME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b\d+(\.\d+)?\s?(ms|µs|us|s)\b").unwrap());
static DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})?)?").unwrap());

/// A line with commit ids, times, dates and the temporary directory redacted.
fn redact(line: &str, tmp: &Path) -> String {
    let line = line.replace(&tmp.display().to_string(), "[TMP]");
    let line = COMMIT.replace_all(&line, |c: &regex::Captures| {
        let id = &c[0];
        // Digits alone are a number (`1000000`) unless as long as an abbreviated id;
        // letters alone are a word (`defaced`).
        let digits = id.bytes().any(|b| b.is_ascii_digit());
        let id_like = digits && (id.len() >= 12 || id.bytes().any(|b| b.is_ascii_alphabetic()));
        if id_like { "[COMMIT]".to_string() } else { id.to_string() }
    });
    let line = DATE.replace_all(&line, "[DATE]");
    TIME.replace_all(&line, "[TIME]").trim_end().to_string()
}

/// Whether `actual` is what `expected` shows: line by line after [`redact`], a line `...`
/// standing for any number of lines, trailing empty lines ignored.
fn matches(expected: &[String], actual: &[String], tmp: &Path) -> bool {
    let trim = |v: &[String]| -> Vec<String> {
        let mut v: Vec<String> = v.iter().map(|l| redact(l, tmp)).collect();
        while v.last().is_some_and(|l| l.is_empty()) {
            v.pop();
        }
        v
    };
    let (e, a) = (trim(expected), trim(actual));
    // reach[j]: the first i expected lines can match the first j actual lines.
    let mut reach = vec![false; a.len() + 1];
    reach[0] = true;
    for line in &e {
        let mut next = vec![false; a.len() + 1];
        if line.trim() == "..." {
            let mut any = false;
            for j in 0..=a.len() {
                any |= reach[j];
                next[j] = any;
            }
        } else {
            for j in 1..=a.len() {
                next[j] = reach[j - 1] && a[j - 1] == *line;
            }
        }
        reach = next;
    }
    reach[a.len()]
}
