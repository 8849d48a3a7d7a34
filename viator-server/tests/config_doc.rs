//! docs/CONFIG.md's option table says, for every option, whether Viator
//! honours it; this keeps that column equal to the option table's
//! `implemented` flag, both ways.

use std::collections::BTreeMap;

use viator_server::config::OPTIONS;

#[test]
fn config_doc_lists_every_option_with_its_status() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/CONFIG.md"))
        .expect("docs/CONFIG.md");
    let mut documented: BTreeMap<String, bool> = BTreeMap::new();
    for line in doc.lines() {
        let Some(rest) = line.strip_prefix("| `") else {
            continue;
        };
        let Some(end) = rest.find('`') else { continue };
        let name = rest[..end].to_string();
        let cells: Vec<&str> = line.split('|').collect();
        let last = cells.get(cells.len().saturating_sub(2)).map(|c| c.trim());
        let implemented = match last {
            Some("yes") => true,
            Some("") => false,
            other => panic!("row for {name}: implemented column is {other:?}"),
        };
        assert!(
            documented.insert(name.clone(), implemented).is_none(),
            "{name} is listed twice"
        );
    }
    for def in OPTIONS {
        match documented.remove(def.name) {
            Some(doc) => assert_eq!(
                doc,
                def.implemented,
                "docs/CONFIG.md says {} is {}implemented",
                def.name,
                if doc { "" } else { "not " }
            ),
            None => panic!("docs/CONFIG.md has no row for {}", def.name),
        }
    }
    assert!(
        documented.is_empty(),
        "docs/CONFIG.md lists options the table does not have: {:?}",
        documented.keys().collect::<Vec<_>>()
    );
}
