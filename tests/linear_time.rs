//! Every parser strata runs accepts or refuses any input in time linear in its
//! size (issue 17): pathological inputs of growing size are timed, and doubling
//! an input may at most triple the time.
//!
//! The parsers: YAML through `yaml::parse_documents` (values files, `parameters.yaml`,
//! templates' output, kustomize resources and patches all go through it, the fast
//! block reader first, then `yaml_serde`), typed files (a `kustomization.yaml`),
//! `--set` expressions, and `values.schema.json` (JSON, compiled with its `$ref`s).
//! The shapes: flow and block nesting (within the limit, and far beyond it, which
//! must be refused early), long lines, many documents, many keys, long anchor
//! chains.
//!
//! Timing on a shared, loaded machine: each input is timed as the minimum of a few
//! runs, sizes start where a run takes milliseconds, and the ratio is taken between
//! neighbouring sizes of one run of the test. A quadratic parser doubles to 4×.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use strata::facade::source::{Fs, MemorySource};
use strata::facade::yaml;

/// Doubling an input may multiply its time by at most this.
const MAX_RATIO: f64 = 3.0;
/// Below this, a timing is mostly noise; the ratio is taken against this floor.
const FLOOR: Duration = Duration::from_millis(5);

/// The fastest of a few runs of `f` over `input`.
fn time(input: &str, f: &dyn Fn(&str)) -> Duration {
    (0..5)
        .map(|_| {
            let start = Instant::now();
            f(input);
            start.elapsed()
        })
        .min()
        .expect("five runs")
}

/// The timed tests run one at a time, so that they do not slow each other down.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Times `make(n)` for `n`, `2n`, `4n`, `8n` and fails when a doubling more than
/// triples the time, taken over the whole span (the time of `8n` over the time of `n`,
/// scaled to the exact size ratio, at most `MAX_RATIO`³ = 27; linear is 8, quadratic 64),
/// so that one step slowed by a burst of load or a cache boundary is not a failure. A
/// doubling over the ratio is timed again (three times at most, keeping the fastest runs).
fn assert_linear(name: &str, n: usize, make: &dyn Fn(usize) -> String, f: &dyn Fn(&str)) {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let inputs: Vec<String> = (0..4).map(|i| make(n << i)).collect();
    let mut times: Vec<Duration> = inputs.iter().map(|input| time(input, f)).collect();
    let ratio = |times: &[Duration], i: usize| times[i + 1].as_secs_f64() / times[i].max(FLOOR).as_secs_f64();
    for i in 0..times.len() - 1 {
        for _ in 0..3 {
            if ratio(&times, i) <= MAX_RATIO {
                break;
            }
            times[i] = times[i].min(time(&inputs[i], f));
            times[i + 1] = times[i + 1].min(time(&inputs[i + 1], f));
        }
    }
    let report: Vec<String> =
        inputs.iter().zip(&times).map(|(i, t)| format!("{} bytes: {:.1} ms", i.len(), t.as_secs_f64() * 1e3)).collect();
    let last = times.len() - 1;
    let doublings = (inputs[last].len() as f64 / inputs[0].len() as f64).log2();
    let span = times[last].as_secs_f64() / times[0].max(FLOOR).as_secs_f64();
    let per_doubling = span.powf(1.0 / doublings);
    assert!(
        per_doubling <= MAX_RATIO,
        "{name}: doubling the input took {per_doubling:.1}× as long (over {doublings:.1} doublings)\n{}",
        report.join("\n")
    );
    eprintln!("{name}: {}", report.join(", "));
}

/// The YAML parser every stage uses; refusals are fine, panics are not.
fn parse(text: &str) {
    let _ = yaml::parse_documents(text);
}

fn refused(text: &str) {
    let e = yaml::parse_documents(text).expect_err("refused");
    assert!(e.message.contains("nest deeper than"), "{e:?}");
}

#[test]
fn flow_nesting_beyond_the_limit_is_refused_in_linear_time() {
    assert_linear("deep flow", 200_000, &|n| format!("deep: {}{}\n", "[".repeat(n), "]".repeat(n)), &refused);
    assert_linear("deep flow maps", 50_000, &|n| format!("deep: {}1{}\n", "{a: ".repeat(n), "}".repeat(n)), &refused);
    assert_linear("deep json", 20_000, &|n| format!("{}1{}", "{\"a\":\n".repeat(n), "}".repeat(n)), &refused);
}

#[test]
fn flow_nesting_within_the_limit_is_read_in_linear_time() {
    let near_limit = format!("{}1{}", "[".repeat(yaml::MAX_DEPTH - 2), "]".repeat(yaml::MAX_DEPTH - 2));
    assert_linear("many deep flows", 40, &|n| format!("a: [{}]\n", vec![near_limit.as_str(); n].join(", ")), &parse);
}

#[test]
fn block_nesting_is_refused_or_read_in_linear_time() {
    assert_linear("deep compact sequences", 200_000, &|n| format!("{}x\n", "- ".repeat(n)), &refused);
    // Indentation nesting (the text grows with depth squared): documents near the limit, repeated.
    let deep_map: String = (0..100).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
    assert_linear("many deep maps", 20, &|n| format!("{deep_map}---\n").repeat(n), &parse);
    let deep_items: String = (0..100).map(|i| format!("{}- k{i}:\n", "  ".repeat(i))).collect();
    assert_linear("many deep sequences", 20, &|n| format!("{deep_items}---\n").repeat(n), &parse);
}

#[test]
fn long_lines_are_read_in_linear_time() {
    assert_linear("long plain scalar", 250_000, &|n| format!("a: {}\n", "x".repeat(n)), &parse);
    assert_linear("long quoted scalar", 250_000, &|n| format!("a: \"{}\"\n", "x\\t".repeat(n / 3)), &parse);
    assert_linear("long flow list", 20_000, &|n| format!("a: [{}]\n", vec!["1"; n].join(", ")), &parse);
    assert_linear("long folded block", 20_000, &|n| format!("a: >\n{}", "  word word\n".repeat(n)), &parse);
}

#[test]
fn many_documents_and_keys_are_read_in_linear_time() {
    assert_linear("many documents", 5_000, &|n| "---\na: 1\nb: [x, y]\n".repeat(n), &parse);
    assert_linear("many flow documents", 5_000, &|n| "--- {a: 1, b: &x [y]}\n".repeat(n), &parse);
    assert_linear("many keys", 10_000, &|n| (0..n).map(|i| format!("k{i}: {i}\n")).collect(), &parse);
    assert_linear(
        "many flow keys",
        10_000,
        &|n| format!("{{{}}}", (0..n).map(|i| format!("k{i}: {i}")).collect::<Vec<_>>().join(", ")),
        &parse,
    );
    // A duplicate key at the very end, found after every other key.
    assert_linear(
        "duplicate key last",
        10_000,
        &|n| (0..n).map(|i| format!("k{i}: 1\n")).collect::<String>() + "k0: 2\n",
        &parse,
    );
}

#[test]
fn anchor_chains_are_read_in_linear_time() {
    // Each anchor refers to the one before: nested up to the limit, then refused.
    assert_linear(
        "anchor chain",
        8_000,
        &|n| {
            (0..n)
                .map(|i| if i == 0 { "a0: &a0 [x]\n".to_string() } else { format!("a{i}: &a{i} [*a{}]\n", i - 1) })
                .collect()
        },
        &parse,
    );
    // Many anchors, each used many times.
    assert_linear(
        "many aliases",
        2_000,
        &|n| (0..n).map(|i| format!("a{i}: &a{i} {{k: v}}\nb{i}: [*a{i}, *a{i}, *a{i}]\n")).collect(),
        &parse,
    );
}

#[test]
fn kustomizations_set_and_schemas_are_read_in_linear_time() {
    let fs = Fs::new(Arc::new(MemorySource::from_entries(&[])));
    assert_linear(
        "kustomization annotations",
        5_000,
        &|n| format!("commonAnnotations:\n{}", (0..n).map(|i| format!("  k{i}: v{i}\n")).collect::<String>()),
        &|t| {
            strata::facade::patch::kustomization::parse(&fs, "app/east", "app/east/kustomization.yaml", t)
                .expect("reads");
        },
    );
    assert_linear(
        "--set assignments",
        5_000,
        &|n| (0..n).map(|i| format!("k{i}.a[1]=x{i}")).collect::<Vec<_>>().join(","),
        &|t| {
            strata::facade::values::set::parse(t, true).expect("parses");
        },
    );
    assert_linear("--set deep key", 50_000, &|n| format!("{}x=1", "a.".repeat(n)), &|t| {
        strata::facade::values::set::parse(t, true).expect_err("too deep");
    });
    assert_linear(
        "values schema",
        4_000,
        &|n| {
            let props: Vec<String> = (0..n).map(|i| format!("\"p{i}\": {{\"$ref\": \"#/$defs/d\"}}")).collect();
            format!("{{\"$defs\": {{\"d\": {{\"type\": \"integer\"}}}}, \"properties\": {{{}}}}}", props.join(", "))
        },
        &|t| {
            let schema: serde_json::Value = serde_json::from_str(t).expect("JSON");
            strata::facade::values::ValuesSchema::compile(&fs, "app/v1/values.schema.json", &schema, Some(t))
                .expect("compiles");
        },
    );
}

/// The figure: a 1 MB pathological `parameters.yaml` is refused in under
/// 100 ms (the parse alone, in the test's debug build; the release binary is faster).
#[test]
fn a_megabyte_of_nesting_is_refused_in_under_100_ms() {
    let n = 500_000;
    let text = format!("deep: {}{}\n", "[".repeat(n), "]".repeat(n));
    assert!(text.len() > 1_000_000);
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let t = time(&text, &|t| {
        let e = strata::facade::values::parse_values_file(t, "app/east/parameters.yaml").expect_err("refused");
        assert!(e.message.contains("nest deeper than 128 levels"), "{}", e.message);
        assert_eq!(e.pos.map(|p| (p.line, p.col)), Some((1, 134)));
    });
    assert!(t < Duration::from_millis(100), "took {t:?}");
}
