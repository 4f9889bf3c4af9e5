//! The floor of `bench/run.py`: what reading, parsing and writing the same bytes
//! costs with the YAML library strata uses, and nothing else.
//!
//! In: multi-document YAML files (strata's output). Out, by mode:
//! - `parse-emit --out FILE IN...`: every document parsed with `yaml_serde` into a
//!   `serde_json::Value` and emitted again with `yaml_serde`, single-threaded, to
//!   FILE; prints `docs bytes_in bytes_out seconds` on stdout.
//! - `to-json IN`: the documents as one JSON array on stdout (empty documents
//!   dropped), so that the benchmark can compare strata's objects with kustomize's
//!   without trusting strata's own parser.
//!
//! It is a `[[bench]]` with `harness = false` only so that it builds with the
//! crate's locked dependencies; `cargo bench` alone runs it with no inputs, and
//! then it does nothing.

use std::io::Write;
use std::time::Instant;

use serde::Deserialize;
use serde_json::Value;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let result = match args.first().map(String::as_str) {
        Some("parse-emit") => parse_emit(&args[1..]),
        Some("to-json") => to_json(&args[1..]),
        None => {
            eprintln!(
                "yaml_floor: nothing to do (bench/run.py drives it: `parse-emit --out FILE IN...` or `to-json IN`)"
            );
            Ok(())
        }
        Some(other) => Err(format!("unknown mode `{other}`; expected `parse-emit` or `to-json`")),
    };
    if let Err(e) = result {
        eprintln!("yaml_floor: {e}");
        std::process::exit(2);
    }
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read `{path}`: {e}"))
}

fn documents(text: &str, path: &str) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let v = Value::deserialize(doc).map_err(|e| format!("`{path}` document {}: {e}", i + 1))?;
        out.push(v);
    }
    Ok(out)
}

fn parse_emit(args: &[String]) -> Result<(), String> {
    let (out_path, inputs) = match args {
        [flag, out, inputs @ ..] if flag == "--out" && !inputs.is_empty() => (out, inputs),
        _ => return Err("usage: yaml_floor parse-emit --out FILE IN...".into()),
    };
    let start = Instant::now();
    let mut out = String::new();
    let (mut docs, mut bytes_in) = (0usize, 0usize);
    for path in inputs {
        let text = read(path)?;
        bytes_in += text.len();
        for v in documents(&text, path)? {
            if v.is_null() {
                continue;
            }
            docs += 1;
            out.push_str("---\n");
            out.push_str(&serde_yaml::to_string(&v).map_err(|e| format!("cannot emit: {e}"))?);
        }
    }
    std::fs::write(out_path, &out).map_err(|e| format!("cannot write `{out_path}`: {e}"))?;
    let secs = start.elapsed().as_secs_f64();
    println!("{docs} {bytes_in} {} {secs:.6}", out.len());
    Ok(())
}

fn to_json(args: &[String]) -> Result<(), String> {
    let [path] = args else { return Err("usage: yaml_floor to-json IN".into()) };
    let text = read(path)?;
    let docs: Vec<Value> = documents(&text, path)?.into_iter().filter(|v| !v.is_null()).collect();
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer(&mut stdout, &docs).map_err(|e| e.to_string())?;
    stdout.write_all(b"\n").map_err(|e| e.to_string())
}
