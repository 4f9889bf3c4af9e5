//! Property: whatever strata emits, a YAML reader gets back the same value.
//! Strings are drawn from characters that make YAML emitters fail: indicators,
//! quotes, colons, hashes, newlines, tabs, control characters, unicode spaces,
//! and the YAML 1.1 words (`on`, `y`, `012`, `1_000`, `2024-01-01`, ...).

use proptest::prelude::*;
use serde_json::{Map, Value};
use strata::facade::yaml;

fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "on",
            "off",
            "y",
            "n",
            "yes",
            "No",
            "TRUE",
            "null",
            "~",
            "012",
            "0x1F",
            "0o17",
            "1_000",
            "1e3",
            "-1",
            "+1",
            ".5",
            "1.",
            ".inf",
            "-.Inf",
            ".NaN",
            "1:20",
            "2024-01-01",
            "2024-01-01T10:00:00Z",
            "=",
            "<<",
            "",
            " ",
            "-",
            "- a",
            "? a",
            ": a",
            "a: b",
            "a #b",
            "#x",
            "&a",
            "*a",
            "!t",
            "|",
            ">",
            "%",
            "@",
            "`",
            "'",
            "\"",
            "[a]",
            "{a}",
            "a,b",
            "---",
            "...",
            "a\n",
            "\n",
            "\n\n",
            " a\nb",
            "a\n b\n\n",
            "a\r\nb",
            "\t",
            "a\tb",
            "\u{85}",
            "\u{2028}",
            "\u{feff}x",
            "é",
            "日本",
        ])
        .prop_map(String::from),
        "[ -~\\t\\n\\r\\u{80}-\\u{2030}]{0,12}",
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        (-1e6f64..1e6).prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        tricky_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((tricky_string(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn emit_then_parse_is_identity(v in value()) {
        let text = yaml::to_string(&v);
        let back = yaml::parse_one(&text).map_err(|e| TestCaseError::fail(format!("{e}\n---\n{text}")))?;
        prop_assert_eq!(&back, &v, "emitted:\n{}", text);
        // And the emitter is deterministic.
        prop_assert_eq!(yaml::to_string(&back), text);
    }
}
