//! Checks eastest's own code page table against the MS-ASWBXML reference
//! table kept beside the project (`../shared/reference/wbxml-codepages.tsv`,
//! or the file named by `EASTEST_REFERENCE_TSV`).
//!
//! The reference is a development resource, not shipped with the crate, so
//! this test is ignored by default and run by `.ci/run` with `--ignored`.

use std::path::PathBuf;

use eastest::wbxml::{ProtocolVersion, VersionSet, code_page, code_pages};

fn reference_path() -> PathBuf {
    std::env::var_os("EASTEST_REFERENCE_TSV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/reference/wbxml-codepages.tsv")
        })
}

fn parse_versions(s: &str) -> VersionSet {
    if s.trim() == "All" {
        return VersionSet::ALL;
    }
    s.split(',').fold(VersionSet::EMPTY, |set, v| {
        let v: ProtocolVersion = v.trim().parse().expect("reference version");
        set.union(VersionSet::from_bits(v.bit()))
    })
}

#[test]
#[ignore = "needs the MS-ASWBXML reference table (../shared/reference or EASTEST_REFERENCE_TSV); .ci/run runs it"]
fn table_matches_reference() {
    let path = reference_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the reference table {}: {e}; set EASTEST_REFERENCE_TSV",
            path.display()
        )
    });
    let mut rows = 0;
    for (n, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 5, "line {}: {line}", n + 1);
        let page: u8 = cols[0].parse().unwrap();
        let token = u8::from_str_radix(cols[2].trim_start_matches("0x"), 16).unwrap();
        let cp = code_page(page).unwrap_or_else(|| panic!("line {}: page {page} missing", n + 1));
        assert_eq!(cp.namespace, cols[1], "line {}", n + 1);
        let tag = cp.tag(token).unwrap_or_else(|| {
            panic!(
                "line {}: {}:{} (0x{token:02X}) missing",
                n + 1,
                cols[1],
                cols[3]
            )
        });
        assert_eq!(tag.name, cols[3], "line {}", n + 1);
        assert_eq!(
            tag.versions,
            parse_versions(cols[4]),
            "line {}: {}",
            n + 1,
            cols[3]
        );
        rows += 1;
    }
    let ours: usize = code_pages().iter().map(|p| p.tags.len()).sum();
    assert_eq!(
        rows, ours,
        "the reference and eastest's table differ in size"
    );
}
