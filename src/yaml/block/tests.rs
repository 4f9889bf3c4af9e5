//! The block reader against `yaml_serde`: examples and properties.

use super::*;
use crate::yaml;
use proptest::prelude::*;
use serde_json::Number;

/// The fast path either declines or agrees with `yaml_serde`.
fn agrees(text: &str) -> Result<bool, String> {
    let slow = yaml::parse_documents_slow(text);
    match parse_stream(text) {
        None => Ok(false),
        Some(fast) => match slow {
            Ok(s) if s == fast => Ok(true),
            Ok(s) => Err(format!("fast {fast:?}\nslow {s:?}\ntext {text:?}")),
            Err(e) => Err(format!("fast {fast:?}\nslow error {e}\ntext {text:?}")),
        },
    }
}

/// (text, whether the fast path must read it rather than decline)
const CASES: &[(&str, bool)] = &[
    ("", true),
    ("\n", true),
    ("# only a comment\n", true),
    ("---\n", true),
    ("---\n---\n", true),
    ("a: 1\n---\n", true),
    ("# c\n---\na: 1\n", true),
    ("a: 1\n---\n# only\n---\nb: 2", true),
    ("--- # c\na: 1\n", true),
    ("a: 1\nb:\n  c: [x, 'y', \"z\"]\n  d: {e: 1, f: [g]}\n", true),
    ("k: [a, b,]\nl: []\nm: {}\n", true),
    ("a:\n- 1\n- 2\nb: 3\n", true),
    ("a:\n  - x: 1\n    y: 2\n  -   z: 3\n      w: 4\n  -\n    v: 5\n  -\n", true),
    ("- a\n- - b\n  - c\n", true),
    ("- a\n -b\n", false),
    ("a: |\n  x\n\n\nb: 1\n", true),
    ("a: |+\n  x\n\n\nb: 1\n", true),
    ("a: |-\n  x\n  \n", true),
    ("a: |+\n  x\n\n# c\nb: 1\n", true),
    ("a: |+\n  x\n\n  # c\nb: 1\n", true),
    ("a: |\n  x\n   \nb: 1\n", true),
    ("a: |\n\n  x\n    y\n  z\n", true),
    ("a: |2\n   x\n", true),
    ("a: |-2\n   x\n", true),
    ("- |2\n   x\n", true),
    ("a:\n- |2\n   x\n", true),
    ("a: |\n  no final newline", true),
    ("a: |+\n  x\n\n", true),
    ("a: |\n  x\n \t\n", false),
    ("a: 1\n\t\n", false),
    ("-x: 1\n?y: 2\n:z: 3\n", true),
    ("a: |\nb: 1\n", false),
    ("a: |\n    x\n  y\n", false),
    ("a: >\n  folded\n", false),
    ("a: 012\nb: 0x1F\nc: 1e3\nd: +1\ne: .5\nf: 1_000\ng: -0\nh: 0.0\ni: 1.\nj: 9223372036854775808\n", true),
    ("a: -0x10\nb: 0o17\nc: 0b101\nd: 1e400\ne: 00\nf: -01\ng: +.5\nh: 1e\ni: Infinity\nj: +-1\nk: 0x\n", true),
    ("a: ~\nb: Null\nc: NULL\nd: True\ne: FALSE\nf: yes\ng: On\nh: 2024-01-01\ni: --\nj: -v\nk: :x\nl: ?x\n", true),
    ("a: .inf\n", false),
    ("a: .NaN\n", false),
    ("a: 99999999999999999999\n", false),
    ("a: -99999999999999999999\n", false),
    ("a: \"\\x41\\u00e9\\N\\t\\\\\\\"\"\nb: 'it''s'\nc: \"\"\nd: ''\n", true),
    ("a: \"\\q\"\n", false),
    ("a: x\t# c\nb:\tc\n", true),
    ("a: x # c\nb: x#y\nc: http://x:80/p?q=1#f\nd: a: b\n", false),
    ("a: x # c\nb: x#y\nc: http://x:80/p?q=1#f\n", true),
    ("a: b\n  c\n", false),
    ("a: 'multi\n  line'\n", false),
    ("a: [x,\n  y]\n", false),
    ("a: &x 1\nb: *x\n", false),
    ("a: !!str 1\n", false),
    ("? a\n: b\n", false),
    ("a: 1\na: 2\n", false),
    ("1: a\n", false),
    ("null: a\n", false),
    ("\"quoted key\": 1\n'k:2': x\n", true),
    ("a b: c d\n", true),
    ("a:b: c\n", true),
    ("%YAML 1.2\n---\na: 1\n", false),
    ("a: 1\n...\n", false),
    ("a: 1\r\nb: 2\r\n", false),
    ("a:\n\t- 1\n", false),
    ("  a: 1\n  b: 2\n", true),
    ("  a: 1\nb: 2\n", false),
    ("a:\n  b: 1\n c: 2\n", false),
    ("- a\nb: 1\n", false),
    ("a: 1\n- b\n", false),
    ("just a scalar\n", false),
    ("a: [a: 1]\n", false),
    ("a: {b}\n", false),
    ("a: [-1, -x, \"q\"]\n", true),
    ("a: [-x, b]\n", true),
    ("a: - b\n", false),
    ("a: -\n", false),
    ("k: [a, b] extra\n", false),
    ("a: 'x' # c\nb: \"y\"   \n", true),
    ("a: 'x' y\n", false),
    ("a: \u{7f}\n", false),
    ("a: é日本\n", true),
    ("a: \u{85}x\n", false),
    // Found by `cargo fuzz` (block_yaml): `:?` inside a flow scalar is an error to libyaml.
    ("- {name: A, value::?x: a}\n", false),
    ("k: [a:?b]\n", false),
    ("k: [a:[b]]\n", false),
];

#[test]
fn reads_block_yaml_like_yaml_serde() {
    let mut wrong = Vec::new();
    let samples = SAMPLES.iter().map(|s| (*s, true));
    for (text, read) in CASES.iter().copied().chain(samples) {
        match agrees(text) {
            Err(e) => wrong.push(e),
            Ok(r) if r != read => wrong.push(format!("{text:?}: fast path {} it", if r { "read" } else { "declined" })),
            Ok(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

const SAMPLES: &[&str] = &[
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web # the name\n  labels:\n    app: web\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: app\n          image: \"nginx:1.25\"\n          args: [\"--port=80\", -v]\n          ports:\n            - containerPort: 80\n          resources: {}\n",
    "data:\n  conf: |\n    line one\n      indented\n\n    # not a comment\n    last\n  keep: |+\n    a\n\n  strip: |-\n    b\n  two: |2\n      c\nnext: 'it''s'\n",
    "list:\n- a\n- b: 1\n  c: [x, {y: z}]\n-\n  - nested\n  - 0x1F\nafter: ~\n---\n# second\nk: \"esc\\t\\u00e9\"\n",
    "a:\n  b:\n    c: 1.5e3\n  d: -012\n  e: true\n  'f g': null\n  h: 'x: y'\n  i: http://x:80/#frag\n",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "a",
            "name",
            "on",
            "y",
            "null",
            "~",
            "True",
            "012",
            "0x1F",
            "1_000",
            "1e3",
            "-1",
            "+1",
            ".5",
            ".inf",
            "1:20",
            "a b",
            "-",
            "-x",
            "?x",
            ":x",
            "a: b",
            "a #b",
            "#x",
            "&a",
            "*a",
            "!t",
            "|",
            ">",
            "'",
            "\"",
            "[a]",
            "{a}",
            "a,b",
            "---",
            "...",
            "é",
            "\u{85}",
            "a\tb",
            " a",
            "a ",
            "",
            "it's",
            "say \"hi\"",
        ])
        .prop_map(String::from),
        "[a-z0-9:#\\- .'\"\\[\\]{},|>&*!]{0,8}",
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        (-1e6f64..1e6).prop_map(|f| Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        word().prop_map(Value::String),
        prop::collection::vec(word(), 1..4).prop_map(|ls| Value::String(ls.join("\n"))),
        prop::collection::vec(word(), 1..4).prop_map(|ls| Value::String(ls.join("\n") + "\n\n")),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((word(), inner), 0..4).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn document() -> impl Strategy<Value = Value> {
    prop::collection::vec((word(), value()), 1..5).prop_map(|kv| Value::Object(kv.into_iter().collect()))
}

/// Small edits that turn valid YAML into the cases parsers get wrong.
fn mutate(text: &str, edits: &[(usize, usize)]) -> String {
    const INSERTS: &[&str] = &[
        " ", "  ", ":", ": ", "#", " #", "-", "- ", "\n", "\n  ", "'", "\"", "|", "|-", "|+", "|2", ">", "[", "]", "{",
        "}", ",", "\t", "---\n", "&a ", "*a", "!t ", "? ", "\\", "x", "\n- ", "0", ".",
    ];
    let mut s = text.to_string();
    for &(at, what) in edits {
        let mut at = at % (s.len() + 1);
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        if what % 5 == 0 && at < s.len() {
            let mut end = at + 1;
            while !s.is_char_boundary(end) {
                end += 1;
            }
            s.replace_range(at..end, "");
        } else {
            s.insert_str(at, INSERTS[what % INSERTS.len()]);
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("BLOCK_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2000), ..ProptestConfig::default() })]

    /// strata's own output is always read by the fast path, correctly.
    #[test]
    fn reads_what_strata_emits(docs in prop::collection::vec(document(), 1..4)) {
        let mut text = String::new();
        for d in &docs {
            text.push_str("---\n");
            yaml::write_document(&mut text, d);
        }
        let fast = parse_stream(&text);
        prop_assert_eq!(fast.as_ref(), Some(&docs), "text:\n{}", text);
    }

    /// Whatever yaml_serde's emitter writes, the fast path reads the same or declines.
    #[test]
    fn agrees_on_yaml_serde_output(doc in document()) {
        let text = serde_yaml::to_string(&doc).expect("emits");
        agrees(&text).map_err(TestCaseError::fail)?;
    }

    /// Mutated hand-written YAML (flow collections, comments, literal blocks,
    /// sequences at their key's indentation, quoting): the same promise.
    #[test]
    fn agrees_or_declines_on_mutated_samples(i in 0..SAMPLES.len(), edits in prop::collection::vec((any::<usize>(), any::<usize>()), 1..4)) {
        let text = mutate(SAMPLES[i], &edits);
        agrees(&text).map_err(TestCaseError::fail)?;
    }

    /// Mutated documents: any value the fast path returns is yaml_serde's.
    #[test]
    fn agrees_or_declines_on_mutations(doc in document(), edits in prop::collection::vec((any::<usize>(), any::<usize>()), 1..4)) {
        let text = mutate(&yaml::to_string(&doc), &edits);
        agrees(&text).map_err(TestCaseError::fail)?;
    }
}
