//! Micro-benchmarks of strata's hot paths, without a benchmark framework (a
//! framework would slow every CI build for figures read by hand).
//!
//! In: the one-component repository in `benches/fixtures/hotpaths/` (made by
//! `bench/gen.py`), loaded into memory. Out: one line per operation with the
//! median time per operation over several samples, and MB/s where the operation
//! has a natural byte size.
//!
//! `cargo bench --bench hotpaths` measures (about 15 s); `cargo bench --bench
//! hotpaths -- FILTER` only the operations whose name contains FILTER. Without
//! `--bench` (`cargo test --benches`, run by `.ci/run`) every operation runs once
//! as a smoke test.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;
use strata::facade::pipeline::{self, Options};
use strata::facade::render::{Limits, ReadTracker, TargetContext, VersionEnv};
use strata::facade::repo::Repo;
use strata::facade::source::{Fs, MemorySource, SourceInfo};
use strata::facade::values::{Layer, LayerKind, Values};
use strata::facade::yaml;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/fixtures/hotpaths");
const TARGET: &str = "checkout-web/prod/eastus";

struct Bench {
    measure: bool,
    filter: Option<String>,
}

impl Bench {
    /// Times `op`; `bytes` is what one operation processes (0: no MB/s).
    fn run<R>(&self, name: &str, bytes: usize, mut op: impl FnMut() -> R) {
        if self.filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            return;
        }
        if !self.measure {
            black_box(op());
            println!("{name:<28} ok");
            return;
        }
        // Calibrate: enough iterations for a sample of about 50 ms.
        let mut iters = 1u64;
        loop {
            let t = Instant::now();
            for _ in 0..iters {
                black_box(op());
            }
            if t.elapsed() > Duration::from_millis(50) || iters > 1 << 24 {
                break;
            }
            iters *= 2;
        }
        let mut samples: Vec<f64> = (0..15)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..iters {
                    black_box(op());
                }
                t.elapsed().as_nanos() as f64 / iters as f64
            })
            .collect();
        samples.sort_by(f64::total_cmp);
        let median = samples[samples.len() / 2];
        let spread = (samples[samples.len() * 3 / 4] - samples[samples.len() / 4]) / median * 100.0;
        let rate = if bytes > 0 { format!("{:>9.1} MB/s", bytes as f64 / median * 1e3) } else { String::new() };
        println!("{name:<28} {:>12} ns/op  ±{spread:>4.1}%  {rate}", format_ns(median));
    }
}

fn format_ns(ns: f64) -> String {
    let s = format!("{:.0}", ns);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push('_');
        }
        out.push(c);
    }
    out
}

/// Loads a directory tree (files and symbolic links) into a memory source.
fn load(dir: &Path, rel: &str, m: &mut MemorySource) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("fixture directory").map(|e| e.expect("entry")).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
        let ft = e.file_type().expect("file type");
        if ft.is_symlink() {
            m.link(&path, &std::fs::read_link(e.path()).expect("link").to_string_lossy());
        } else if ft.is_dir() {
            load(&e.path(), &path, m);
        } else {
            m.file(&path, &std::fs::read_to_string(e.path()).expect("fixture file"));
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bench = Bench {
        measure: args.iter().any(|a| a == "--bench"),
        filter: args.iter().find(|a| !a.starts_with("--")).cloned(),
    };
    let mut mem = MemorySource::new();
    load(Path::new(FIXTURE), "", &mut mem);
    let fs = Fs::new(Arc::new(mem));
    let repo = Repo::load(fs.clone()).expect("fixture repository loads");
    let targets = repo.select(&[TARGET.to_string()]).expect("fixture target");
    let opts = Options::default();
    let target = targets[0].clone();

    // The rendered documents, ten copies: the stream the YAML benchmarks read and write.
    let compiled = pipeline::compile(&repo, &targets, &opts).expect("fixture compiles");
    let docs: Vec<Value> = (0..10).flat_map(|_| compiled.resources().map(|(_, r)| r.body.clone())).collect();
    let mut stream = String::new();
    for d in &docs {
        stream.push_str("---\n");
        yaml::write_document(&mut stream, d);
    }
    println!("# {} documents, {} bytes of YAML per operation on streams", docs.len(), stream.len());
    // The fast reader reads rendered output, and reads it as yaml_serde does.
    assert!(strata::facade::yaml::block::parse_stream(&stream).is_some(), "the block reader declined rendered output");
    assert_eq!(yaml::parse_documents(&stream).expect("parses"), yaml::parse_documents_slow(&stream).expect("parses"));

    bench.run("yaml/parse (strata)", stream.len(), || yaml::parse_documents(&stream).expect("parses"));
    bench.run("yaml/emit (strata)", stream.len(), || {
        let mut out = String::with_capacity(stream.len());
        for d in &docs {
            out.push_str("---\n");
            yaml::write_document(&mut out, d);
        }
        out
    });
    bench.run("yaml/parse (yaml_serde)", stream.len(), || {
        serde_yaml::Deserializer::from_str(&stream).map(|d| Value::deserialize(d).expect("parses")).collect::<Vec<_>>()
    });
    bench.run("yaml/emit (yaml_serde)", stream.len(), || {
        let mut out = String::with_capacity(stream.len());
        for d in &docs {
            out.push_str("---\n");
            out.push_str(&serde_yaml::to_string(d).expect("emits"));
        }
        out
    });

    // Values: the layers of the fixture target, merged.
    let version = VersionEnv::load(&fs, &target.version_dir, Limits::default()).expect("version loads");
    let mut layers = vec![layer(LayerKind::Defaults, version.defaults.clone())];
    layers.push(layer(
        LayerKind::Repo,
        Arc::new(repo.config.environments["prod/eastus"].values.clone().expect("env values")),
    ));
    for p in [
        "checkout-web/parameters.yaml",
        "checkout-web/prod/parameters.yaml",
        "checkout-web/prod/eastus/parameters.yaml",
    ] {
        let text = fs.read_string(p).expect("parameters");
        layers.push(layer(LayerKind::Parameters, Arc::new(yaml::parse_one(&text).expect("parameters parse"))));
    }
    bench.run("values/merge (5 layers)", 0, || Values::merge(layers.clone()));
    let values_text = fs.read_string(&format!("{}/values.yaml", target.version_dir)).expect("values.yaml");
    bench.run("values/parse values.yaml", values_text.len(), || yaml::parse_one(&values_text).expect("parses"));

    // Templates: compile a version once; render it for one target.
    bench.run("render/load version", 0, || {
        VersionEnv::load(&fs, &target.version_dir, Limits::default()).expect("loads")
    });
    let merged = Arc::new(Values::merge(layers.clone()).merged);
    let info = SourceInfo::default();
    let address = format!("{TARGET} (version {})", target.version);
    let context = || TargetContext {
        values: merged.clone(),
        tracker: Arc::new(ReadTracker::default()),
        release_name: &target.component,
        namespace: "catalog",
        component: &target.component,
        version: &target.version,
        target_name: "eastus",
        environment: &target.environment,
        target_path: &target.dir,
        repo: &info,
        kube_version: "1.33.0",
        address: &address,
    };
    bench.run("render/one target", 0, || version.render(&context()).expect("renders"));
    bench.run("pipeline/compile one target", 0, || pipeline::compile(&repo, &targets, &opts).expect("compiles"));

    // Patches: the target's kustomization.yaml (a strategic merge and a JSON 6902 patch).
    let rendered = version.render(&context()).expect("renders").resources;
    bench.run("patch/load kustomization", 0, || strata::facade::patch::load(&fs, &target.dir).expect("loads"));
    let k = strata::facade::patch::load(&fs, &target.dir).expect("loads").expect("the fixture target has one");
    let apply = strata::facade::patch::ApplyOptions { default_namespace: Some("catalog".into()) };
    bench.run("patch/apply kustomization", 0, || {
        strata::facade::patch::apply(rendered.clone(), &k, &apply).expect("applies")
    });

    // Ordering: one environment of 200 objects (the fixture target, 40 times over).
    let mut many = compiled.batch.clone();
    let one = many.targets[0].clone();
    many.targets = (0..40)
        .map(|i| {
            let mut t = one.clone();
            t.target.component = format!("c{i:02}");
            t
        })
        .collect();
    let graph = strata::facade::order::ComponentGraph::new(
        many.targets.iter().map(|t| (t.target.component.clone(), Vec::new())),
    )
    .expect("no cycle");
    bench.run("order/plan 200 objects", 0, || strata::facade::order::plan(&graph, &many).expect("orders"));
}

fn layer(kind: LayerKind, data: Arc<Value>) -> Layer {
    Layer { kind, origin: Arc::from("bench"), text: None, prefix: vec![], data }
}
