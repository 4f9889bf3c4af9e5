use super::*;
use crate::rollout::risks::RiskKind;

fn wave(name: &str, targets: usize, risks: usize) -> WavePlan {
    let risk = |i: usize| Risk {
        kind: RiskKind::Deletion,
        target: format!("c{i}/{name}"),
        object: format!("ConfigMap/shop/config-{i}"),
        field: "metadata.name".into(),
        message: format!("ConfigMap `config-{i}` is deleted"),
        remedy: "keep it".into(),
    };
    WavePlan {
        name: name.into(),
        pause: Some(Pause::Manual(true)),
        max_update: Some(MaxUpdate::Percent("25%".into())),
        environments: vec![name.into()],
        touched: if targets > 0 { vec![name.into()] } else { vec![] },
        changed_targets: (0..targets).map(|i| (format!("c{i}/{name}"), "v1 → v2".into())).collect(),
        unchanged_targets: 1,
        kinds: BTreeMap::new(),
        counts: Counts { removed: risks, ..Counts::default() },
        versions: Vec::new(),
        images: Vec::new(),
        risks: (0..risks).map(risk).collect(),
        cumulative: Blast::default(),
    }
}

fn plan(waves: Vec<WavePlan>) -> Plan {
    Plan { before: Side::default(), after: Side::default(), environments: waves.len(), objects: 0, waves }
}

#[test]
fn waves_without_change_say_so() {
    let p = plan(vec![wave("staging", 0, 0), wave("canary", 1, 1)]);
    let text = text::render(&p);
    assert!(text.contains("wave 1/2: staging (pause: until resumed, maxUpdate: 25%)\n  environments: staging\n  no change (1 targets unchanged)"), "{text}");
    assert!(text.contains("! deletion: c0/canary ConfigMap/shop/config-0 `metadata.name`"), "{text}");
    let md = markdown::render(&p, markdown::MAX_CHARS, "strata rollout plan --from HEAD~1");
    assert!(md.contains("No change in staging") && !md.contains("were cut"), "{md}");
}

#[test]
fn markdown_stays_under_its_limit_and_says_what_was_cut() {
    let p = plan(vec![wave("eastus", 400, 2000)]);
    let full = markdown::render(&p, usize::MAX, "x");
    assert!(full.len() > markdown::MAX_CHARS);
    let md = markdown::render(&p, markdown::MAX_CHARS, "strata rollout plan --from v1");
    assert!(md.len() <= markdown::MAX_CHARS, "{}", md.len());
    assert!(md.contains("list lines were cut") && md.contains("run `strata rollout plan --from v1`"), "{md}");
    assert!(md.contains("- … and "), "{md}");
}

#[test]
fn percent_rounds_down() {
    assert_eq!(
        (percent(1, 3), percent(3, 3), percent(0, 0)),
        ("33%".to_string(), "100%".to_string(), "0%".to_string())
    );
}

#[test]
fn json_lists_every_wave() {
    let p = plan(vec![wave("staging", 0, 0), wave("canary", 1, 1)]);
    let v: serde_json::Value = serde_json::from_str(&json::render(&p)).unwrap();
    assert_eq!(v["waves"][1]["risks"][0]["kind"], "deletion");
    assert_eq!(v["waves"][0]["changes"], false);
    assert_eq!(v["waves"][1]["maxUpdate"], "25%");
    assert_eq!(v["waves"][1]["pause"], true);
}
